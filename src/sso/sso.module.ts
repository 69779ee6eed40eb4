import { type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { IamHttpMiddleware } from '../common/iam-http.middleware.js';
import { IAM_DATA_SOURCE } from '../database/iam-data-source.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { User } from '../users/entities/user.entity.js';
import { UsersModule } from '../users/users.module.js';
import { IamKey } from '../pagination/entities/iam-key.entity.js';
import { UserIdentity } from './entities/user-identity.entity.js';
import { OidcController } from './oidc/oidc.controller.js';
import { OidcService } from './oidc/oidc.service.js';
import { SsoStateService } from './sso-state.service.js';
import { LoginMethodsController } from './login-methods.controller.js';
import { SsoSignInService } from './sso-sign-in.service.js';

/**
 * Single sign-on: the core (SsoSignInService) that the protocol modules hand verified identities to, the sealed state
 * of a sign-in in progress (SsoStateService), and OIDC.
 */
@Module({
  imports: [TypeOrmModule.forFeature([UserIdentity, User, IamKey], IAM_DATA_SOURCE), SessionsModule, UsersModule],
  controllers: [LoginMethodsController, OidcController],
  providers: [SsoSignInService, SsoStateService, OidcService],
  exports: [SsoSignInService, SsoStateService],
})
export class SsoModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(IamHttpMiddleware).forRoutes(LoginMethodsController, OidcController);
  }
}
