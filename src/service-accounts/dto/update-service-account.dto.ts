import { IsString, MaxLength, MinLength } from 'class-validator';
import { IsMetadata, OptionalNotNull } from '../../common/validators.js';

/** Absent fields stay as they are. */
export class UpdateServiceAccountDto {
  /** @example "CI deployer" */
  @OptionalNotNull()
  @MinLength(1)
  @MaxLength(150)
  @IsString()
  display_name?: string;

  /** @example "Deploys from CI" */
  @OptionalNotNull()
  @MaxLength(250)
  @IsString()
  description?: string;

  @OptionalNotNull()
  @IsMetadata({ allowNullValues: true })
  metadata?: Record<string, string | null>;
}
