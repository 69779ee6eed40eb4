import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { IAM_HTTP_CONFIG, type IamHttpConfig } from '../iam.options.js';
import { ApiError } from './api-error.js';
import { crossOriginRefusal } from './cross-origin.js';

/**
 * Refuses, with a 403, a state-changing request that a page of another site made a browser send with the
 * user's session cookie (see crossOriginRefusal). Bound to the API routes ahead of cookie and body parsing, so
 * it answers the same whatever the body (empty, a form, text) and before any credential is looked up, any
 * rate limit counts or any handler starts; POST /login included (no signing a victim in to an attacker's
 * account). Requests with an Authorization header are left to AuthenticationGuard: only a valid bearer token
 * passes there, and a page cannot send one cross-site.
 */
@Injectable()
export class CrossOriginMiddleware implements NestMiddleware {
  private readonly allowedOrigins: ReadonlySet<string>;

  constructor(@Inject(IAM_HTTP_CONFIG) config: IamHttpConfig) {
    this.allowedOrigins = new Set(config.allowedOrigins ?? []);
  }

  use(req: Request, _res: Response, next: NextFunction): void {
    if (req.headers.authorization === undefined) {
      const refusal = crossOriginRefusal(req, this.allowedOrigins);
      if (refusal !== null) {
        // Thrown, not passed to next(): that is how a middleware's error reaches the exception filter.
        throw ApiError.forbidden(refusal);
      }
    }
    next();
  }
}
