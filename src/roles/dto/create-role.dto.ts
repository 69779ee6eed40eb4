import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsObject, IsString, Matches, ValidateNested } from 'class-validator';
import {
  IsMetadata,
  SLUG_NAME_MESSAGE,
  SLUG_NAME_PATTERN,
  OptionalNotNull,
  MaxLength,
  MinLength,
} from '../../common/validators.js';
import { PolicyStatementDto } from './policy-statement.dto.js';

export const MAX_STATEMENTS = 100;

export class CreateRoleDto {
  /** Unique; 1–63 lower-case letters, digits or hyphens. @example "user-managers" */
  @ApiProperty({ pattern: SLUG_NAME_PATTERN.source })
  @Matches(SLUG_NAME_PATTERN, { message: SLUG_NAME_MESSAGE })
  @MinLength(1)
  @MaxLength(63)
  @IsString()
  name: string;

  /** Defaults to `name`. @example "User managers" */
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

  /** Statements; empty when absent. */
  @ApiProperty({ type: () => [PolicyStatementDto], required: false })
  @OptionalNotNull()
  @IsArray()
  @ArrayMaxSize(MAX_STATEMENTS)
  @IsObject({ each: true, message: 'each statement in policy must be an object' })
  @ValidateNested({ each: true })
  @Type(() => PolicyStatementDto)
  policy?: PolicyStatementDto[];

  @OptionalNotNull()
  @IsMetadata()
  metadata?: Record<string, string>;
}
