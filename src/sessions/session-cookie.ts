import type { CookieOptions, Request } from 'express';
import type { AuthConfig } from '../config/auth.config.js';

/** The session cookie's name unless configured otherwise. */
export const DEFAULT_SESSION_COOKIE = 'session_id';

/** HttpOnly; SameSite and Secure as configured (Lax and Secure unless told otherwise). */
export function sessionCookieOptions(config: AuthConfig, expiresAt?: Date): CookieOptions {
  return {
    httpOnly: true,
    sameSite: config.sessionCookieSameSite,
    secure: config.sessionCookieSecure,
    path: '/',
    ...(expiresAt ? { expires: expiresAt } : {}),
  };
}

/** The session id of the request's session cookie, when it sent one (checked or not). */
export function presentedSessionId(req: Request, config: AuthConfig): string | undefined {
  const value = (req.cookies as Record<string, unknown> | undefined)?.[config.sessionCookieName];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
