import { IsString } from 'class-validator';
import { MaxLength, OptionalNotNull } from '../../common/validators.js';
import { SAML_RESPONSE_MAX_LENGTH } from '../saml/saml.service.js';

/** The identity provider's HTTP-POST binding: a form with the response (base64) and the relay state it was given. */
export class SamlAcsBodyDto {
  /** The SAML Response, base64-encoded XML. */
  @MaxLength(SAML_RESPONSE_MAX_LENGTH)
  @IsString()
  SAMLResponse: string;

  /** Sent back by the provider as it was given; not used (where to go after is kept in the flow cookie). */
  @OptionalNotNull()
  @MaxLength(1000)
  @IsString()
  RelayState?: string;
}
