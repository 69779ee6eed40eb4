import { type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { UsersModule } from '../users/users.module.js';
import { Profile } from './entities/profile.entity.js';
import { ProfilesController } from './profiles.controller.js';
import { ProfilesService } from './profiles.service.js';
import { IAM_DATA_SOURCE } from '../database/iam-data-source.js';
import { IamHttpMiddleware } from '../common/iam-http.middleware.js';

@Module({
  imports: [TypeOrmModule.forFeature([Profile], IAM_DATA_SOURCE), UsersModule],
  controllers: [ProfilesController],
  providers: [ProfilesService],
})
export class ProfilesModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(IamHttpMiddleware).forRoutes(ProfilesController);
  }
}
