import { type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { GroupsModule } from '../groups/groups.module.js';
import { User } from './entities/user.entity.js';
import { UsersController } from './users.controller.js';
import { LegacyNamesService } from './legacy-names.service.js';
import { UsersService } from './users.service.js';
import { IAM_DATA_SOURCE } from '../database/iam-data-source.js';
import { IamHttpMiddleware } from '../common/iam-http.middleware.js';

@Module({
  imports: [TypeOrmModule.forFeature([User], IAM_DATA_SOURCE), GroupsModule],
  controllers: [UsersController],
  providers: [UsersService, LegacyNamesService],
  exports: [UsersService],
})
export class UsersModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(IamHttpMiddleware).forRoutes(UsersController);
  }
}
