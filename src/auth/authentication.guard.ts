import { type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { ApiError } from '../common/api-error.js';
import { ACCESS_KEY, type AccessRule } from './access.decorators.js';
import { BEARER_STRATEGY } from './bearer.strategy.js';
import type { Principal } from './principal.js';
import { SESSION_STRATEGY } from './session-cookie.strategy.js';

/**
 * Global guard (APP_GUARD): every route needs a bearer token or a session cookie unless it is marked
 * @Public(). A bearer header wins over a cookie; a bad bearer header is a 401 even with a good cookie.
 */
@Injectable()
export class AuthenticationGuard extends AuthGuard([BEARER_STRATEGY, SESSION_STRATEGY]) {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(context: ExecutionContext) {
    const rule = this.reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (rule?.kind === 'public') {
      return true;
    }
    return super.canActivate(context);
  }

  override handleRequest<T = Principal>(error: unknown, principal: T | false): T {
    if (error instanceof Error) {
      throw error;
    }
    if (!principal) {
      throw ApiError.unauthorised('Authentication required: send a bearer token or a session cookie');
    }
    return principal;
  }
}
