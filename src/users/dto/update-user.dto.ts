import { IsString, MaxLength, MinLength } from 'class-validator';
import { IsMetadata, OptionalNotNull } from '../../common/validators.js';

export class UpdateUserDto {
  /** Absent: unchanged. @example "Mary J." */
  @OptionalNotNull()
  @MinLength(1)
  @MaxLength(150)
  @IsString()
  display_name?: string;

  @OptionalNotNull()
  @IsMetadata({ allowNullValues: true })
  metadata?: Record<string, string | null>;
}
