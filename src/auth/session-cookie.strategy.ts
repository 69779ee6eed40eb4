import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { Strategy } from 'passport-strategy';
import type { AuthConfig } from '../config/auth.config.js';
import { IAM_AUTH_CONFIG } from '../iam.options.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { PrincipalCache } from './principal-cache.js';
import type { Principal } from './principal.js';

/** Named for the IAM alone, as BEARER_STRATEGY is. */
export const SESSION_STRATEGY = 'iam-session';

type Verify = (sessionId: string, done: (error: unknown, principal?: Principal | false) => void) => void;

/** A passport strategy that reads the session cookie (`session_id` unless configured otherwise). */
class SessionCookiePassportStrategy extends Strategy {
  name = SESSION_STRATEGY;

  constructor(
    private readonly cookieName: string,
    private readonly verify: Verify,
  ) {
    super();
  }

  override authenticate(req: Request): void {
    const cookies = req.cookies as Record<string, unknown> | undefined;
    const sessionId = cookies?.[this.cookieName];
    if (typeof sessionId !== 'string' || sessionId.length === 0) {
      this.fail(401);
      return;
    }
    this.verify(sessionId, (error, principal) => {
      if (error) {
        this.error(error as Error);
      } else if (!principal) {
        this.fail(401);
      } else {
        this.success(principal);
      }
    });
  }
}

@Injectable()
export class SessionCookieStrategy extends PassportStrategy(SessionCookiePassportStrategy, SESSION_STRATEGY) {
  constructor(
    private readonly sessions: SessionsService,
    private readonly principals: PrincipalCache,
    @Inject(IAM_AUTH_CONFIG) config: AuthConfig,
  ) {
    // PassportStrategy appends the verify callback to these arguments.
    super(config.sessionCookieName);
  }

  validate(sessionId: string): Promise<Principal> {
    return this.principals.resolve(SESSION_STRATEGY, sessionId, () => this.sessions.authenticate(sessionId));
  }
}
