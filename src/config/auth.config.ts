import { registerAs } from '@nestjs/config';
import { validateEnvironment } from './env.validation.js';

export interface AuthConfig {
  /** Token of the built-in `admin` service account, when configured. */
  bootstrapToken?: string;
  /** Principal names (users or service accounts) with administrator rights, lower-cased. */
  administrators: string[];
  sessionTtlMinutes: number;
  sessionCookieSecure: boolean;
  /** When set, service-account tokens must expire, at most this many days ahead. */
  saTokenMaxTtlDays?: number;
  loginRateLimit: number;
  loginRateWindowSeconds: number;
}

export const authConfig = registerAs('auth', (): AuthConfig => {
  const env = validateEnvironment(process.env);
  return {
    bootstrapToken: env.IAM_BOOTSTRAP_TOKEN,
    administrators: (env.IAM_ADMINISTRATORS ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase())
      .filter((name) => name.length > 0),
    sessionTtlMinutes: env.IAM_SESSION_TTL_MINUTES,
    sessionCookieSecure: env.IAM_SESSION_COOKIE_SECURE,
    saTokenMaxTtlDays: env.IAM_SA_TOKEN_MAX_TTL_DAYS,
    loginRateLimit: env.IAM_LOGIN_RATE_LIMIT,
    loginRateWindowSeconds: env.IAM_LOGIN_RATE_WINDOW_SECONDS,
  };
});
