import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsString, MaxLength, MinLength, ValidateNested } from 'class-validator';
import { IsMetadata, OptionalNotNull } from '../../common/validators.js';
import { MAX_STATEMENTS } from './create-role.dto.js';
import { PolicyStatementDto } from './policy-statement.dto.js';

/** Absent fields stay as they are; `policy` replaces the whole policy. */
export class UpdateRoleDto {
  /** @example "User managers" */
  @OptionalNotNull()
  @MinLength(1)
  @MaxLength(150)
  @IsString()
  display_name?: string;

  /** @example "Manage users, except the root-* ones" */
  @OptionalNotNull()
  @MaxLength(280)
  @IsString()
  description?: string;

  @OptionalNotNull()
  @IsArray()
  @ArrayMaxSize(MAX_STATEMENTS)
  @ValidateNested({ each: true })
  @Type(() => PolicyStatementDto)
  policy?: PolicyStatementDto[];

  @OptionalNotNull()
  @IsMetadata({ allowNullValues: true })
  metadata?: Record<string, string | null>;
}
