import { registerAs } from '@nestjs/config';
import { EnvironmentVariables, validateEnvironment } from './env.validation.js';

export interface DatabaseConfig {
  /** `sqlite:<path>` or `postgres://…`. */
  url: string;
  logging?: boolean;
  /** PostgreSQL: the schema that holds the IAM's tables and its migrations table (search_path); `public` when absent. */
  schema?: string;
  /** PostgreSQL: connect and pool-acquire timeout. Absent: the default of DATABASE_CONNECT_TIMEOUT_MS. */
  connectTimeoutMs?: number;
  /** PostgreSQL: server-side statement timeout (the client-side one is a second longer). */
  statementTimeoutMs?: number;
  /** SQLite: busy timeout. */
  busyTimeoutMs?: number;
  /** Connection attempts at start-up, and the pause between them (main.ts). */
  startupAttempts?: number;
  startupRetryMs?: number;
}

export const DEFAULT_DATABASE_URL = 'sqlite:data/iam.sqlite';

const defaults = new EnvironmentVariables();

/** The timeouts of a DatabaseConfig, with the defaults of the environment schema for those it leaves out. */
export function databaseTimeouts(
  config: DatabaseConfig,
): Required<Pick<DatabaseConfig, 'connectTimeoutMs' | 'statementTimeoutMs' | 'busyTimeoutMs'>> {
  return {
    connectTimeoutMs: config.connectTimeoutMs ?? defaults.DATABASE_CONNECT_TIMEOUT_MS,
    statementTimeoutMs: config.statementTimeoutMs ?? defaults.DATABASE_STATEMENT_TIMEOUT_MS,
    busyTimeoutMs: config.busyTimeoutMs ?? defaults.DATABASE_BUSY_TIMEOUT_MS,
  };
}

export const databaseConfig = registerAs('database', (): DatabaseConfig => {
  const env = validateEnvironment(process.env);
  return {
    url: env.DATABASE_URL ?? DEFAULT_DATABASE_URL,
    logging: env.DATABASE_LOGGING,
    connectTimeoutMs: env.DATABASE_CONNECT_TIMEOUT_MS,
    statementTimeoutMs: env.DATABASE_STATEMENT_TIMEOUT_MS,
    busyTimeoutMs: env.DATABASE_BUSY_TIMEOUT_MS,
    startupAttempts: env.DATABASE_STARTUP_ATTEMPTS,
    startupRetryMs: env.DATABASE_STARTUP_RETRY_MS,
  };
});
