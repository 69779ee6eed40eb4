import { Body, Delete, Get, Headers, HttpCode, HttpStatus, Param, Patch, Post, Put, Query } from '@nestjs/common';
import { CurrentPrincipal, RequirePermission } from '../auth/access.decorators.js';
import type { Principal } from '../auth/principal.js';
import { ScimBaseUrl, ScimController } from './scim-controller.decorator.js';
import type { ScimResource } from './scim-resources.js';
import { ScimUsersService } from './scim-users.service.js';

const USERS = { from: 'all', kind: 'user' } as const;

@ScimController('Users')
export class ScimUsersController {
  constructor(private readonly users: ScimUsersService) {}

  @Get()
  @RequirePermission('List or filter SCIM users', 'iam:ScimProvision', USERS)
  list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: Record<string, unknown>,
    @ScimBaseUrl() baseUrl: string,
  ): Promise<ScimResource> {
    return this.users.list(principal, query, baseUrl);
  }

  @Post()
  @RequirePermission('Provision a user', 'iam:ScimProvision', USERS)
  create(
    @CurrentPrincipal() principal: Principal,
    @Body() body: unknown,
    @ScimBaseUrl() baseUrl: string,
  ): Promise<ScimResource> {
    return this.users.create(principal, body, baseUrl);
  }

  @Get(':id')
  @RequirePermission('Get a SCIM user', 'iam:ScimProvision', USERS)
  get(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Query() query: Record<string, unknown>,
    @ScimBaseUrl() baseUrl: string,
  ): Promise<ScimResource> {
    return this.users.get(principal, id, query, baseUrl);
  }

  @Put(':id')
  @RequirePermission('Replace a SCIM user', 'iam:ScimProvision', USERS)
  replace(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @ScimBaseUrl() baseUrl: string,
  ): Promise<ScimResource> {
    return this.users.replace(principal, id, body, ifMatch, baseUrl);
  }

  @Patch(':id')
  @RequirePermission('Patch a SCIM user (active: false deactivates)', 'iam:ScimProvision', USERS)
  patch(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @ScimBaseUrl() baseUrl: string,
  ): Promise<ScimResource> {
    return this.users.patch(principal, id, body, ifMatch, baseUrl);
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @RequirePermission('Delete a SCIM user', 'iam:ScimProvision', USERS)
  delete(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Headers('if-match') ifMatch: string | undefined,
    @ScimBaseUrl() baseUrl: string,
  ): Promise<void> {
    return this.users.delete(principal, id, ifMatch, baseUrl);
  }
}
