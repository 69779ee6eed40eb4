import { IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { IsMetadata } from '../../common/validators.js';

/** Absent fields stay as they are. */
export class UpdateServiceAccountDto {
  /** @example "CI deployer" */
  @IsOptional()
  @MinLength(1)
  @MaxLength(150)
  @IsString()
  display_name?: string;

  /** @example "Deploys from CI" */
  @IsOptional()
  @MaxLength(250)
  @IsString()
  description?: string;

  @IsOptional()
  @IsMetadata({ allowNullValues: true })
  metadata?: Record<string, string | null>;
}
