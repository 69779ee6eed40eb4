import { ApiError } from '../common/api-error.js';
import { ConfigurationError } from '../config/env.validation.js';
import { isDatabaseUnavailable, unavailabilityReason } from '../database/database-errors.js';
import { PendingMigrationsError } from '../database/database.module.js';
import { IamOptionsError } from '../iam.options.js';

/** The admin CLI's exit statuses (README, "Admin CLI"). */
export const EXIT = {
  /** Done. */
  ok: 0,
  /** Failed unexpectedly: the message comes with its stack trace. */
  failed: 1,
  /** Unknown command or option, missing or extra arguments. */
  usage: 2,
  /** Input the service refuses (what the API answers 400): a bad name, a short password, a bad expiry. */
  invalid: 3,
  /** No such user. */
  notFound: 4,
  /** The name is taken. */
  conflict: 5,
  /** The environment is invalid, or the database is missing or not migrated. */
  configuration: 6,
  /** The database cannot be reached, or is too busy to answer. */
  unavailable: 7,
  /** Interrupted (Ctrl-C at a prompt). */
  interrupted: 130,
} as const;

export type ExitStatus = (typeof EXIT)[keyof typeof EXIT];

/** An expected failure of a command: one line on stderr, and its exit status. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitStatus: ExitStatus,
  ) {
    super(message);
  }
}

export interface Failure {
  exitStatus: ExitStatus;
  /** One line for stderr; none when it has been said already (commander's own usage errors). */
  message?: string;
  /** Only for unexpected failures. */
  stack?: string;
}

/** commander's own errors (usage, --help), told apart without importing commander (nest-commander has its own). */
function isCommanderError(error: unknown): error is Error & { code: string; exitCode: number } {
  const { code, exitCode } = (error ?? {}) as { code?: unknown; exitCode?: unknown };
  return (
    error instanceof Error && typeof code === 'string' && code.startsWith('commander.') && typeof exitCode === 'number'
  );
}

/** `Invalid configuration:\n  - A: …\n  - B: …` as one line. */
export function oneLine(message: string): string {
  const [first = '', ...rest] = message
    .split('\n')
    .map((line) => line.trim().replace(/^- /, ''))
    .filter((line) => line.length > 0);
  return rest.length === 0 ? first : `${first}${first.endsWith(':') ? ' ' : '; '}${rest.join('; ')}`;
}

const STATUS_BY_TYPE: Partial<Record<ApiError['type'], ExitStatus>> = {
  bad_request: EXIT.invalid,
  not_found: EXIT.notFound,
  conflict: EXIT.conflict,
  service_unavailable: EXIT.unavailable,
};

/** What the service said, for a terminal: the fields' own messages rather than "Invalid request: …". */
function describeApiError(error: ApiError): string {
  const fields = error.invalidFields ?? [];
  return fields.length > 0 ? fields.map((field) => field.title).join('; ') : error.title;
}

/** Any error a command (or the start before it) ended with, as the CLI reports it. */
export function failureOf(error: unknown): Failure {
  if (isCommanderError(error)) {
    // commander has printed its message (or the help) already.
    return { exitStatus: error.exitCode === 0 ? EXIT.ok : EXIT.usage };
  }
  if (error instanceof CliError) {
    return { exitStatus: error.exitStatus, message: oneLine(error.message) };
  }
  if (error instanceof PendingMigrationsError) {
    return {
      exitStatus: EXIT.configuration,
      message:
        `the database has ${error.pending} pending migration${error.pending === 1 ? '' : 's'}: ` +
        'run `npm run iam -- migrate` first',
    };
  }
  if (error instanceof ConfigurationError || error instanceof IamOptionsError) {
    return { exitStatus: EXIT.configuration, message: oneLine(error.message) };
  }
  if (error instanceof ApiError) {
    const status = STATUS_BY_TYPE[error.type];
    if (status !== undefined) {
      return { exitStatus: status, message: oneLine(describeApiError(error)) };
    }
  }
  if (isDatabaseUnavailable(error)) {
    const reason = unavailabilityReason(error);
    return {
      exitStatus: EXIT.unavailable,
      message: `the database is unavailable: ${oneLine(reason.message)}${reason.code ? ` (${reason.code})` : ''}`,
    };
  }
  const unexpected = error instanceof Error ? error : new Error(String(error));
  return { exitStatus: EXIT.failed, message: oneLine(unexpected.message), stack: unexpected.stack };
}
