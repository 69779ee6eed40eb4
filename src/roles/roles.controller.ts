import { Body, Delete, Get, HttpCode, HttpStatus, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiConflictResponse, ApiNotFoundResponse } from '@nestjs/swagger';
import { CurrentPrincipal, ListPermission, RequirePermission } from '../auth/access.decorators.js';
import type { Principal } from '../auth/principal.js';
import { ErrorResponseDto } from '../common/dto/error-response.dto.js';
import { ListQueryDto } from '../common/dto/list-query.dto.js';
import { CreateRoleDto } from './dto/create-role.dto.js';
import { PolicyStatementDto } from './dto/policy-statement.dto.js';
import { RoleDto, RoleListDto } from './dto/role-response.dto.js';
import { UpdateRoleDto } from './dto/update-role.dto.js';
import { RolesService } from './roles.service.js';
import { IamController } from '../auth/iam-controller.decorator.js';

@IamController('roles', 'roles')
export class RolesController {
  constructor(private readonly roles: RolesService) {}

  @Get()
  @ListPermission('List roles', 'iam:ListRoles', 'role')
  @ApiBadRequestResponse({
    description: 'Invalid limit, q or page_token (altered, or issued for another list or other filters)',
    type: ErrorResponseDto,
  })
  list(@CurrentPrincipal() principal: Principal, @Query() query: ListQueryDto): Promise<RoleListDto> {
    return this.roles.list(principal, query);
  }

  @Post()
  @RequirePermission('Create a role', 'iam:CreateRole', { from: 'body', kind: 'role', field: 'name' })
  @ApiBadRequestResponse({
    description: 'Invalid body or policy (unknown action, bad resource)',
    type: ErrorResponseDto,
  })
  @ApiConflictResponse({ description: 'The name is taken', type: ErrorResponseDto })
  create(@CurrentPrincipal() principal: Principal, @Body() dto: CreateRoleDto): Promise<RoleDto> {
    return this.roles.create(principal, dto);
  }

  @Get(':name')
  @RequirePermission('Get a role with its policy', 'iam:GetRole', { from: 'param', kind: 'role', param: 'name' })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  get(@Param('name') name: string): Promise<RoleDto> {
    return this.roles.get(name);
  }

  @Patch(':name')
  @RequirePermission('Update a role; `policy` replaces the whole policy', 'iam:UpdateRole', {
    from: 'param',
    kind: 'role',
    param: 'name',
  })
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  update(
    @CurrentPrincipal() principal: Principal,
    @Param('name') name: string,
    @Body() dto: UpdateRoleDto,
  ): Promise<RoleDto> {
    return this.roles.update(principal, name, dto);
  }

  @Post(':name/policy')
  @HttpCode(HttpStatus.OK)
  @RequirePermission("Append one statement to a role's policy", 'iam:UpdateRole', {
    from: 'param',
    kind: 'role',
    param: 'name',
  })
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  appendStatement(
    @CurrentPrincipal() principal: Principal,
    @Param('name') name: string,
    @Body() statement: PolicyStatementDto,
  ): Promise<RoleDto> {
    return this.roles.appendStatement(principal, name, statement);
  }

  @Delete(':name')
  @HttpCode(HttpStatus.NO_CONTENT)
  @RequirePermission('Delete a role; it is unbound from its groups', 'iam:DeleteRole', {
    from: 'param',
    kind: 'role',
    param: 'name',
  })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  delete(@CurrentPrincipal() principal: Principal, @Param('name') name: string): Promise<void> {
    return this.roles.delete(principal, name);
  }
}
