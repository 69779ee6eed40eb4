import { ArrayMaxSize, IsArray, IsString, MaxLength, MinLength } from 'class-validator';
import { IsMetadata, OptionalNotNull } from '../../common/validators.js';
import { MAX_LIST } from './create-group.dto.js';

/**
 * Absent fields stay as they are. Members: `set_members` alone, or `add_members` and/or `remove_members`
 * (a name in both is removed). `roles` replaces the bindings.
 */
export class UpdateGroupDto {
  /** @example "Platform administrators" */
  @OptionalNotNull()
  @MinLength(1)
  @MaxLength(150)
  @IsString()
  display_name?: string;

  /** @example "People who run the platform" */
  @OptionalNotNull()
  @MaxLength(250)
  @IsString()
  description?: string;

  /** Replaces the role bindings. Needs iam:UpdateGroupRoles too. @example ["user-managers"] */
  @OptionalNotNull()
  @IsArray()
  @ArrayMaxSize(MAX_LIST)
  @MaxLength(63, { each: true })
  @IsString({ each: true })
  roles?: string[];

  /** Principal names to add. Needs iam:UpdateGroupMembers too. @example ["alice"] */
  @OptionalNotNull()
  @IsArray()
  @ArrayMaxSize(MAX_LIST)
  @MaxLength(100, { each: true })
  @IsString({ each: true })
  add_members?: string[];

  /** @example ["bob"] */
  @OptionalNotNull()
  @IsArray()
  @ArrayMaxSize(MAX_LIST)
  @MaxLength(100, { each: true })
  @IsString({ each: true })
  remove_members?: string[];

  /** @example ["alice", "ci-deployer"] */
  @OptionalNotNull()
  @IsArray()
  @ArrayMaxSize(MAX_LIST)
  @MaxLength(100, { each: true })
  @IsString({ each: true })
  set_members?: string[];

  @OptionalNotNull()
  @IsMetadata({ allowNullValues: true })
  metadata?: Record<string, string | null>;
}
