import { setTimeout as sleep } from 'node:timers/promises';
import type { LoggerService } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { DatabaseConfig } from '../config/database.config.js';
import { EnvironmentVariables } from '../config/env.validation.js';
import { buildDataSourceOptions } from './data-source-options.js';
import { isDatabaseUnavailable, unavailabilityReason } from './database-errors.js';

const defaults = new EnvironmentVariables();

/** The database stayed unavailable for every attempt at start-up: main.ts logs it (one line) and exits 1. */
export class DatabaseUnavailableAtStartupError extends Error {
  constructor(
    readonly attempts: number,
    readonly reason: { code?: string; message: string },
  ) {
    super(`Database unavailable (attempt ${attempts} of ${attempts}): ${reason.message}. Giving up.`);
  }
}

/**
 * Start-up: connects to the database and disconnects, up to DATABASE_STARTUP_ATTEMPTS times,
 * DATABASE_STARTUP_RETRY_MS apart, while the failure is one of unavailability (refused, timed out,
 * starting up, …). Each failed attempt is one warning line with its number and reason, no stack. Any
 * other error (bad credentials, unknown database) is thrown at once; so is, after the last attempt,
 * DatabaseUnavailableAtStartupError, which main.ts logs as the last attempt's line before exiting 1.
 */
export async function waitForDatabase(config: DatabaseConfig, logger: LoggerService): Promise<void> {
  const attempts = config.startupAttempts ?? defaults.DATABASE_STARTUP_ATTEMPTS;
  const retryMs = config.startupRetryMs ?? defaults.DATABASE_STARTUP_RETRY_MS;
  for (let attempt = 1; ; attempt++) {
    const dataSource = new DataSource(buildDataSourceOptions(config));
    try {
      await dataSource.initialize();
      await dataSource.destroy();
      if (attempt > 1) {
        logger.log({ attempt }, `Database reachable at attempt ${attempt}`, 'Database');
      }
      return;
    } catch (error) {
      if (dataSource.isInitialized) {
        await dataSource.destroy().catch(() => undefined);
      }
      if (!isDatabaseUnavailable(error)) {
        throw error;
      }
      const reason = unavailabilityReason(error);
      if (attempt >= attempts) {
        throw new DatabaseUnavailableAtStartupError(attempt, reason);
      }
      logger.warn(
        { attempt, attempts, reason, retry_in_ms: retryMs },
        `Database unavailable (attempt ${attempt} of ${attempts}): retrying in ${retryMs} ms`,
        'Database',
      );
      await sleep(retryMs);
    }
  }
}
