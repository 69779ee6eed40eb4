import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsString, Matches } from 'class-validator';
import {
  IsMetadata,
  SLUG_NAME_MESSAGE,
  SLUG_NAME_PATTERN,
  OptionalNotNull,
  MaxLength,
  MinLength,
} from '../../common/validators.js';

export const MAX_LIST = 500;

export class CreateGroupDto {
  /** Unique; 1–63 lower-case letters, digits or hyphens. @example "platform-admins" */
  @ApiProperty({ pattern: SLUG_NAME_PATTERN.source })
  @Matches(SLUG_NAME_PATTERN, { message: SLUG_NAME_MESSAGE })
  @MinLength(1)
  @MaxLength(63)
  @IsString()
  name: string;

  /** Defaults to `name`. @example "Platform administrators" */
  @OptionalNotNull()
  @MinLength(1)
  @MaxLength(150)
  @IsString()
  display_name?: string;

  /**
   * The identity provider's group whose members single sign-on puts in this group (and takes out of it); none when
   * absent or empty, and then single sign-on leaves the group's members alone. Setting it needs
   * iam:UpdateGroupMembers too, and the right to bind the group's roles. @example "platform-admins"
   */
  @OptionalNotNull()
  @MaxLength(150)
  @IsString()
  sso_name?: string;

  /** @example "People who run the platform" */
  @OptionalNotNull()
  @MaxLength(250)
  @IsString()
  description?: string;

  /** Principal names (users or service accounts). Needs iam:UpdateGroupMembers too. @example ["alice"] */
  @OptionalNotNull()
  @IsArray()
  @ArrayMaxSize(MAX_LIST)
  @MaxLength(100, { each: true })
  @IsString({ each: true })
  members?: string[];

  /** Role names to bind. Needs iam:UpdateGroupRoles too. @example ["user-managers"] */
  @OptionalNotNull()
  @IsArray()
  @ArrayMaxSize(MAX_LIST)
  @MaxLength(63, { each: true })
  @IsString({ each: true })
  roles?: string[];

  @OptionalNotNull()
  @IsMetadata()
  metadata?: Record<string, string>;
}
