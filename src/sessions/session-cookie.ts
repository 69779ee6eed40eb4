import type { CookieOptions } from 'express';
import type { AuthConfig } from '../config/auth.config.js';

export { SESSION_COOKIE } from '../auth/session-cookie.strategy.js';

/** HttpOnly, SameSite=Lax, Secure unless IAM_SESSION_COOKIE_SECURE=false (plain-HTTP development). */
export function sessionCookieOptions(config: AuthConfig, expiresAt?: Date): CookieOptions {
  return {
    httpOnly: true,
    sameSite: 'lax',
    secure: config.sessionCookieSecure,
    path: '/',
    ...(expiresAt ? { expires: expiresAt } : {}),
  };
}
