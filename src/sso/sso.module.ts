import { type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { IamHttpMiddleware } from '../common/iam-http.middleware.js';
import { IAM_DATA_SOURCE } from '../database/iam-data-source.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { User } from '../users/entities/user.entity.js';
import { UsersModule } from '../users/users.module.js';
import { UserIdentity } from './entities/user-identity.entity.js';
import { LoginMethodsController } from './login-methods.controller.js';
import { SsoSignInService } from './sso-sign-in.service.js';

/** Single sign-on: the core (SsoSignInService) that the protocol modules hand verified identities to. */
@Module({
  imports: [TypeOrmModule.forFeature([UserIdentity, User], IAM_DATA_SOURCE), SessionsModule, UsersModule],
  controllers: [LoginMethodsController],
  providers: [SsoSignInService],
  exports: [SsoSignInService],
})
export class SsoModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(IamHttpMiddleware).forRoutes(LoginMethodsController);
  }
}
