import { type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Role } from './entities/role.entity.js';
import { RolesController } from './roles.controller.js';
import { RolesService } from './roles.service.js';
import { IAM_DATA_SOURCE } from '../database/iam-data-source.js';
import { IamHttpMiddleware } from '../common/iam-http.middleware.js';

@Module({
  imports: [TypeOrmModule.forFeature([Role], IAM_DATA_SOURCE)],
  controllers: [RolesController],
  providers: [RolesService],
  exports: [RolesService],
})
export class RolesModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(IamHttpMiddleware).forRoutes(RolesController);
  }
}
