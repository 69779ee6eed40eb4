import { Body, Get, Patch } from '@nestjs/common';
import { ApiBadRequestResponse } from '@nestjs/swagger';
import { AuditedAs } from '../audit/audit-route.js';
import { CurrentPrincipal, SelfService } from '../auth/access.decorators.js';
import type { Principal } from '../auth/principal.js';
import { ErrorResponseDto } from '../common/dto/error-response.dto.js';
import { SettingsDto, UpdateSettingsDto } from './dto/settings.dto.js';
import { SettingsService } from './settings.service.js';
import { IamController } from '../auth/iam-controller.decorator.js';

@IamController('users/me/settings', 'users')
export class SettingsController {
  constructor(private readonly settings: SettingsService) {}

  @Get()
  @SelfService("The signed-in user's settings, defaults filled in")
  @AuditedAs('iam:GetUserSettings', { from: 'self' })
  get(@CurrentPrincipal() principal: Principal): Promise<SettingsDto> {
    return this.settings.get(principal.id);
  }

  @Patch()
  @SelfService("Change the signed-in user's settings; absent fields stay as they are")
  @AuditedAs('iam:UpdateUserSettings', { from: 'self' })
  @ApiBadRequestResponse({ description: 'An invalid value; invalid_fields names it', type: ErrorResponseDto })
  update(@CurrentPrincipal() principal: Principal, @Body() dto: UpdateSettingsDto): Promise<SettingsDto> {
    return this.settings.update(principal, dto);
  }
}
