import { type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { RolesModule } from '../roles/roles.module.js';
import { Group } from './entities/group.entity.js';
import { GroupsController } from './groups.controller.js';
import { GroupsService } from './groups.service.js';
import { IAM_DATA_SOURCE } from '../database/iam-data-source.js';
import { IamHttpMiddleware } from '../common/iam-http.middleware.js';

@Module({
  imports: [TypeOrmModule.forFeature([Group], IAM_DATA_SOURCE), RolesModule],
  controllers: [GroupsController],
  providers: [GroupsService],
  exports: [GroupsService],
})
export class GroupsModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(IamHttpMiddleware).forRoutes(GroupsController);
  }
}
