import { registerAs } from '@nestjs/config';
import { parseOriginList } from '../common/cross-origin.js';
import { validateEnvironment } from './env.validation.js';

export interface AppConfig {
  port: number;
  host?: string;
  bodyLimit: string;
  /** Express `trust proxy`: a hop count or proxy addresses/subnets; never `true` (see env.validation.ts). */
  trustProxy?: number | string;
  logLevel: string;
  /** Origins (as browsers send them) allowed cross-origin requests with credentials (CORS); none when unset. */
  allowedOrigins?: string[];
  /** On SIGTERM, how long requests in flight may take (absent: the default of SHUTDOWN_TIMEOUT_SECONDS). */
  shutdownTimeoutSeconds?: number;
  /** Serve Swagger UI at /docs and the document at /docs-json and /docs-yaml (IAM_SWAGGER, default true). */
  swagger?: boolean;
}

/** A hop count, or the list of proxy addresses/subnets as Express takes it (env validation refused `true`). */
function parseTrustProxy(value: string | undefined): number | string | undefined {
  if (value === undefined) {
    return undefined;
  }
  return /^\d+$/.test(value.trim()) ? Number(value.trim()) : value;
}

export const appConfig = registerAs('app', (): AppConfig => {
  const env = validateEnvironment(process.env);
  return {
    port: env.PORT,
    host: env.HOST,
    bodyLimit: env.BODY_LIMIT,
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    logLevel: env.LOG_LEVEL,
    allowedOrigins: parseOriginList(env.IAM_ALLOWED_ORIGINS),
    shutdownTimeoutSeconds: env.SHUTDOWN_TIMEOUT_SECONDS,
    swagger: env.IAM_SWAGGER,
  };
});
