import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { Strategy } from 'passport-http-bearer';
import { ApiError } from '../common/api-error.js';
import { ServiceAccountsService } from '../service-accounts/service-accounts.service.js';
import type { Principal } from './principal.js';

export const BEARER_STRATEGY = 'bearer';

/** `Authorization: Bearer <token>`: service-account tokens. Tokens in the query or body are not accepted. */
@Injectable()
export class BearerStrategy extends PassportStrategy(Strategy, BEARER_STRATEGY) {
  constructor(private readonly serviceAccounts: ServiceAccountsService) {
    super({ passReqToCallback: true });
  }

  async validate(req: Request, token: string): Promise<Principal> {
    const header = req.headers.authorization ?? '';
    if (!/^bearer\s/i.test(header)) {
      throw ApiError.unauthorised('Send the token in the Authorization header, not in the URL or body');
    }
    return this.serviceAccounts.authenticate(token);
  }
}
