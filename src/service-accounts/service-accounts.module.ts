import { type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { GroupsModule } from '../groups/groups.module.js';
import { ServiceAccount } from './entities/service-account.entity.js';
import { ServiceAccountsController } from './service-accounts.controller.js';
import { ServiceAccountsService } from './service-accounts.service.js';
import { IAM_DATA_SOURCE } from '../database/iam-data-source.js';
import { IamHttpMiddleware } from '../common/iam-http.middleware.js';

@Module({
  imports: [TypeOrmModule.forFeature([ServiceAccount], IAM_DATA_SOURCE), GroupsModule],
  controllers: [ServiceAccountsController],
  providers: [ServiceAccountsService],
  exports: [ServiceAccountsService],
})
export class ServiceAccountsModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(IamHttpMiddleware).forRoutes(ServiceAccountsController);
  }
}
