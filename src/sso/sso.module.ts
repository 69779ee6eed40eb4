import { type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { IamFormHttpMiddleware, IamHttpMiddleware } from '../common/iam-http.middleware.js';
import { IAM_DATA_SOURCE } from '../database/iam-data-source.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { User } from '../users/entities/user.entity.js';
import { UsersModule } from '../users/users.module.js';
import { IamKey } from '../pagination/entities/iam-key.entity.js';
import { UserIdentity } from './entities/user-identity.entity.js';
import { OidcController } from './oidc/oidc.controller.js';
import { OidcService } from './oidc/oidc.service.js';
import { SamlAcsController, SamlController, SamlMetadataController } from './saml/saml.controller.js';
import { SamlService } from './saml/saml.service.js';
import { SsoStateService } from './sso-state.service.js';
import { LoginMethodsController } from './login-methods.controller.js';
import { SsoSignInService } from './sso-sign-in.service.js';

/**
 * Single sign-on: the core (SsoSignInService) that the protocol modules hand verified identities to, the sealed state
 * of a sign-in in progress (SsoStateService), OIDC and SAML.
 */
@Module({
  imports: [TypeOrmModule.forFeature([UserIdentity, User, IamKey], IAM_DATA_SOURCE), SessionsModule, UsersModule],
  controllers: [LoginMethodsController, OidcController, SamlController, SamlAcsController, SamlMetadataController],
  providers: [SsoSignInService, SsoStateService, OidcService, SamlService],
  exports: [SsoSignInService, SsoStateService],
})
export class SsoModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    // The assertion consumer service takes the provider's form, cross-site: its own chain (IamFormHttpMiddleware).
    consumer.apply(IamFormHttpMiddleware).forRoutes(SamlAcsController);
    consumer
      .apply(IamHttpMiddleware)
      .forRoutes(LoginMethodsController, OidcController, SamlController, SamlMetadataController);
  }
}
