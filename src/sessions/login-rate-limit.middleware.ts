import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import { ApiError } from '../common/api-error.js';
import { authConfig, type AuthConfig } from '../config/auth.config.js';

/**
 * Limits sign-in attempts per client address (IAM_LOGIN_RATE_LIMIT per IAM_LOGIN_RATE_WINDOW_SECONDS).
 * express-rate-limit keeps its counters in this process: with several instances, each counts its own.
 * (@nestjs/throttler would be the usual choice, but it is CommonJS requiring ESM Nest, which Jest on
 * Node 20 cannot load.)
 */
@Injectable()
export class LoginRateLimitMiddleware implements NestMiddleware {
  private readonly limiter: RequestHandler;

  constructor(@Inject(authConfig.KEY) config: AuthConfig) {
    this.limiter = rateLimit({
      windowMs: config.loginRateWindowSeconds * 1000,
      limit: config.loginRateLimit,
      standardHeaders: 'draft-7',
      legacyHeaders: false,
      handler: (_req, _res, next) =>
        next(new ApiError(429, 'too_many_requests', 'Too many sign-in attempts from this address: try again later')),
    });
  }

  async use(req: Request, res: Response, next: NextFunction): Promise<void> {
    // Errors reach Nest's exception filter only when thrown from here, not when passed to next().
    await new Promise<void>((resolve, reject) => {
      void this.limiter(req, res, (error?: unknown) =>
        error ? reject(error instanceof Error ? error : new Error('rate limiter failed')) : resolve(),
      );
    });
    next();
  }
}
