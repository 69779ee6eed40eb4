import { registerAs } from '@nestjs/config';
import { samlSettingsOf, validateEnvironment } from './env.validation.js';
import { resolveSamlSettings, type SamlConfig } from './saml-settings.js';

/** OIDC sign-in (OidcService): the provider, this service as its client, and which claims carry what. */
export interface OidcConfig {
  /** The provider's issuer URL, as its discovery document names it. */
  issuer: string;
  clientId: string;
  /** Absent: a public client (PKCE alone). */
  clientSecret?: string;
  /** This service's callback (GET …/login/oidc/callback), exactly as registered with the provider. */
  redirectUri: string;
  /** Space-separated (`openid profile email`). */
  scopes: string;
  /** The claim holding the user name; absent: `preferred_username`, else `email`. */
  usernameClaim?: string;
  groupsClaim: string;
}

/** Single sign-on and which ways of signing in are open (see the README, "Single sign-on"). */
export interface SsoConfig {
  /** `admins-only`: password sign-in only for administrators (IAM_ADMINISTRATORS). */
  passwordLogin: 'all' | 'admins-only';
  /** Sets an SSO user's membership of the groups with an sso_name at every sign-in. */
  groupSync: boolean;
  /** Lets a first sign-in link a user with a password or an administrator (else refused). */
  linkExistingUsers: boolean;
  /** Origins, besides relative paths, a sign-in may send the browser back to. */
  redirectOrigins: string[];
  oidc?: OidcConfig;
  saml?: SamlConfig;
  /** SCIM provisioning accepts Microsoft Entra ID's known quirks (see the README, "Provisioning with SCIM"). */
  scimLenient: boolean;
}

export const ssoConfig = registerAs('sso', (): SsoConfig => {
  const env = validateEnvironment(process.env);
  return {
    passwordLogin: env.IAM_PASSWORD_LOGIN,
    groupSync: env.IAM_SSO_GROUP_SYNC,
    linkExistingUsers: env.IAM_SSO_LINK_EXISTING_USERS,
    scimLenient: env.IAM_SCIM_LENIENT,
    redirectOrigins: (env.IAM_SSO_REDIRECT_ORIGINS ?? '')
      .split(',')
      .map((origin) => origin.trim())
      .filter((origin) => origin.length > 0),
    oidc:
      env.IAM_OIDC_ISSUER && env.IAM_OIDC_CLIENT_ID && env.IAM_OIDC_REDIRECT_URI
        ? {
            issuer: env.IAM_OIDC_ISSUER,
            clientId: env.IAM_OIDC_CLIENT_ID,
            clientSecret: env.IAM_OIDC_CLIENT_SECRET,
            redirectUri: env.IAM_OIDC_REDIRECT_URI,
            scopes: env.IAM_OIDC_SCOPES,
            usernameClaim: env.IAM_OIDC_USERNAME_CLAIM,
            groupsClaim: env.IAM_OIDC_GROUPS_CLAIM,
          }
        : undefined,
    saml: resolveSamlSettings(samlSettingsOf(env)).config,
  };
});
