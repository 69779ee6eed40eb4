import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { ApiError } from '../common/api-error.js';
import { crossOriginRefusal } from '../common/cross-origin.js';
import { appConfig, type AppConfig } from '../config/app.config.js';

/**
 * Global guard (APP_GUARD, before AuthenticationGuard): refuses, with a 403, a state-changing request that a
 * page of another site made a browser send with the user's session cookie (see crossOriginRefusal). It
 * covers public routes too (POST /login: no signing a victim in to an attacker's account), and runs before
 * any credential is looked up or any handler starts. Requests with an Authorization header are left to
 * AuthenticationGuard: only a valid bearer token passes there, and a page cannot send one cross-site.
 */
@Injectable()
export class CrossOriginGuard implements CanActivate {
  private readonly allowedOrigins: ReadonlySet<string>;

  constructor(@Inject(appConfig.KEY) config: AppConfig) {
    this.allowedOrigins = new Set(config.allowedOrigins ?? []);
  }

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    if (req.headers.authorization !== undefined) {
      return true;
    }
    const refusal = crossOriginRefusal(req, this.allowedOrigins);
    if (refusal !== null) {
      throw ApiError.forbidden(refusal);
    }
    return true;
  }
}
