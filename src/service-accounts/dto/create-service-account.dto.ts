import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches } from 'class-validator';
import {
  IsMetadata,
  IsRfc3339DateTime,
  SLUG_NAME_MESSAGE,
  SLUG_NAME_PATTERN,
  OptionalNotNull,
  MaxLength,
  MinLength,
} from '../../common/validators.js';

export class CreateServiceAccountDto {
  /** Unique among users and service accounts; 1–63 lower-case letters, digits or hyphens. @example "ci-deployer" */
  @ApiProperty({ pattern: SLUG_NAME_PATTERN.source })
  @Matches(SLUG_NAME_PATTERN, { message: SLUG_NAME_MESSAGE })
  @MinLength(1)
  @MaxLength(63)
  @IsString()
  name: string;

  /** Defaults to `name`. @example "CI deployer" */
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

  /**
   * An RFC 3339 date-time with a time zone (`Z` or `±hh:mm`; fractional seconds allowed, read to the
   * millisecond; a date alone is refused), in the future. Absent: the token never expires (unless
   * IAM_SA_TOKEN_MAX_TTL_DAYS).
   * @example "2027-06-30T00:00:00Z"
   */
  @OptionalNotNull()
  @IsRfc3339DateTime()
  @IsString()
  token_expires_at?: string;

  @OptionalNotNull()
  @IsMetadata()
  metadata?: Record<string, string>;
}
