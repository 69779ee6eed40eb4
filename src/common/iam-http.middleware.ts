import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import cookieParser from 'cookie-parser';
import type { NextFunction, Request, Response } from 'express';
import { IAM_HTTP_CONFIG, type IamHttpConfig } from '../iam.options.js';
import { ApiExceptionFilter } from './api-exception.filter.js';
import { CorsMiddleware } from './cors.middleware.js';
import { CrossOriginMiddleware } from './cross-origin.middleware.js';
import { FormBodyMiddleware, JsonBodyMiddleware } from './json-body.middleware.js';
import { runWithRequest } from './request-context.js';
import { REQUEST_ID_HEADER, requestId } from './request-id.js';

type Step = (req: Request, res: Response, next: (error?: unknown) => void) => unknown;

/** Set once the chain has run for a request (a route may be bound twice: by its module and by a host). */
const HANDLED = Symbol('iam.http');
type MarkedRequest = Request & { [HANDLED]?: true };

/** Runs a chain of steps once per request, answering its errors with the IAM's error body. */
abstract class HttpChain implements NestMiddleware {
  /** Answers the chain's own errors (a subclass for other routes may answer them in its own body: SCIM's). */
  protected readonly filter: ApiExceptionFilter = new ApiExceptionFilter();

  protected constructor(private readonly steps: Step[]) {}

  use(req: MarkedRequest, res: Response, next: NextFunction): void {
    if (req[HANDLED]) {
      next();
      return;
    }
    req[HANDLED] = true;
    const fail = (error: unknown) => this.filter.respond(error, req, res);
    const run = (index: number) => (error?: unknown) => {
      if (error !== undefined && error !== null) {
        fail(error);
        return;
      }
      if (index === this.steps.length) {
        // After the body is read (its stream's events run outside any context of ours), so that nothing is lost.
        runWithRequest(req, () => next());
        return;
      }
      try {
        const result = this.steps[index](req, res, run(index + 1));
        if (result instanceof Promise) {
          result.catch(fail);
        }
      } catch (thrown) {
        fail(thrown);
      }
    };
    run(0)();
  }
}

const withRequestId: Step = (req, res, next) => (res.hasHeader(REQUEST_ID_HEADER) ? next() : requestId(req, res, next));

/**
 * Everything the IAM's routes need before Nest's pipeline, bound by each feature module to its own controllers
 * only (a host's routes never see it): a request id, CORS, the cross-site refusal, cookies, and JSON body
 * parsing with its 400/413/415 rules; then the rest of the request runs as the current request (request-context.ts).
 * Nest hands a middleware's errors to app-wide filters only, so this one answers its own errors with the IAM's error
 * body.
 */
@Injectable()
export class IamHttpMiddleware extends HttpChain {
  constructor(@Inject(IAM_HTTP_CONFIG) config: IamHttpConfig) {
    const cors = new CorsMiddleware(config);
    const crossOrigin = new CrossOriginMiddleware(config);
    const json = new JsonBodyMiddleware(config);
    const cookies = cookieParser();
    super([
      withRequestId,
      (req, res, next) => cors.use(req, res, next),
      (req, res, next) => crossOrigin.use(req, res, next),
      (req, res, next) => (req.cookies === undefined ? cookies(req, res, next) : next()),
      (req, res, next) => json.use(req, res, next),
    ]);
  }
}

/**
 * The chain of the one route a browser reaches with an HTML form POSTed from another site: the SAML assertion
 * consumer service (POST /login/saml/acs, the identity provider's page posts SAMLResponse). A request id, cookies and
 * an `application/x-www-form-urlencoded` body (FormBodyMiddleware: 415 for anything else); no CORS (no script calls
 * it) and no cross-site refusal, which would refuse every such POST: what protects it is the signed response itself
 * and its InResponseTo, which must name the sign-in this browser started (the flow cookie).
 */
@Injectable()
export class IamFormHttpMiddleware extends HttpChain {
  constructor(@Inject(IAM_HTTP_CONFIG) config: IamHttpConfig) {
    const form = new FormBodyMiddleware(config);
    const cookies = cookieParser();
    super([
      withRequestId,
      (req, res, next) => (req.cookies === undefined ? cookies(req, res, next) : next()),
      (req, res, next) => form.use(req, res, next),
    ]);
  }
}
