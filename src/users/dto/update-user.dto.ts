import { IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { IsMetadata } from '../../common/validators.js';

export class UpdateUserDto {
  /** Absent: unchanged. @example "Mary J." */
  @IsOptional()
  @MinLength(1)
  @MaxLength(150)
  @IsString()
  display_name?: string;

  @IsOptional()
  @IsMetadata({ allowNullValues: true })
  metadata?: Record<string, string | null>;
}
