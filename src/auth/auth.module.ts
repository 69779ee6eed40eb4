import { Global, Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { ServiceAccountsModule } from '../service-accounts/service-accounts.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { AdministratorsService } from './administrators.service.js';
import { AuthorizationService } from './authorization.service.js';
import { BearerStrategy } from './bearer.strategy.js';
import { SessionCookieStrategy } from './session-cookie.strategy.js';

/**
 * Authentication strategies and the administrator list. Global so that feature modules can compute
 * `is_admin` without importing the strategies' dependencies. The guards are registered in AppModule.
 */
@Global()
@Module({
  imports: [PassportModule, SessionsModule, ServiceAccountsModule],
  providers: [AdministratorsService, AuthorizationService, BearerStrategy, SessionCookieStrategy],
  exports: [AdministratorsService, AuthorizationService],
})
export class AuthModule {}
