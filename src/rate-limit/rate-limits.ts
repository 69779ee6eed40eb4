import { applyDecorators, type ExecutionContext, SetMetadata, UseGuards } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiTooManyRequestsResponse } from '@nestjs/swagger';
import type { ThrottlerOptions } from '@nestjs/throttler';
import type { Request } from 'express';
import type { Principal } from '../auth/principal.js';
import { ErrorResponseDto } from '../common/dto/error-response.dto.js';
import type { AuthConfig } from '../config/auth.config.js';
import { userNameKey } from '../users/users.service.js';
import { RateLimitGuard } from './rate-limit.guard.js';

/** The named limits (throttlers) a route can be subject to. */
export type RateLimitName = 'login-address' | 'login-user' | 'password-change';

const RATE_LIMITS_KEY = 'iam:rate-limits';
const reflector = new Reflector();

/** The limits a route named with @RateLimit(); a throttler applies only to the routes that name it. */
const namedBy = (context: ExecutionContext): RateLimitName[] =>
  reflector.getAllAndOverride<RateLimitName[] | undefined>(RATE_LIMITS_KEY, [
    context.getHandler(),
    context.getClass(),
  ]) ?? [];

/** The user name of a sign-in body, lower-cased as names are compared; undefined when there is none. */
const signInName = (req: Request): string | undefined => {
  const username: unknown = (req.body as Record<string, unknown> | undefined)?.username;
  return typeof username === 'string' ? userNameKey(username) : undefined;
};

/**
 * The throttlers, each counting in a window of IAM_LOGIN_RATE_WINDOW_SECONDS: sign-in attempts per client
 * address and per user name, and password changes per signed-in user. Keys are SHA-256 digests (the
 * throttler's), so no user name is stored in clear.
 */
export function rateLimitThrottlers(config: AuthConfig): ThrottlerOptions[] {
  const ttl = config.loginRateWindowSeconds * 1000;
  const limit = config.loginRateLimit;
  const only = (name: RateLimitName, skip?: (context: ExecutionContext) => boolean) => ({
    name,
    limit,
    ttl,
    skipIf: (context: ExecutionContext) => !namedBy(context).includes(name) || (skip?.(context) ?? false),
  });
  return [
    only('login-address'),
    {
      ...only('login-user', (context) => signInName(context.switchToHttp().getRequest<Request>()) === undefined),
      // A body without a string username is a 400 anyway; it is counted per address only.
      getTracker: (req: Record<string, unknown>) => signInName(req as unknown as Request) ?? '',
    },
    {
      ...only('password-change'),
      getTracker: (req: Record<string, unknown>) => (req.user as Principal).id,
    },
  ];
}

/**
 * Limits the route with the named throttlers (429 with Retry-After beyond them). The guard runs after the
 * global authentication guard, so a per-user limit knows the caller.
 */
export const RateLimit = (...names: RateLimitName[]) =>
  applyDecorators(
    SetMetadata(RATE_LIMITS_KEY, names),
    UseGuards(RateLimitGuard),
    ApiTooManyRequestsResponse({
      description: `Too many requests (${names.join(', ')}); Retry-After says when to try again`,
      type: ErrorResponseDto,
    }),
  );
