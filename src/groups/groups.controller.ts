import { Body, Delete, Get, HttpCode, HttpStatus, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiConflictResponse, ApiNotFoundResponse } from '@nestjs/swagger';
import { CurrentPrincipal, ListPermission, RequirePermission } from '../auth/access.decorators.js';
import type { Principal } from '../auth/principal.js';
import { ErrorResponseDto } from '../common/dto/error-response.dto.js';
import { ListQueryDto } from '../common/dto/list-query.dto.js';
import { CreateGroupDto } from './dto/create-group.dto.js';
import { GroupDto, GroupListDto } from './dto/group-response.dto.js';
import { UpdateGroupDto } from './dto/update-group.dto.js';
import { GroupsService } from './groups.service.js';
import { IamController } from '../auth/iam-controller.decorator.js';

@IamController('groups', 'groups')
export class GroupsController {
  constructor(private readonly groups: GroupsService) {}

  @Get()
  @ListPermission('List groups', 'iam:ListGroups', 'group')
  @ApiBadRequestResponse({
    description: 'Invalid limit, q or page_token (altered, or issued for another list or other filters)',
    type: ErrorResponseDto,
  })
  list(@CurrentPrincipal() principal: Principal, @Query() query: ListQueryDto): Promise<GroupListDto> {
    return this.groups.list(principal, query);
  }

  @Post()
  @RequirePermission(
    'Create a group (members need iam:UpdateGroupMembers, roles iam:UpdateGroupRoles on it too)',
    'iam:CreateGroup',
    { from: 'body', kind: 'group', field: 'name' },
  )
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  @ApiNotFoundResponse({ description: 'Named members or roles missing (nothing created)', type: ErrorResponseDto })
  @ApiConflictResponse({ description: 'The name is taken', type: ErrorResponseDto })
  create(@CurrentPrincipal() principal: Principal, @Body() dto: CreateGroupDto): Promise<GroupDto> {
    return this.groups.create(principal, dto);
  }

  @Get(':name')
  @RequirePermission('Get a group with its users, service accounts and roles', 'iam:GetGroup', {
    from: 'param',
    kind: 'group',
    param: 'name',
  })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  get(@Param('name') name: string): Promise<GroupDto> {
    return this.groups.get(name);
  }

  @Patch(':name')
  @RequirePermission(
    'Update a group (members need iam:UpdateGroupMembers, roles iam:UpdateGroupRoles on it too)',
    'iam:UpdateGroup',
    { from: 'param', kind: 'group', param: 'name' },
  )
  @ApiBadRequestResponse({
    description: 'Invalid body, or set_members combined with add/remove',
    type: ErrorResponseDto,
  })
  @ApiNotFoundResponse({
    description: 'No such group, or named members or roles missing (nothing changed)',
    type: ErrorResponseDto,
  })
  update(
    @CurrentPrincipal() principal: Principal,
    @Param('name') name: string,
    @Body() dto: UpdateGroupDto,
  ): Promise<GroupDto> {
    return this.groups.update(principal, name, dto);
  }

  @Delete(':name')
  @HttpCode(HttpStatus.NO_CONTENT)
  @RequirePermission('Delete a group with its memberships and role bindings', 'iam:DeleteGroup', {
    from: 'param',
    kind: 'group',
    param: 'name',
  })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  delete(@CurrentPrincipal() principal: Principal, @Param('name') name: string): Promise<void> {
    return this.groups.delete(principal, name);
  }
}
