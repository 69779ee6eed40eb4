import { HttpStatus, Inject, Injectable, Logger } from '@nestjs/common';
import * as client from 'openid-client';
import { auditTarget } from '../../audit/audit-event.js';
import { AuditService } from '../../audit/audit.service.js';
import { ApiError } from '../../common/api-error.js';
import { isLoopbackUrl } from '../../config/env.validation.js';
import type { OidcConfig, SsoConfig } from '../../config/sso.config.js';
import { IAM_SSO_CONFIG } from '../../iam.options.js';
import type { NewSession, SignInClient } from '../../sessions/sessions.service.js';
import { safeRedirectTarget } from '../redirect-target.js';
import { SsoSignInRefused, SsoSignInService } from '../sso-sign-in.service.js';
import { SsoStateService } from '../sso-state.service.js';
import type { SsoIdentity } from '../sso-identity.js';

/** How long a browser has between the redirect to the provider and its answer. */
export const OIDC_FLOW_MINUTES = 10;

/** How long a request to the provider (discovery, token, userinfo) may take. */
const PROVIDER_TIMEOUT_SECONDS = 10;

const FLOW_PURPOSE = 'oidc-flow';

/** What the flow cookie holds between the redirect and the callback. */
interface OidcFlow {
  state: string;
  nonce: string;
  verifier: string;
  redirectTo: string;
}

/** The start of a sign-in: where to send the browser, and the sealed flow to keep in its cookie. */
export interface OidcStart {
  url: string;
  flow: string;
  expiresAt: Date;
}

/** Node's and undici's codes of a provider that cannot be reached. */
const NETWORK_CODES = /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|UND_ERR_.*)$/;

/** Whether an error (or one of its causes) says the provider could not be reached or did not answer in time. */
function isUnreachable(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth++) {
    const code = (cause as { code?: unknown }).code;
    if (
      cause.name === 'AbortError' ||
      cause.name === 'TimeoutError' ||
      cause.message === 'fetch failed' ||
      code === 'OAUTH_TIMEOUT' ||
      (typeof code === 'string' && NETWORK_CODES.test(code))
    ) {
      return true;
    }
  }
  return false;
}

const providerUnavailable = (what: string) =>
  new ApiError(
    HttpStatus.SERVICE_UNAVAILABLE,
    'service_unavailable',
    `The identity provider could not be reached (${what}): try again later`,
  ).withRetryAfter(5);

/**
 * OIDC sign-in (authorization code flow with PKCE S256, state and nonce) with openid-client: the provider's
 * metadata is discovered at the first sign-in (and again after a failure: a provider that is down answers 503 and
 * never holds up the start-up), its answer checked by openid-client (issuer, audience, signature against the
 * provider's JWKS, expiry and not-before, nonce, state; the user info's subject against the ID token's), and the
 * verified identity handed to SsoSignInService.
 */
@Injectable()
export class OidcService {
  private readonly logger = new Logger(OidcService.name);
  private configuration?: Promise<client.Configuration>;

  constructor(
    @Inject(IAM_SSO_CONFIG) private readonly config: SsoConfig,
    private readonly states: SsoStateService,
    private readonly sso: SsoSignInService,
    private readonly audit: AuditService,
  ) {}

  /**
   * Where to send the browser to sign in, with a new state, nonce and PKCE verifier sealed in the flow (kept by the
   * browser until the callback). `redirectTo`: where to go after (a path of this site or a URL of an allowed origin;
   * 400 otherwise); `/` by default. 404 when OIDC is not configured; 503 when the provider cannot be reached.
   */
  async start(redirectTo: string | undefined): Promise<OidcStart> {
    const oidc = this.oidcConfig();
    const target = redirectTo === undefined ? '/' : safeRedirectTarget(redirectTo, this.config.redirectOrigins);
    if (target === null) {
      throw ApiError.invalidField(
        'redirect_to',
        'invalid_value',
        'redirect_to must be a path of this site (one leading /) or a URL of an allowed origin (IAM_SSO_REDIRECT_ORIGINS)',
      );
    }
    const configuration = await this.discovered(oidc);
    const flow: OidcFlow = {
      state: client.randomState(),
      nonce: client.randomNonce(),
      verifier: client.randomPKCECodeVerifier(),
      redirectTo: target,
    };
    const url = client.buildAuthorizationUrl(configuration, {
      redirect_uri: oidc.redirectUri,
      scope: oidc.scopes,
      response_type: 'code',
      state: flow.state,
      nonce: flow.nonce,
      code_challenge: await client.calculatePKCECodeChallenge(flow.verifier),
      code_challenge_method: 'S256',
    });
    const expiresAt = new Date(Date.now() + OIDC_FLOW_MINUTES * 60_000);
    return { url: url.href, flow: await this.states.seal(FLOW_PURPOSE, { ...flow }, expiresAt), expiresAt };
  }

  /**
   * The provider's answer (`search`: the callback's query string) checked against the flow the browser kept, the code
   * exchanged (with the PKCE verifier), the ID token verified, the user info read, and the identity signed in. A
   * refusal is recorded as a failed `iam:Login` with its reason code: `oidc_invalid_state` (no flow, or another
   * state: 400), `oidc_provider_error` (the provider refused: 401), `oidc_invalid_response` (a code refused, replayed
   * or expired, or an ID token that fails a check: 401), and the core's (SsoSignInService).
   */
  async finish(
    search: string,
    sealedFlow: string | undefined,
    signInClient: SignInClient,
    presented: string | undefined,
  ): Promise<{ session: NewSession; redirectTo: string }> {
    const oidc = this.oidcConfig();
    const params = new URLSearchParams(search);
    const opened = await this.states.open(FLOW_PURPOSE, sealedFlow);
    const flow = opened as Partial<OidcFlow> | null;
    if (!flow || typeof flow.state !== 'string' || flow.state !== params.get('state')) {
      throw await this.refused(
        'oidc_invalid_state',
        ApiError.badRequest(
          'The sign-in does not match one started in this browser (or took too long): start again from the sign-in page',
        ),
      );
    }
    const configuration = await this.discovered(oidc);
    const identity = await this.verifiedIdentity(configuration, oidc, params, flow as OidcFlow);
    const session = await this.sso.signIn(identity, signInClient, presented);
    return { session, redirectTo: flow.redirectTo ?? '/' };
  }

  private oidcConfig(): OidcConfig {
    if (!this.config.oidc) {
      throw ApiError.notFound('OIDC sign-in is not configured');
    }
    return this.config.oidc;
  }

  /** The code exchanged and the ID token and user info checked (openid-client); the identity they name. */
  private async verifiedIdentity(
    configuration: client.Configuration,
    oidc: OidcConfig,
    params: URLSearchParams,
    flow: OidcFlow,
  ): Promise<SsoIdentity> {
    // The callback URL as registered, with the query the provider sent: never built from the request's Host.
    const currentUrl = new URL(oidc.redirectUri);
    currentUrl.search = params.toString();
    let claims: Record<string, unknown>;
    try {
      const tokens = await client.authorizationCodeGrant(configuration, currentUrl, {
        pkceCodeVerifier: flow.verifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
        idTokenExpected: true,
      });
      const idToken = tokens.claims();
      if (!idToken) {
        throw new client.ClientError('no ID token');
      }
      claims = { ...idToken };
      if (configuration.serverMetadata().userinfo_endpoint && tokens.access_token) {
        const userInfo = await client.fetchUserInfo(configuration, tokens.access_token, idToken.sub);
        // The ID token's claims win over the user info's.
        claims = { ...userInfo, ...idToken };
      }
    } catch (error) {
      if (isUnreachable(error)) {
        this.logger.warn({ err: String(error) }, 'OIDC: the identity provider could not be reached');
        throw providerUnavailable('token endpoint');
      }
      if (error instanceof client.AuthorizationResponseError) {
        throw await this.refused(
          'oidc_provider_error',
          ApiError.unauthorised(`The identity provider refused the sign-in (${error.error})`),
        );
      }
      this.logger.warn({ err: String(error) }, 'OIDC: answer of the identity provider refused');
      throw await this.refused(
        'oidc_invalid_response',
        ApiError.unauthorised(
          'The identity provider’s answer could not be verified: start again from the sign-in page',
        ),
      );
    }
    return this.identityOf(oidc, claims);
  }

  /** The identity the verified claims name: user name from the configured claim, groups, profile. */
  private async identityOf(oidc: OidcConfig, claims: Record<string, unknown>): Promise<SsoIdentity> {
    const string = (name: string) => (typeof claims[name] === 'string' ? claims[name] : undefined);
    const usernameClaim = oidc.usernameClaim ?? (string('preferred_username') ? 'preferred_username' : 'email');
    const username = string(usernameClaim);
    if (username === undefined) {
      throw await this.refused(
        'sso_invalid_username',
        ApiError.badRequest(`The identity provider sent no ${usernameClaim} claim to take the user name from`),
      );
    }
    if (usernameClaim === 'email' && claims.email_verified === false) {
      // Anyone can claim an address at some providers: a name from an address the provider has not verified is not one.
      throw await this.refused(
        'oidc_email_unverified',
        ApiError.forbidden('The identity provider has not verified the e-mail address the user name is taken from'),
      );
    }
    const rawGroups = claims[oidc.groupsClaim];
    const groups = Array.isArray(rawGroups)
      ? rawGroups.filter((group): group is string => typeof group === 'string')
      : typeof rawGroups === 'string'
        ? [rawGroups]
        : undefined;
    return {
      method: 'oidc',
      issuer: string('iss') ?? oidc.issuer,
      subject: string('sub') ?? '',
      username,
      displayName: string('name'),
      fullName: string('name'),
      email: string('email'),
      groups,
    };
  }

  /** Records the failed sign-in (`iam:Login`, the reason code) and returns the answer to throw. */
  private async refused(reason: string, error: ApiError): Promise<SsoSignInRefused> {
    await this.audit.recordAlone({
      action: 'iam:Login',
      target: auditTarget('user', '*'),
      outcome: 'failed',
      reason,
      actor: null,
      changes: { auth_method: { before: null, after: 'oidc' } },
    });
    return new SsoSignInRefused(reason, error);
  }

  /** The provider's configuration (discovery), once; a failure is not kept, so the next sign-in tries again. */
  private discovered(oidc: OidcConfig): Promise<client.Configuration> {
    this.configuration ??= (async () => {
      const issuer = new URL(oidc.issuer);
      const configuration = await client.discovery(
        issuer,
        oidc.clientId,
        undefined,
        oidc.clientSecret === undefined ? client.None() : client.ClientSecretBasic(oidc.clientSecret),
        {
          timeout: PROVIDER_TIMEOUT_SECONDS,
          // Plain HTTP only for a provider on a loopback address (development, tests): the settings refuse it elsewhere.
          execute: issuer.protocol === 'http:' && isLoopbackUrl(issuer) ? [client.allowInsecureRequests] : [],
        },
      );
      configuration.timeout = PROVIDER_TIMEOUT_SECONDS;
      // openid-client checks the ID token's claims but, by default, not its signature (the token endpoint's TLS
      // vouches for it): the signature is checked too, against the provider's published keys (jwks_uri, kept for
      // 5 minutes and fetched again for a key it does not hold), so an answer altered on its way, or signed with
      // any other key, is refused. HS* (client secret) and unsigned ID tokens are refused.
      client.enableNonRepudiationChecks(configuration);
      return configuration;
    })().catch((error: unknown) => {
      this.configuration = undefined;
      this.logger.warn({ err: String(error) }, 'OIDC: discovery of the identity provider failed');
      throw isUnreachable(error)
        ? providerUnavailable('discovery')
        : new ApiError(
            HttpStatus.SERVICE_UNAVAILABLE,
            'service_unavailable',
            'The identity provider’s configuration could not be read (discovery): try again later',
          ).withRetryAfter(5);
    });
    return this.configuration;
  }
}
