import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { GroupsModule } from '../groups/groups.module.js';
import { User } from './entities/user.entity.js';
import { UsersController } from './users.controller.js';
import { LegacyNamesService } from './legacy-names.service.js';
import { UsersService } from './users.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([User]), GroupsModule],
  controllers: [UsersController],
  providers: [UsersService, LegacyNamesService],
  exports: [UsersService],
})
export class UsersModule {}
