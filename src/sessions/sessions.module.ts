import { type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PasswordHasher } from '../auth/password-hasher.js';
import { User } from '../users/entities/user.entity.js';
import { UsersModule } from '../users/users.module.js';
import { Session } from './entities/session.entity.js';
import { LoginController } from './login.controller.js';
import { PasswordsController } from './passwords.controller.js';
import { SessionsController } from './sessions.controller.js';
import { SessionsService } from './sessions.service.js';
import { IAM_DATA_SOURCE } from '../database/iam-data-source.js';
import { IamHttpMiddleware } from '../common/iam-http.middleware.js';

@Module({
  imports: [TypeOrmModule.forFeature([Session, User], IAM_DATA_SOURCE), UsersModule],
  controllers: [LoginController, SessionsController, PasswordsController],
  providers: [SessionsService, PasswordHasher],
  exports: [SessionsService],
})
export class SessionsModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(IamHttpMiddleware).forRoutes(LoginController, SessionsController, PasswordsController);
  }
}
