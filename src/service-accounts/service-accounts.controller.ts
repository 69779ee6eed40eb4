import { Body, Delete, Get, HttpCode, HttpStatus, Param, Patch, Post, Put, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiConflictResponse, ApiNotFoundResponse } from '@nestjs/swagger';
import { CurrentPrincipal, ListPermission, RequirePermission } from '../auth/access.decorators.js';
import type { Principal } from '../auth/principal.js';
import { ErrorResponseDto } from '../common/dto/error-response.dto.js';
import { PrincipalListQueryDto } from '../common/dto/list-query.dto.js';
import { NoStore } from '../common/no-store.decorator.js';
import { SetGroupsDto } from '../groups/dto/set-groups.dto.js';
import { CreateServiceAccountDto } from './dto/create-service-account.dto.js';
import { RenewTokenDto } from './dto/renew-token.dto.js';
import {
  ServiceAccountDto,
  ServiceAccountListDto,
  ServiceAccountWithTokenDto,
} from './dto/service-account-response.dto.js';
import { UpdateServiceAccountDto } from './dto/update-service-account.dto.js';
import { ServiceAccountsService } from './service-accounts.service.js';
import { IamController } from '../auth/iam-controller.decorator.js';

const BY_NAME = { from: 'param', kind: 'service-account', param: 'name' } as const;

@IamController('service-accounts', 'service-accounts')
export class ServiceAccountsController {
  constructor(private readonly accounts: ServiceAccountsService) {}

  @Get()
  @ListPermission('List service accounts', 'iam:ListServiceAccounts', 'service-account')
  @ApiBadRequestResponse({
    description: 'Invalid limit, q or page_token (altered, or issued for another list or other filters)',
    type: ErrorResponseDto,
  })
  list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: PrincipalListQueryDto,
  ): Promise<ServiceAccountListDto> {
    return this.accounts.list(principal, query);
  }

  @Post()
  @NoStore()
  @RequirePermission(
    'Create a service account; the answer carries its token, shown this once',
    'iam:CreateServiceAccount',
    {
      from: 'body',
      kind: 'service-account',
      field: 'name',
    },
  )
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  @ApiConflictResponse({ description: 'The name is taken by a user or a service account', type: ErrorResponseDto })
  create(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: CreateServiceAccountDto,
  ): Promise<ServiceAccountWithTokenDto> {
    return this.accounts.create(principal, dto);
  }

  @Get(':name')
  @RequirePermission('Get a service account', 'iam:GetServiceAccount', BY_NAME)
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  get(@Param('name') name: string): Promise<ServiceAccountDto> {
    return this.accounts.get(name);
  }

  @Patch(':name')
  @RequirePermission(
    'Update a service account (display name, description, metadata)',
    'iam:UpdateServiceAccount',
    BY_NAME,
  )
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  update(
    @CurrentPrincipal() principal: Principal,
    @Param('name') name: string,
    @Body() dto: UpdateServiceAccountDto,
  ): Promise<ServiceAccountDto> {
    return this.accounts.update(principal, name, dto);
  }

  @Delete(':name')
  @HttpCode(HttpStatus.NO_CONTENT)
  @RequirePermission('Delete a service account; its token stops working at once', 'iam:DeleteServiceAccount', BY_NAME)
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  delete(@CurrentPrincipal() principal: Principal, @Param('name') name: string): Promise<void> {
    return this.accounts.delete(principal, name);
  }

  @Put(':name/groups')
  @RequirePermission(
    'Change the groups of a service account (needs iam:UpdateGroupMembers on each group touched too)',
    'iam:SetServiceAccountGroups',
    BY_NAME,
  )
  @ApiBadRequestResponse({
    description: 'Invalid body, or set_groups combined with add/remove',
    type: ErrorResponseDto,
  })
  @ApiNotFoundResponse({
    description: 'No such account, or named groups missing (nothing changed)',
    type: ErrorResponseDto,
  })
  setGroups(
    @CurrentPrincipal() principal: Principal,
    @Param('name') name: string,
    @Body() dto: SetGroupsDto,
  ): Promise<ServiceAccountDto> {
    return this.accounts.setGroups(principal, name, dto);
  }

  @Post(':name/renew-token')
  @HttpCode(HttpStatus.OK)
  @NoStore()
  @RequirePermission(
    'Issue a new token; the old one is refused from this moment',
    'iam:RenewServiceAccountToken',
    BY_NAME,
  )
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  renewToken(
    @CurrentPrincipal() principal: Principal,
    @Param('name') name: string,
    @Body() dto: RenewTokenDto,
  ): Promise<ServiceAccountWithTokenDto> {
    return this.accounts.renewToken(principal, name, dto.token_expires_at);
  }
}
