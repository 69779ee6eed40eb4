import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import cors from 'cors';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { IAM_HTTP_CONFIG, type IamHttpConfig } from '../iam.options.js';

/** How long a browser may keep a preflight answer, in seconds. */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/**
 * CORS for the API routes, off unless IAM_ALLOWED_ORIGINS is set. Then a request (preflight included) from one
 * of those origins is answered with `Access-Control-Allow-Origin: <that origin>` and
 * `Access-Control-Allow-Credentials: true`; from any other origin it gets no CORS header at all, as when CORS
 * is off, and the browser keeps the answer from the page.
 */
@Injectable()
export class CorsMiddleware implements NestMiddleware {
  private readonly allowedOrigins: ReadonlySet<string>;
  private readonly cors: RequestHandler;

  constructor(@Inject(IAM_HTTP_CONFIG) config: IamHttpConfig) {
    this.allowedOrigins = new Set(config.allowedOrigins ?? []);
    this.cors = cors({
      origin: true, // reflects the request's Origin: use() calls this for allowed origins only
      credentials: true,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type', 'X-Request-Id'],
      exposedHeaders: ['X-Request-Id', 'Retry-After', 'WWW-Authenticate'],
      maxAge: PREFLIGHT_MAX_AGE_SECONDS,
    });
  }

  use(req: Request, res: Response, next: NextFunction): void {
    if (this.allowedOrigins.size === 0) {
      next();
      return;
    }
    // The answer depends on Origin, whether or not this one is allowed: caches must keep them apart.
    res.vary('Origin');
    const origin = req.headers.origin;
    if (origin === undefined || !this.allowedOrigins.has(origin)) {
      next();
      return;
    }
    this.cors(req, res, next);
  }
}
