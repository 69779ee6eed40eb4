import { Body, HttpCode, HttpStatus, Ip, Param, Put } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNoContentResponse, ApiNotFoundResponse } from '@nestjs/swagger';
import { AuditedAs } from '../audit/audit-route.js';
import { CurrentPrincipal, RequirePermission, SelfService } from '../auth/access.decorators.js';
import type { Principal } from '../auth/principal.js';
import { ErrorResponseDto } from '../common/dto/error-response.dto.js';
import { RateLimit } from '../rate-limit/rate-limits.js';
import { ChangeOwnPasswordDto, SetPasswordDto } from './dto/password.dto.js';
import { SessionsService } from './sessions.service.js';
import { IamController } from '../auth/iam-controller.decorator.js';

@IamController('users', 'users')
export class PasswordsController {
  constructor(private readonly sessions: SessionsService) {}

  // Declared before `:name/password` so that "me" is never taken for a user name.
  @Put('me/password')
  @HttpCode(HttpStatus.NO_CONTENT)
  @SelfService("Change the signed-in user's password; ends their other sessions")
  @AuditedAs('iam:ChangePassword', { from: 'self' })
  @RateLimit('password-change')
  @ApiNoContentResponse({ description: 'Changed' })
  @ApiBadRequestResponse({
    description: 'Invalid body, or current_password is wrong (or the account is locked: the same answer)',
    type: ErrorResponseDto,
  })
  changeOwn(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: ChangeOwnPasswordDto,
    @Ip() clientAddress: string,
  ): Promise<void> {
    return this.sessions.changeOwnPassword(principal, dto.current_password, dto.new_password, clientAddress);
  }

  @Put(':name/password')
  @HttpCode(HttpStatus.NO_CONTENT)
  @RequirePermission("Set a user's password; ends all of that user's sessions", 'iam:SetUserPassword', {
    from: 'param',
    kind: 'user',
    param: 'name',
  })
  @ApiNoContentResponse({ description: 'Set' })
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  set(
    @CurrentPrincipal() principal: Principal,
    @Param('name') name: string,
    @Body() dto: SetPasswordDto,
  ): Promise<void> {
    return this.sessions.setPassword(principal, name, dto.password);
  }
}
