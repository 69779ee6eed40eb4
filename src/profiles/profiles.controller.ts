import { Body, Controller, Param, Patch } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiTags } from '@nestjs/swagger';
import { RequirePermission } from '../auth/access.decorators.js';
import { ErrorResponseDto } from '../common/dto/error-response.dto.js';
import { UserDto } from '../users/dto/user-response.dto.js';
import { UpdateProfileDto } from './dto/update-profile.dto.js';
import { ProfilesService } from './profiles.service.js';

@ApiTags('users')
@Controller('users')
export class ProfilesController {
  constructor(private readonly profiles: ProfilesService) {}

  @Patch(':name/profile')
  @RequirePermission(
    "Update a user's profile",
    'iam:UpdateUserProfile',
    { from: 'param', kind: 'user', param: 'name' },
    { allowSelf: true },
  )
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  update(@Param('name') name: string, @Body() dto: UpdateProfileDto): Promise<UserDto> {
    return this.profiles.update(name, dto);
  }
}
