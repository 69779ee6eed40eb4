import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import passport, { type Strategy } from 'passport';
import { ApiError } from '../common/api-error.js';
import { CredentialFailuresService } from '../rate-limit/credential-failures.service.js';
import { accessRuleOf } from './access.decorators.js';
import { BearerStrategy } from './bearer.strategy.js';
import type { Principal } from './principal.js';
import { SessionCookieStrategy } from './session-cookie.strategy.js';
import type { AuthConfig } from '../config/auth.config.js';
import { IAM_AUTH_CONFIG } from '../iam.options.js';

/**
 * What passport-http-bearer can read: one `Bearer <token>` header, the token one run of visible ASCII (every
 * token this service issues, and every IAM_BOOTSTRAP_TOKEN). It quietly skips anything else, and the session
 * strategy would then run, so such a header is refused here first.
 */
const BEARER_HEADER = /^Bearer [\x21-\x7E]+$/i;

/** How many `Authorization` headers were sent (Node keeps only the first in `req.headers`). */
const authorizationHeaderCount = (req: Request) =>
  req.rawHeaders.filter((name, index) => index % 2 === 0 && name.toLowerCase() === 'authorization').length;

const hasAccessTokenParameter = (req: Request) =>
  Object.hasOwn(req.query ?? {}, 'access_token') ||
  (typeof req.body === 'object' && req.body !== null && Object.hasOwn(req.body as object, 'access_token'));

/** Whether the request offers credentials to check: an Authorization header, a session cookie, an access_token. */
const presentsCredentials = (req: Request, cookieName: string) =>
  authorizationHeaderCount(req) > 0 ||
  (req.cookies as Record<string, unknown> | undefined)?.[cookieName] !== undefined ||
  hasAccessTokenParameter(req);

/** Set on a request once this guard has authenticated it, so that a second run (app-wide and per controller) is free. */
const AUTHENTICATED = Symbol('iam.authenticated');
type MarkedRequest = Request & { [AUTHENTICATED]?: true };

/**
 * Who is calling. On every IAM controller (through @IamController) and, inside IamAuthGuard, on any route of a host
 * that asks for it: every route needs a bearer token or a session cookie unless it is marked @Public(). An
 * Authorization header, when sent, decides: a valid bearer token wins over a cookie, and anything else in that
 * header (another scheme, a malformed, unknown or expired token, two headers) is a 401 even with a good cookie. A
 * token in the query string or body is a 401 too: URLs end up in logs.
 *
 * Passport runs this module's own strategy objects, not the ones its process-wide registry holds under their names
 * (which @nestjs/passport's AuthGuard looks up): with two IAMs in one process (two instances in a test, or a host
 * that builds two apps), the registry holds only the last one made, and a request to the first would be checked
 * by the second's services and database, still after the second was closed.
 */
@Injectable()
export class AuthenticationGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly failures: CredentialFailuresService,
    private readonly bearer: BearerStrategy,
    private readonly session: SessionCookieStrategy,
    @Inject(IAM_AUTH_CONFIG) private readonly config: AuthConfig,
  ) {}

  /**
   * Credentials that fail count against the client address (CredentialFailuresService); an address with
   * too many failures gets a 429 before its credentials are looked at. A request with none is not counted.
   */
  async canActivate(context: ExecutionContext): Promise<boolean> {
    const rule = accessRuleOf(this.reflector, context);
    if (rule?.kind === 'public') {
      return true;
    }
    const req = context.switchToHttp().getRequest<MarkedRequest>();
    if (req[AUTHENTICATED]) {
      return true;
    }
    if (!presentsCredentials(req, this.config.sessionCookieName)) {
      return this.authenticate(context, req);
    }
    await this.failures.assertNotBlocked(req.ip);
    try {
      return await this.authenticate(context, req);
    } catch (error) {
      if (error instanceof ApiError && error.type === 'unauthorised') {
        await this.failures.recordFailure(req.ip);
      }
      throw error;
    }
  }

  private async authenticate(context: ExecutionContext, req: MarkedRequest): Promise<boolean> {
    if (hasAccessTokenParameter(req)) {
      throw ApiError.unauthorised('Send the token in the Authorization header, not in the URL or body');
    }
    const headers = authorizationHeaderCount(req);
    if (headers > 1 || (headers === 1 && !BEARER_HEADER.test(req.headers.authorization ?? ''))) {
      throw ApiError.unauthorised('The Authorization header must be one "Bearer <token>" header');
    }
    req.user = await this.runStrategies(req, context.switchToHttp().getResponse<Response>());
    req[AUTHENTICATED] = true;
    return true;
  }

  /**
   * The bearer strategy, then the session cookie's (passport's order for a list of strategies): the first that
   * succeeds names the principal, an error ends the search, and when both fail it is a 401.
   */
  private async runStrategies(req: Request, res: Response): Promise<Principal> {
    for (const strategy of [this.bearer, this.session]) {
      const principal = await runStrategy(strategy, req, res);
      if (principal) {
        return principal;
      }
    }
    throw ApiError.unauthorised('Authentication required: send a bearer token or a session cookie');
  }
}

/**
 * One strategy's verdict on the request: the principal, or false when it found no credential of its kind. Passport
 * adds the request's outcome functions (success, fail, error) to the strategy object it is given, so each request gets
 * one of its own that inherits from ours, as passport does itself for a strategy it finds by name.
 */
function runStrategy(strategy: Strategy, req: Request, res: Response): Promise<Principal | false> {
  return new Promise((resolve, reject) => {
    const toError = (error: unknown) => (error instanceof Error ? error : new Error(String(error)));
    const authenticate = passport.authenticate(
      Object.create(strategy) as Strategy,
      { session: false },
      (error: unknown, principal: Principal | false) => (error ? reject(toError(error)) : resolve(principal || false)),
    ) as (req: Request, res: Response, next: (error?: unknown) => void) => void;
    // `next` is called only on an error: with a callback, passport never passes the request on by itself.
    authenticate(req, res, (error) => reject(toError(error)));
  });
}
