import { registerAs } from '@nestjs/config';
import { DEFAULT_SESSION_COOKIE } from '../sessions/session-cookie.js';
import { validateEnvironment } from './env.validation.js';

export interface AuthConfig {
  /** Token of the built-in `admin` service account, when configured. */
  bootstrapToken?: string;
  /** Principal names (users or service accounts) with administrator rights, lower-cased. */
  administrators: string[];
  /** Absolute lifetime of a session. */
  sessionTtlMinutes: number;
  /** A session not used for this long is refused (and removed). */
  sessionIdleMinutes: number;
  sessionCookieName: string;
  sessionCookieSecure: boolean;
  sessionCookieSameSite: 'strict' | 'lax';
  /** When set, service-account tokens must expire, at most this many days ahead. */
  saTokenMaxTtlDays?: number;
  /** Sign-in attempts per client address and per user name, and password changes per user, per window. */
  loginRateLimit: number;
  loginRateWindowSeconds: number;
  /** Failed credential checks (token, session cookie, password) per client address per that window. */
  authFailureLimit: number;
  /** Failed password checks of one account within lockoutMinutes that lock it for lockoutMinutes. */
  lockoutThreshold: number;
  lockoutMinutes: number;
  /** argon2id cost of new hashes; a hash keeps the settings it was made with, so old ones still verify. */
  passwordHash: PasswordHashSettings;
  /** Where the rate-limit counters live: Redis (shared by every instance) when set, each instance's memory when not. */
  redis?: { url: string; keyPrefix: string };
}

export interface PasswordHashSettings {
  memoryKib: number;
  timeCost: number;
  parallelism: number;
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
    sessionIdleMinutes: env.IAM_SESSION_IDLE_MINUTES,
    sessionCookieName: DEFAULT_SESSION_COOKIE,
    sessionCookieSecure: env.IAM_SESSION_COOKIE_SECURE,
    sessionCookieSameSite: 'lax',
    saTokenMaxTtlDays: env.IAM_SA_TOKEN_MAX_TTL_DAYS,
    loginRateLimit: env.IAM_LOGIN_RATE_LIMIT,
    loginRateWindowSeconds: env.IAM_LOGIN_RATE_WINDOW_SECONDS,
    authFailureLimit: env.IAM_AUTH_FAILURE_LIMIT,
    lockoutThreshold: env.IAM_LOCKOUT_THRESHOLD,
    lockoutMinutes: env.IAM_LOCKOUT_MINUTES,
    passwordHash: {
      memoryKib: env.IAM_PASSWORD_HASH_MEMORY_KIB,
      timeCost: env.IAM_PASSWORD_HASH_TIME_COST,
      parallelism: env.IAM_PASSWORD_HASH_PARALLELISM,
    },
    redis: env.REDIS_URL ? { url: env.REDIS_URL, keyPrefix: env.REDIS_KEY_PREFIX } : undefined,
  };
});
