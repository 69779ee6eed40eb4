// As the service (main.ts): timestamps are written and read in UTC.
process.env.TZ = 'UTC';

import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { CommandFactory } from 'nest-commander';
import { validateEnvironment } from '../config/env.validation.js';
import { CliModule } from './cli.module.js';
import { EXIT, type ExitStatus, failureOf } from './cli-error.js';
import { CliLogger } from './cli-logger.js';

/**
 * The admin CLI: `npm run iam -- <command>` (README, "Admin CLI"). It reads and checks the environment exactly as the
 * service does, runs one command, closes the database and exits: 0 when done, otherwise a status of EXIT with one
 * line on stderr (a stack trace only for what nobody expected).
 */
async function main(): Promise<ExitStatus> {
  if (existsSync('.env')) {
    process.loadEnvFile('.env');
  }
  validateEnvironment(process.env);
  let failure: unknown;
  // Runs the command, then closes the application (and with it the IAM's modules, IamContext) however it ended.
  await CommandFactory.run(CliModule, {
    logger: new CliLogger(),
    abortOnError: false,
    // Usage errors and --help (commander has printed them) end the parse instead of the process.
    errorHandler: (error) => {
      throw error;
    },
    serviceErrorHandler: (error) => {
      failure = error;
    },
  });
  return failure === undefined ? EXIT.ok : report(failure);
}

function report(error: unknown): ExitStatus {
  const { exitStatus, message, stack } = failureOf(error);
  if (message !== undefined) {
    process.stderr.write(`error: ${message}\n`);
  }
  if (stack !== undefined) {
    process.stderr.write(`${stack}\n`);
  }
  return exitStatus;
}

/** Exits once stdout and stderr have taken everything (a handle left open, a paused stdin, must not keep it alive). */
function exit(status: ExitStatus): void {
  process.exitCode = status;
  process.stdout.write('', () => process.stderr.write('', () => process.exit(status)));
}

main().then(exit, (error: unknown) => exit(report(error)));
