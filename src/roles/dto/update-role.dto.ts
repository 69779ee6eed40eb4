import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsOptional, IsString, MaxLength, MinLength, ValidateNested } from 'class-validator';
import { IsMetadata } from '../../common/validators.js';
import { MAX_STATEMENTS } from './create-role.dto.js';
import { PolicyStatementDto } from './policy-statement.dto.js';

/** Absent fields stay as they are; `policy` replaces the whole policy. */
export class UpdateRoleDto {
  /** @example "User managers" */
  @IsOptional()
  @MinLength(1)
  @MaxLength(150)
  @IsString()
  display_name?: string;

  /** @example "Manage users, except the root-* ones" */
  @IsOptional()
  @MaxLength(280)
  @IsString()
  description?: string;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_STATEMENTS)
  @ValidateNested({ each: true })
  @Type(() => PolicyStatementDto)
  policy?: PolicyStatementDto[];

  @IsOptional()
  @IsMetadata({ allowNullValues: true })
  metadata?: Record<string, string | null>;
}
