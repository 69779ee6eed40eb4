import { Body, Param, Patch } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse } from '@nestjs/swagger';
import { CurrentPrincipal, RequirePermission } from '../auth/access.decorators.js';
import type { Principal } from '../auth/principal.js';
import { ApiError } from '../common/api-error.js';
import { ErrorResponseDto } from '../common/dto/error-response.dto.js';
import { UserDto } from '../users/dto/user-response.dto.js';
import { UpdateProfileDto } from './dto/update-profile.dto.js';
import { ProfilesService } from './profiles.service.js';
import { IamController } from '../auth/iam-controller.decorator.js';

@IamController('users', 'users')
export class ProfilesController {
  constructor(private readonly profiles: ProfilesService) {}

  @Patch(':name/profile')
  @RequirePermission(
    "Update a user's profile (`me` for the signed-in user)",
    'iam:UpdateUserProfile',
    { from: 'param', kind: 'user', param: 'name' },
    { allowSelf: true },
  )
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  update(
    @CurrentPrincipal() principal: Principal,
    @Param('name') name: string,
    @Body() dto: UpdateProfileDto,
  ): Promise<UserDto> {
    if (name.toLowerCase() !== 'me') {
      return this.profiles.update(principal, name, dto);
    }
    if (principal.kind !== 'user') {
      throw ApiError.forbidden('/users/me/profile is for signed-in users; a service account has no profile');
    }
    return this.profiles.update(principal, principal.name, dto);
  }
}
