import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PasswordHasher } from '../auth/password-hasher.js';
import { User } from '../users/entities/user.entity.js';
import { UsersModule } from '../users/users.module.js';
import { Session } from './entities/session.entity.js';
import { LoginController } from './login.controller.js';
import { PasswordsController } from './passwords.controller.js';
import { SessionsController } from './sessions.controller.js';
import { SessionsService } from './sessions.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([Session, User]), UsersModule],
  controllers: [LoginController, SessionsController, PasswordsController],
  providers: [SessionsService, PasswordHasher],
  exports: [SessionsService],
})
export class SessionsModule {}
