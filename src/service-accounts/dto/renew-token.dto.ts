import { IsISO8601, IsString } from 'class-validator';
import { OptionalNotNull } from '../../common/validators.js';

export class RenewTokenDto {
  /** ISO-8601, in the future; absent: the new token never expires (unless IAM_SA_TOKEN_MAX_TTL_DAYS). @example "2027-06-30T00:00:00Z" */
  @OptionalNotNull()
  @IsISO8601({ strict: true })
  @IsString()
  token_expires_at?: string;
}
