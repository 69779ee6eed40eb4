import { ArrayMaxSize, IsArray, IsString } from 'class-validator';
import { OptionalNotNull, MaxLength } from '../../common/validators.js';

const MAX_GROUPS = 500;

/**
 * Either `set_groups` alone (the membership becomes exactly that list), or `add_to_groups` and/or
 * `remove_from_groups` (a group named in both is removed). Every named group must exist.
 */
export class SetGroupsDto {
  /** @example ["platform-admins"] */
  @OptionalNotNull()
  @IsArray()
  @ArrayMaxSize(MAX_GROUPS)
  @IsString({ each: true })
  @MaxLength(63, { each: true })
  add_to_groups?: string[];

  /** @example ["interns"] */
  @OptionalNotNull()
  @IsArray()
  @ArrayMaxSize(MAX_GROUPS)
  @IsString({ each: true })
  @MaxLength(63, { each: true })
  remove_from_groups?: string[];

  /** @example ["platform-admins", "on-call"] */
  @OptionalNotNull()
  @IsArray()
  @ArrayMaxSize(MAX_GROUPS)
  @IsString({ each: true })
  @MaxLength(63, { each: true })
  set_groups?: string[];
}
