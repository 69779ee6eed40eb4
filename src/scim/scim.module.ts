import { type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Group } from '../groups/entities/group.entity.js';
import { IAM_DATA_SOURCE } from '../database/iam-data-source.js';
import { User } from '../users/entities/user.entity.js';
import { ScimDiscoveryController } from './scim-discovery.controller.js';
import { ScimGroupsController } from './scim-groups.controller.js';
import { ScimGroupsService } from './scim-groups.service.js';
import { ScimHttpMiddleware } from './scim-http.middleware.js';
import { ScimUsersController } from './scim-users.controller.js';
import { ScimUsersService } from './scim-users.service.js';

/**
 * SCIM 2.0 provisioning (RFC 7643/7644) at /scim/v2, outside the IAM API's prefix: Users, Groups and discovery, for
 * service-account tokens allowed iam:ScimProvision (see the README, "Provisioning with SCIM").
 */
@Module({
  imports: [TypeOrmModule.forFeature([User, Group], IAM_DATA_SOURCE)],
  controllers: [ScimUsersController, ScimGroupsController, ScimDiscoveryController],
  providers: [ScimUsersService, ScimGroupsService],
})
export class ScimModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(ScimHttpMiddleware).forRoutes(ScimUsersController, ScimGroupsController, ScimDiscoveryController);
  }
}
