import { PickType } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsString } from 'class-validator';
import { IsMetadata, OptionalNotNull, MaxLength } from '../../common/validators.js';
import { CreateGroupDto, MAX_LIST } from './create-group.dto.js';

/**
 * Absent fields stay as they are. `roles` replaces the bindings (needs iam:UpdateGroupRoles too). Members:
 * `set_members` alone, or `add_members` and/or `remove_members` (a name in both is removed); any of them, and a
 * changed `sso_name` (empty: none), needs iam:UpdateGroupMembers too.
 */
export class UpdateGroupDto extends PickType(CreateGroupDto, [
  'display_name',
  'sso_name',
  'description',
  'roles',
] as const) {
  /** Principal names to add. @example ["alice"] */
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
