import type { CookieOptions } from 'express';
import type { AuthConfig } from '../config/auth.config.js';

/** The cookie that carries a user's session id. */
export const SESSION_COOKIE = 'session_id';

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
