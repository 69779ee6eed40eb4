import { IsString } from 'class-validator';
import { MaxLength, OptionalNotNull } from '../../common/validators.js';
import { REDIRECT_TO_MAX_LENGTH } from '../redirect-target.js';

export class OidcStartQueryDto {
  /**
   * Where to send the browser once signed in: a path of this site (one leading `/`), or a URL of an origin in
   * IAM_SSO_REDIRECT_ORIGINS. Default `/`. @example "/app/users"
   */
  @OptionalNotNull()
  @MaxLength(REDIRECT_TO_MAX_LENGTH)
  @IsString()
  redirect_to?: string;
}
