import type { SsoMethod } from './entities/user-identity.entity.js';

/**
 * Who a single sign-on protocol (OIDC, SAML) vouches for, once it has verified the provider's answer (signature,
 * issuer, audience, time, replay): everything SsoSignInService needs, and nothing of the protocol.
 */
export interface SsoIdentity {
  method: SsoMethod;
  /** The provider: OIDC `iss`, SAML IdP entity id. */
  issuer: string;
  /** The provider's stable id of the person: OIDC `sub`, SAML NameID. */
  subject: string;
  /** The user name (from the configured claim or attribute), as the provider sends it. */
  username: string;
  displayName?: string;
  fullName?: string;
  email?: string;
  /** The provider's groups; absent when it sent none (memberships are then left as they are). */
  groups?: string[];
}
