import { IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { SLUG_NAME_MESSAGE, SLUG_NAME_PATTERN } from '../../common/validators.js';

export class CreateGroupDto {
  /** Unique; 1–63 lower-case letters, digits or hyphens. @example "platform-admins" */
  @Matches(SLUG_NAME_PATTERN, { message: SLUG_NAME_MESSAGE })
  @MinLength(1)
  @MaxLength(63)
  @IsString()
  name: string;

  /** Defaults to `name`. @example "Platform administrators" */
  @IsOptional()
  @MinLength(1)
  @MaxLength(150)
  @IsString()
  display_name?: string;

  /** @example "People who run the platform" */
  @IsOptional()
  @MaxLength(250)
  @IsString()
  description?: string;
}
