import { plainToInstance, Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, validateSync } from 'class-validator';
import { MinLength } from '../common/validators.js';

const toBoolean = ({ value }: { value: unknown }): unknown => {
  if (typeof value !== 'string') {
    return value;
  }
  const v = value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) {
    return true;
  }
  if (['false', '0', 'no', 'off'].includes(v)) {
    return false;
  }
  return value;
};

const toInt = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value;

/**
 * Every environment variable the service reads. Validated once at start-up: a bad value stops the
 * process with a message naming the variable. Defaults live here and nowhere else.
 */
export class EnvironmentVariables {
  @IsOptional()
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  @IsOptional()
  @IsString()
  HOST?: string;

  /** `sqlite:<path>`, `postgres://…` or `postgresql://…`; unset = SQLite at data/iam.sqlite. */
  @IsOptional()
  @Matches(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/, {
    message: 'DATABASE_URL must be sqlite:<path> or postgres://user:password@host:port/database',
  })
  DATABASE_URL?: string;

  @Transform(toBoolean)
  @IsBoolean()
  DATABASE_LOGGING = false;

  /** PostgreSQL: longest wait for a new connection, and for a free one from the pool. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(600_000)
  DATABASE_CONNECT_TIMEOUT_MS = 5000;

  /** PostgreSQL: statement_timeout on the server; the client gives up on a silent server a second later. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(600_000)
  DATABASE_STATEMENT_TIMEOUT_MS = 5000;

  /** SQLite: how long a statement waits for a lock held by another connection before failing (SQLITE_BUSY). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(600_000)
  DATABASE_BUSY_TIMEOUT_MS = 5000;

  /** Connection attempts at start-up before the service gives up (exit 1). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1000)
  DATABASE_STARTUP_ATTEMPTS = 10;

  /** Pause between those attempts. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(600_000)
  DATABASE_STARTUP_RETRY_MS = 3000;

  /** Token of the built-in `admin` service account; at least 32 characters. */
  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'IAM_BOOTSTRAP_TOKEN must be at least 32 characters' })
  IAM_BOOTSTRAP_TOKEN?: string;

  /** Comma-separated principal names with administrator rights. */
  @IsOptional()
  @IsString()
  IAM_ADMINISTRATORS?: string;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(60 * 24 * 365)
  IAM_SESSION_TTL_MINUTES = 60 * 24;

  @Transform(toBoolean)
  @IsBoolean()
  IAM_SESSION_COOKIE_SECURE = true;

  /** When set, service-account tokens must expire, at most this many days ahead. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(36500)
  IAM_SA_TOKEN_MAX_TTL_DAYS?: number;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  IAM_LOGIN_RATE_LIMIT = 10;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  IAM_LOGIN_RATE_WINDOW_SECONDS = 60;

  @IsString()
  @Matches(/^\d+(b|kb|mb)$/i, { message: 'BODY_LIMIT must look like 100kb or 1mb' })
  BODY_LIMIT = '100kb';

  /** Express "trust proxy" setting: false, true, a hop count, or a list of addresses/subnets. */
  @IsOptional()
  @IsString()
  TRUST_PROXY?: string;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL: string = 'info';

  /** On SIGTERM, how long requests in flight may take before their connections are closed. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(3600)
  SHUTDOWN_TIMEOUT_SECONDS = 10;
}

export class ConfigurationError extends Error {}

export function validateEnvironment(config: Record<string, unknown>): EnvironmentVariables {
  // An empty value (`IAM_BOOTSTRAP_TOKEN=` in a .env file) means "not set".
  const present = Object.fromEntries(Object.entries(config).filter(([, v]) => v !== ''));
  const validated = plainToInstance(EnvironmentVariables, present, { exposeDefaultValues: true });
  const errors = validateSync(validated, { skipMissingProperties: false });
  if (errors.length > 0) {
    const lines = errors.map(
      (e) => `  - ${e.property}: ${Object.values(e.constraints ?? {}).join('; ')} (got ${JSON.stringify(e.value)})`,
    );
    throw new ConfigurationError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return validated;
}
