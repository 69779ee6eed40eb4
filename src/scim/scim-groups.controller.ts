import { Body, Delete, Get, Headers, HttpCode, HttpStatus, Param, Patch, Post, Put, Query } from '@nestjs/common';
import { CurrentPrincipal, RequirePermission } from '../auth/access.decorators.js';
import type { Principal } from '../auth/principal.js';
import { ScimBaseUrl, ScimController } from './scim-controller.decorator.js';
import type { ScimResource } from './scim-resources.js';
import { ScimGroupsService } from './scim-groups.service.js';

const GROUPS = { from: 'all', kind: 'group' } as const;

@ScimController('Groups')
export class ScimGroupsController {
  constructor(private readonly groups: ScimGroupsService) {}

  @Get()
  @RequirePermission('List or filter SCIM groups', 'iam:ScimProvision', GROUPS)
  list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: Record<string, unknown>,
    @ScimBaseUrl() baseUrl: string,
  ): Promise<ScimResource> {
    return this.groups.list(principal, query, baseUrl);
  }

  @Post()
  @RequirePermission('Provision a group', 'iam:ScimProvision', GROUPS)
  create(
    @CurrentPrincipal() principal: Principal,
    @Body() body: unknown,
    @ScimBaseUrl() baseUrl: string,
  ): Promise<ScimResource> {
    return this.groups.create(principal, body, baseUrl);
  }

  @Get(':id')
  @RequirePermission('Get a SCIM group', 'iam:ScimProvision', GROUPS)
  get(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Query() query: Record<string, unknown>,
    @ScimBaseUrl() baseUrl: string,
  ): Promise<ScimResource> {
    return this.groups.get(principal, id, query, baseUrl);
  }

  @Put(':id')
  @RequirePermission('Replace a SCIM group', 'iam:ScimProvision', GROUPS)
  replace(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @ScimBaseUrl() baseUrl: string,
  ): Promise<ScimResource> {
    return this.groups.replace(principal, id, body, ifMatch, baseUrl);
  }

  @Patch(':id')
  @RequirePermission('Patch a SCIM group (members by value filter too)', 'iam:ScimProvision', GROUPS)
  patch(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @ScimBaseUrl() baseUrl: string,
  ): Promise<ScimResource> {
    return this.groups.patch(principal, id, body, ifMatch, baseUrl);
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @RequirePermission('Delete a SCIM group', 'iam:ScimProvision', GROUPS)
  delete(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Headers('if-match') ifMatch: string | undefined,
    @ScimBaseUrl() baseUrl: string,
  ): Promise<void> {
    return this.groups.delete(principal, id, ifMatch, baseUrl);
  }
}
