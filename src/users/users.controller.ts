import { Body, Delete, Get, HttpCode, HttpStatus, Param, Patch, Post, Put, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiConflictResponse, ApiNotFoundResponse } from '@nestjs/swagger';
import { AuditedAs } from '../audit/audit-route.js';
import { CurrentPrincipal, ListPermission, RequirePermission, SelfService } from '../auth/access.decorators.js';
import type { Principal } from '../auth/principal.js';
import { ErrorResponseDto } from '../common/dto/error-response.dto.js';
import { PrincipalListQueryDto } from '../common/dto/list-query.dto.js';
import { CreateUserDto } from './dto/create-user.dto.js';
import { SetGroupsDto } from '../groups/dto/set-groups.dto.js';
import { UpdateUserDto } from './dto/update-user.dto.js';
import { UserDto, UserListDto } from './dto/user-response.dto.js';
import { UsersService } from './users.service.js';
import { IamController } from '../auth/iam-controller.decorator.js';

@IamController('users', 'users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @ListPermission('List users', 'iam:ListUsers', 'user')
  @ApiBadRequestResponse({
    description: 'Invalid limit, q or page_token (altered, or issued for another list or other filters)',
    type: ErrorResponseDto,
  })
  list(@CurrentPrincipal() principal: Principal, @Query() query: PrincipalListQueryDto): Promise<UserListDto> {
    return this.users.list(principal, query);
  }

  @Post()
  @RequirePermission('Create a user', 'iam:CreateUser', { from: 'body', kind: 'user', field: 'name' })
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  @ApiConflictResponse({ description: 'The name is taken (compared without regard to case)', type: ErrorResponseDto })
  create(@CurrentPrincipal() principal: Principal, @Body() dto: CreateUserDto): Promise<UserDto> {
    return this.users.create(principal, dto);
  }

  // Declared before `:name` so that "me" is never taken for a user name.
  @Get('me')
  @SelfService('The signed-in user')
  @AuditedAs('iam:GetUser', { from: 'self' })
  me(@CurrentPrincipal() principal: Principal): Promise<UserDto> {
    return this.users.getById(principal.id, principal);
  }

  @Get(':name')
  @RequirePermission('Get a user', 'iam:GetUser', { from: 'param', kind: 'user', param: 'name' })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  get(@CurrentPrincipal() principal: Principal, @Param('name') name: string): Promise<UserDto> {
    return this.users.get(name, principal);
  }

  @Patch(':name')
  @RequirePermission('Update a user (display name, metadata)', 'iam:UpdateUser', {
    from: 'param',
    kind: 'user',
    param: 'name',
  })
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  update(
    @CurrentPrincipal() principal: Principal,
    @Param('name') name: string,
    @Body() dto: UpdateUserDto,
  ): Promise<UserDto> {
    return this.users.update(principal, name, dto);
  }

  @Delete(':name')
  @HttpCode(HttpStatus.NO_CONTENT)
  @RequirePermission('Delete a user with its profile, settings, sessions and memberships', 'iam:DeleteUser', {
    from: 'param',
    kind: 'user',
    param: 'name',
  })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  delete(@CurrentPrincipal() principal: Principal, @Param('name') name: string): Promise<void> {
    return this.users.delete(principal, name);
  }

  @Delete(':name/lockout')
  @HttpCode(HttpStatus.NO_CONTENT)
  @RequirePermission(
    'Lift the lockout of a user (after repeated wrong passwords) and forget its failed attempts',
    'iam:UnlockUser',
    { from: 'param', kind: 'user', param: 'name' },
  )
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  unlock(@CurrentPrincipal() principal: Principal, @Param('name') name: string): Promise<void> {
    return this.users.unlock(principal, name);
  }

  @Put(':name/groups')
  @RequirePermission(
    'Change the groups of a user (needs iam:UpdateGroupMembers on each group touched too)',
    'iam:SetUserGroups',
    { from: 'param', kind: 'user', param: 'name' },
  )
  @ApiBadRequestResponse({
    description: 'Invalid body, or set_groups combined with add/remove',
    type: ErrorResponseDto,
  })
  @ApiNotFoundResponse({
    description: 'No such user, or named groups missing (nothing changed)',
    type: ErrorResponseDto,
  })
  setGroups(
    @CurrentPrincipal() principal: Principal,
    @Param('name') name: string,
    @Body() dto: SetGroupsDto,
  ): Promise<UserDto> {
    return this.users.setGroups(principal, name, dto);
  }
}
