import { Global, Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { ServiceAccountsModule } from '../service-accounts/service-accounts.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { AdministratorsService } from './administrators.service.js';
import { AuthenticationGuard } from './authentication.guard.js';
import { AuthorizationGuard } from './authorization.guard.js';
import { AuthorizationService } from './authorization.service.js';
import { IamAuthGuard } from './iam-auth.guard.js';
import { BearerStrategy } from './bearer.strategy.js';
import { LastSeenService } from './last-seen.service.js';
import { PrincipalCache } from './principal-cache.js';
import { SessionCookieStrategy } from './session-cookie.strategy.js';

/**
 * Authentication strategies, the guards and the administrator list. Global so that feature modules can compute
 * `is_admin`, and a host can put IamAuthGuard on its own routes, without importing the strategies' dependencies.
 */
@Global()
@Module({
  imports: [PassportModule, SessionsModule, ServiceAccountsModule],
  providers: [
    AdministratorsService,
    AuthorizationService,
    AuthenticationGuard,
    AuthorizationGuard,
    IamAuthGuard,
    LastSeenService,
    PrincipalCache,
    BearerStrategy,
    SessionCookieStrategy,
  ],
  exports: [
    AdministratorsService,
    AuthorizationService,
    AuthenticationGuard,
    AuthorizationGuard,
    IamAuthGuard,
    PrincipalCache,
    // AuthenticationGuard runs them, and it is made in each module whose controllers it guards.
    BearerStrategy,
    SessionCookieStrategy,
  ],
})
export class AuthModule {}
