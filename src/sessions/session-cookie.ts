import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { CookieOptions, Request } from 'express';
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

/** The session id of the request's `session_id` cookie, when it sent one (checked or not). */
export const PresentedSessionId = createParamDecorator((_data: unknown, ctx: ExecutionContext): string | undefined => {
  const cookies = ctx.switchToHttp().getRequest<Request>().cookies as Record<string, unknown> | undefined;
  const value = cookies?.[SESSION_COOKIE];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
});
