import { QueryFailedError } from 'typeorm';

/** True when a write failed on a unique index (PostgreSQL 23505, SQLite SQLITE_CONSTRAINT_UNIQUE / PRIMARYKEY). */
export function isUniqueViolation(error: unknown): boolean {
  if (!(error instanceof QueryFailedError)) {
    return false;
  }
  const driverError = error.driverError as { code?: string } | undefined;
  const code = driverError?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** True when a write referenced a row that is gone (PostgreSQL 23503, SQLite SQLITE_CONSTRAINT_FOREIGNKEY). */
export function isForeignKeyViolation(error: unknown): boolean {
  if (!(error instanceof QueryFailedError)) {
    return false;
  }
  const code = (error.driverError as { code?: string } | undefined)?.code;
  return code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

/**
 * True when PostgreSQL aborted a transaction that may well succeed if run again: serialization_failure
 * (40001) or deadlock_detected (40P01), its deadlock victim.
 */
export function isTransientTransactionError(error: unknown): boolean {
  if (!(error instanceof QueryFailedError)) {
    return false;
  }
  const code = (error.driverError as { code?: string } | undefined)?.code;
  return code === '40001' || code === '40P01';
}

/**
 * What may be logged of an error: a failed statement keeps its SQL and the driver's code but loses its
 * parameters, which carry password and token hashes.
 */
export function loggableError(error: unknown): unknown {
  if (!(error instanceof QueryFailedError)) {
    return error;
  }
  const code = (error.driverError as { code?: string } | undefined)?.code;
  return { type: error.name, message: error.message, stack: error.stack, query: error.query, code };
}

/** PostgreSQL SQLSTATEs that say the server cannot serve us now, rather than that the request was wrong. */
function isUnavailablePostgresCode(code: string): boolean {
  return (
    code.startsWith('08') || // connection_exception: cannot connect, connection failure, protocol violation
    code.startsWith('53') || // insufficient_resources: too many connections, disk full, out of memory
    code === '57P01' || // admin_shutdown (a fast or immediate stop)
    code === '57P02' || // crash_shutdown
    code === '57P03' || // cannot_connect_now (starting up, shutting down, recovering)
    code === '57014' // query_canceled: statement_timeout fired
  );
}

/** SQLite result codes (better-sqlite3's `code`, extended codes included) of a database we cannot use now. */
const UNAVAILABLE_SQLITE_CODE = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|NOMEM)(_|$)/;

/** Socket errors on the way to the database server. */
const UNAVAILABLE_SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/**
 * What node-postgres and its pool say, without a code, when the server is gone, frozen or slow: the
 * connection dropped or timed out, a query timed out on our side (query_timeout), no pooled connection
 * became free in time, or a client broken by one of those was used again.
 */
const UNAVAILABLE_PG_MESSAGES = [
  /^Connection terminated/, // … unexpectedly, … due to connection timeout
  /^Query read timeout$/,
  /^timeout exceeded when trying to connect$/,
  /^timeout expired$/,
  /^Client has encountered a connection error and is not queryable$/,
  /^Client was closed and is not queryable$/,
  /^Cannot use a pool after calling end on the pool$/,
];

/**
 * True when an error says the database cannot serve the request now (unreachable, shutting down, out of
 * connections, timed out, busy) rather than that the request or the code is wrong: the request is worth
 * retrying later, and is answered 503. Looks through TypeORM's QueryFailedError to the driver's error, and
 * through `cause` and AggregateError's `errors` (a connect to a name with several addresses).
 */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 4) {
    return false;
  }
  const { code, message, driverError, cause, errors } = error as {
    code?: unknown;
    message?: unknown;
    driverError?: unknown;
    cause?: unknown;
    errors?: unknown;
  };
  if (typeof code === 'string') {
    if (/^[0-9A-Z]{5}$/.test(code) && isUnavailablePostgresCode(code)) {
      return true;
    }
    if (UNAVAILABLE_SQLITE_CODE.test(code) || UNAVAILABLE_SOCKET_CODES.has(code)) {
      return true;
    }
  }
  if (typeof message === 'string' && UNAVAILABLE_PG_MESSAGES.some((pattern) => pattern.test(message))) {
    return true;
  }
  const inner = [driverError, cause, ...(Array.isArray(errors) ? (errors as unknown[]) : [])];
  return inner.some((candidate) => candidate !== error && isDatabaseUnavailable(candidate, depth + 1));
}

/** True for a query that node-postgres gave up on (query_timeout): the server may be frozen mid-statement. */
export function isClientQueryTimeout(error: unknown): boolean {
  return error instanceof Error && error.message === 'Query read timeout';
}

/** A short account of why the database is unavailable, fit for one log line: code and message, no stack. */
export function unavailabilityReason(error: unknown): { code?: string; message: string } {
  let current: unknown = error;
  for (let depth = 0; depth < 4; depth++) {
    const inner =
      current instanceof QueryFailedError
        ? (current.driverError as unknown)
        : current instanceof AggregateError && current.errors.length > 0
          ? (current.errors[0] as unknown)
          : undefined;
    if (inner === undefined) {
      break;
    }
    current = inner;
  }
  const code = (current as { code?: unknown } | null)?.code;
  const message = current instanceof Error ? current.message : String(current);
  return { ...(typeof code === 'string' ? { code } : {}), message };
}
