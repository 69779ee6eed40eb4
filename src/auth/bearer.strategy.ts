import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-http-bearer';
import { ServiceAccountsService } from '../service-accounts/service-accounts.service.js';
import { PrincipalCache } from './principal-cache.js';
import type { Principal } from './principal.js';

/**
 * Passport keeps strategies in one registry per process, by name: a name of our own, so that a host's `bearer`
 * strategy and ours never replace each other.
 */
export const BEARER_STRATEGY = 'iam-bearer';

/** `Authorization: Bearer <token>`: service-account tokens. Tokens in the query or body are not accepted. */
@Injectable()
export class BearerStrategy extends PassportStrategy(Strategy, BEARER_STRATEGY) {
  constructor(
    private readonly serviceAccounts: ServiceAccountsService,
    private readonly principals: PrincipalCache,
  ) {
    super();
  }

  /** Only the header is read: AuthenticationGuard has already refused a token in the query string or body. */
  validate(token: string): Promise<Principal> {
    return this.principals.resolve(BEARER_STRATEGY, token, () => this.serviceAccounts.authenticate(token));
  }
}
