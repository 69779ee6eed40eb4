import { IsString } from 'class-validator';
import { IsRfc3339DateTime, OptionalNotNull } from '../../common/validators.js';

export class RenewTokenDto {
  /**
   * An RFC 3339 date-time with a time zone (`Z` or `±hh:mm`; fractional seconds allowed, read to the
   * millisecond; a date alone is refused), in the future. Absent: the new token never expires (unless
   * IAM_SA_TOKEN_MAX_TTL_DAYS).
   * @example "2027-06-30T00:00:00Z"
   */
  @OptionalNotNull()
  @IsRfc3339DateTime()
  @IsString()
  token_expires_at?: string;
}
