import { registerAs } from '@nestjs/config';
import { validateEnvironment } from './env.validation.js';

export interface AppConfig {
  port: number;
  host?: string;
  bodyLimit: string;
  trustProxy?: boolean | number | string;
  logLevel: string;
  /** On SIGTERM, how long requests in flight may take (absent: the default of SHUTDOWN_TIMEOUT_SECONDS). */
  shutdownTimeoutSeconds?: number;
}

function parseTrustProxy(value: string | undefined): boolean | number | string | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (value === 'true' || value === 'false') {
    return value === 'true';
  }
  return /^\d+$/.test(value) ? Number(value) : value;
}

export const appConfig = registerAs('app', (): AppConfig => {
  const env = validateEnvironment(process.env);
  return {
    port: env.PORT,
    host: env.HOST,
    bodyLimit: env.BODY_LIMIT,
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    logLevel: env.LOG_LEVEL,
    shutdownTimeoutSeconds: env.SHUTDOWN_TIMEOUT_SECONDS,
  };
});
