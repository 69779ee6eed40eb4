import { Controller, Get, Param } from '@nestjs/common';
import { ApiNotFoundResponse, ApiTags } from '@nestjs/swagger';
import { RequirePermission } from '../auth/access.decorators.js';
import { ErrorResponseDto } from '../common/dto/error-response.dto.js';
import { ServiceAccountDto, ServiceAccountListDto } from './dto/service-account-response.dto.js';
import { ServiceAccountsService } from './service-accounts.service.js';

@ApiTags('service-accounts')
@Controller('service-accounts')
export class ServiceAccountsController {
  constructor(private readonly accounts: ServiceAccountsService) {}

  @Get()
  @RequirePermission('List service accounts', 'iam:ListServiceAccounts', { from: 'all', kind: 'service-account' })
  async list(): Promise<ServiceAccountListDto> {
    return { items: await this.accounts.list() };
  }

  @Get(':name')
  @RequirePermission('Get a service account', 'iam:GetServiceAccount', {
    from: 'param',
    kind: 'service-account',
    param: 'name',
  })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  get(@Param('name') name: string): Promise<ServiceAccountDto> {
    return this.accounts.get(name);
  }
}
