import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  type CacheProvider,
  generateServiceProviderMetadata,
  type Profile,
  SAML,
  type SamlConfig as NodeSamlConfig,
  SamlStatusError,
  ValidateInResponseTo,
} from '@node-saml/node-saml';
import { DOMParser } from '@xmldom/xmldom';
import { LessThan } from 'typeorm';
import xpath from 'xpath';
import { ApiError } from '../../common/api-error.js';
import type { SamlConfig } from '../../config/saml-settings.js';
import type { SsoConfig } from '../../config/sso.config.js';
import { isUniqueViolation } from '../../database/database-errors.js';
import { TransactionService } from '../../database/transaction.service.js';
import { IAM_SSO_CONFIG } from '../../iam.options.js';
import type { NewSession, SignInClient } from '../../sessions/sessions.service.js';
import { SamlAssertion } from '../entities/saml-assertion.entity.js';
import { safeRedirectTarget } from '../redirect-target.js';
import { type SsoSignInRefused, SsoSignInService } from '../sso-sign-in.service.js';
import { SsoStateService } from '../sso-state.service.js';
import type { SsoIdentity } from '../sso-identity.js';

/** How long a browser has between the redirect to the identity provider and its answer. */
export const SAML_FLOW_MINUTES = 10;

/** The clock skew accepted on NotBefore and NotOnOrAfter. */
export const SAML_CLOCK_SKEW_SECONDS = 60;

/** The longest SAMLResponse (base64) read. */
export const SAML_RESPONSE_MAX_LENGTH = 90_000;

/** How long a consumed assertion id is kept when the assertion names no NotOnOrAfter (the protocol requires one). */
const DEFAULT_ASSERTION_LIFETIME_MS = 24 * 3600_000;

const FLOW_PURPOSE = 'saml-flow';
const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';

/** What the flow cookie holds between the redirect and the answer. */
interface SamlFlow {
  requestId: string;
  /** When the request was made (node-saml's cache value: it checks the answer came within the flow's time). */
  issuedAt: string;
  redirectTo: string;
}

export interface SamlStart {
  url: string;
  flow: string;
  expiresAt: Date;
}

/** xml2js's shape of an element, as node-saml parses the verified assertion. */
interface XmlNode {
  $?: Record<string, string>;
  _?: string;
  [child: string]: unknown;
}

const children = (node: XmlNode | undefined, name: string): XmlNode[] =>
  Array.isArray(node?.[name]) ? (node[name] as XmlNode[]) : [];

/** node-saml's error messages, as the reason codes of the failed `iam:Login`. */
function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  if (error instanceof SamlStatusError) {
    return 'saml_provider_error';
  }
  if (/InResponseTo/i.test(message)) {
    return 'saml_unknown_request';
  }
  if (/signature/i.test(message)) {
    return 'saml_invalid_signature';
  }
  if (/audience/i.test(message)) {
    return 'saml_wrong_audience';
  }
  // node-saml: a bearer confirmation outside its time window is no valid subject confirmation.
  if (/not yet valid|expired|no valid subject confirmation/i.test(message)) {
    return 'saml_outside_validity';
  }
  return 'saml_invalid_response';
}

/**
 * SAML 2.0 sign-in (SP-initiated, HTTP-Redirect AuthnRequest, HTTP-POST response) with @node-saml/node-saml: the
 * response or its assertion signed by the identity provider's certificate, audience our entity id, NotBefore /
 * NotOnOrAfter with SAML_CLOCK_SKEW_SECONDS of skew, InResponseTo the request this browser's flow cookie holds (checked
 * by node-saml); here: the recipient and destination our ACS URL, the issuer the provider's entity id, and each
 * assertion consumed once (SamlAssertion, shared by every instance). The verified identity goes to SsoSignInService.
 */
@Injectable()
export class SamlService {
  private readonly logger = new Logger(SamlService.name);

  constructor(
    @Inject(IAM_SSO_CONFIG) private readonly config: SsoConfig,
    private readonly states: SsoStateService,
    private readonly sso: SsoSignInService,
    private readonly tx: TransactionService,
  ) {}

  /**
   * This service provider's metadata (entity id, ACS URL, WantAssertionsSigned: asks the provider to sign its
   * assertions, though a signed response is accepted too). 404 when SAML is off.
   */
  metadata(): string {
    const saml = this.samlConfig();
    return generateServiceProviderMetadata({
      issuer: saml.entityId,
      callbackUrl: saml.acsUrl,
      identifierFormat: null,
      wantAssertionsSigned: true,
    });
  }

  /**
   * Where to send the browser to sign in (the provider's SSO URL with a new AuthnRequest), and the flow to keep in its
   * cookie: the request's id and where to go after. `redirectTo` as for OIDC (400 when not allowed). 404 when off.
   */
  async start(redirectTo: string | undefined): Promise<SamlStart> {
    const saml = this.samlConfig();
    const target = redirectTo === undefined ? '/' : safeRedirectTarget(redirectTo, this.config.redirectOrigins);
    if (target === null) {
      throw ApiError.invalidField(
        'redirect_to',
        'invalid_value',
        'redirect_to must be a path of this site (one leading /) or a URL of an allowed origin (IAM_SSO_REDIRECT_ORIGINS)',
      );
    }
    let requestId: string | undefined;
    let issuedAt = '';
    const url = await this.client(saml, {
      saveAsync: (key, value) => {
        requestId = key;
        issuedAt = value;
        return Promise.resolve({ value, createdAt: Date.now() });
      },
      getAsync: () => Promise.resolve(null),
      removeAsync: () => Promise.resolve(null),
    }).getAuthorizeUrlAsync('', undefined, {});
    if (requestId === undefined) {
      throw new Error('node-saml made an AuthnRequest without an id');
    }
    const expiresAt = new Date(Date.now() + SAML_FLOW_MINUTES * 60_000);
    const flow: SamlFlow = { requestId, issuedAt, redirectTo: target };
    return { url, flow: await this.states.seal(FLOW_PURPOSE, { ...flow }, expiresAt), expiresAt };
  }

  /**
   * The provider's answer checked (see the class) against the flow this browser kept, its assertion consumed, and
   * the identity signed in. Refusals are failed `iam:Login` events with a reason code: `saml_invalid_state` (no
   * sign-in started in this browser, or it took too long: 400), `saml_unknown_request` (InResponseTo missing or not
   * this browser's request), `saml_invalid_signature`, `saml_wrong_audience`, `saml_outside_validity`,
   * `saml_wrong_recipient`, `saml_wrong_issuer`, `saml_replayed`, `saml_provider_error`, `saml_invalid_response`
   * (all 401), and the core's (SsoSignInService).
   */
  async finish(
    samlResponse: string | undefined,
    sealedFlow: string | undefined,
    signInClient: SignInClient,
    presented: string | undefined,
  ): Promise<{ session: NewSession; redirectTo: string }> {
    const saml = this.samlConfig();
    const flow = (await this.states.open(FLOW_PURPOSE, sealedFlow)) as Partial<SamlFlow> | null;
    if (
      !flow ||
      typeof flow.requestId !== 'string' ||
      typeof flow.issuedAt !== 'string' ||
      typeof flow.redirectTo !== 'string'
    ) {
      throw await this.refused(
        'saml_invalid_state',
        ApiError.badRequest(
          'The answer does not match a sign-in started in this browser (or it took too long): start again from the sign-in page',
        ),
      );
    }
    if (!samlResponse || samlResponse.length > SAML_RESPONSE_MAX_LENGTH) {
      throw await this.refused('saml_invalid_response', ApiError.badRequest('SAMLResponse is missing or too long'));
    }
    const profile = await this.verified(saml, samlResponse, flow as SamlFlow);
    const assertion = await this.checkedAssertion(saml, profile);
    await this.consume(assertion.id, assertion.expiresAt);
    const identity = await this.identityOf(saml, profile);
    const session = await this.sso.signIn(identity, signInClient, presented);
    return { session, redirectTo: flow.redirectTo };
  }

  private samlConfig(): SamlConfig {
    if (!this.config.saml) {
      throw ApiError.notFound('SAML sign-in is not configured');
    }
    return this.config.saml;
  }

  /** A node-saml client for one request, its InResponseTo cache `cache` (the flow's request id, never shared). */
  private client(saml: SamlConfig, cache: CacheProvider): SAML {
    const options: NodeSamlConfig = {
      issuer: saml.entityId,
      audience: saml.entityId,
      callbackUrl: saml.acsUrl,
      entryPoint: saml.idpSsoUrl,
      idpCert: saml.idpCerts,
      // Either the response or the assertion signed (node-saml requires one valid signature whatever these say).
      wantAuthnResponseSigned: false,
      wantAssertionsSigned: false,
      acceptedClockSkewMs: SAML_CLOCK_SKEW_SECONDS * 1000,
      validateInResponseTo: ValidateInResponseTo.always,
      requestIdExpirationPeriodMs: SAML_FLOW_MINUTES * 60_000,
      cacheProvider: cache,
      // No NameIDPolicy format and no RequestedAuthnContext: the provider's configured ones (Entra refuses a sign-in
      // made with MFA against a requested password context).
      identifierFormat: null,
      disableRequestedAuthnContext: true,
      signatureAlgorithm: 'sha256',
    };
    return new SAML(options);
  }

  /** node-saml's checks: signature, InResponseTo (only the flow's request), audience, time window, status. */
  private async verified(saml: SamlConfig, samlResponse: string, flow: SamlFlow): Promise<Profile> {
    const onlyThisRequest: CacheProvider = {
      saveAsync: () => Promise.resolve(null),
      getAsync: (key) => Promise.resolve(key === flow.requestId ? flow.issuedAt : null),
      removeAsync: () => Promise.resolve(null),
    };
    try {
      const { profile } = await this.client(saml, onlyThisRequest).validatePostResponseAsync({
        SAMLResponse: samlResponse,
      });
      if (!profile) {
        throw new Error('no assertion');
      }
      return profile;
    } catch (error) {
      const reason = reasonOf(error);
      this.logger.warn({ err: String(error), reason }, 'SAML: answer of the identity provider refused');
      throw await this.refused(
        reason,
        ApiError.unauthorised(
          reason === 'saml_provider_error'
            ? 'The identity provider refused the sign-in'
            : 'The identity provider’s answer could not be verified: start again from the sign-in page',
        ),
      );
    }
  }

  /**
   * What node-saml leaves to its caller: the response's Destination (when present) and a bearer confirmation's
   * Recipient our ACS URL, the assertion's issuer the provider's; the assertion's id and when it expires.
   */
  private async checkedAssertion(saml: SamlConfig, profile: Profile): Promise<{ id: string; expiresAt: Date }> {
    const assertion = (profile.getAssertion?.() as { Assertion?: XmlNode } | undefined)?.Assertion;
    const id = assertion?.$?.ID;
    const responseXml = profile.getSamlResponseXml?.() ?? '';
    const doc = new DOMParser().parseFromString(responseXml, 'text/xml');
    const destination = (xpath.select("/*[local-name()='Response']/@Destination", doc) as Node[])[0]?.nodeValue;
    const confirmations = children(children(assertion, 'Subject')[0], 'SubjectConfirmation')
      .filter((confirmation) => confirmation.$?.Method === BEARER)
      .flatMap((confirmation) => children(confirmation, 'SubjectConfirmationData'));
    const recipientOk = confirmations.some((data) => data.$?.Recipient === saml.acsUrl);
    if (!id || id.length > 255) {
      throw await this.refused('saml_invalid_response', ApiError.unauthorised('The assertion has no usable ID'));
    }
    if ((destination !== undefined && destination !== null && destination !== saml.acsUrl) || !recipientOk) {
      this.logger.warn({ destination, acs: saml.acsUrl }, 'SAML: answer for another recipient refused');
      throw await this.refused(
        'saml_wrong_recipient',
        ApiError.unauthorised(
          'The identity provider’s answer is addressed to another service (recipient, destination)',
        ),
      );
    }
    if (!profile.issuer || (saml.idpEntityId !== undefined && profile.issuer !== saml.idpEntityId)) {
      throw await this.refused(
        'saml_wrong_issuer',
        ApiError.unauthorised('The assertion was issued by another identity provider'),
      );
    }
    const ends = [
      children(assertion, 'Conditions')[0]?.$?.NotOnOrAfter,
      ...confirmations.map((data) => data.$?.NotOnOrAfter),
    ]
      .filter((value): value is string => typeof value === 'string')
      .map((value) => Date.parse(value))
      .filter((value) => Number.isFinite(value));
    const end = ends.length > 0 ? Math.min(...ends) : Date.now() + DEFAULT_ASSERTION_LIFETIME_MS;
    return { id, expiresAt: new Date(end + SAML_CLOCK_SKEW_SECONDS * 1000) };
  }

  /**
   * The assertion marked consumed, on every instance (the primary key refuses a second one: `saml_replayed`), until
   * it expires; the expired ones removed.
   */
  private async consume(assertionId: string, expiresAt: Date): Promise<void> {
    await this.tx.write((em) => em.delete(SamlAssertion, { expiresAt: LessThan(new Date()) }));
    try {
      await this.tx.write((em) => em.insert(SamlAssertion, { assertionId, expiresAt }));
    } catch (error) {
      if (!isUniqueViolation(error)) {
        throw error;
      }
      throw await this.refused(
        'saml_replayed',
        ApiError.unauthorised('This assertion has been used already: start again from the sign-in page'),
      );
    }
  }

  /** The identity the verified assertion names: NameID as subject, user name, groups and profile from attributes. */
  private async identityOf(saml: SamlConfig, profile: Profile): Promise<SsoIdentity> {
    const attributes = (profile.attributes ?? {}) as Record<string, unknown>;
    const first = (name: string): string | undefined => {
      const value = attributes[name];
      const one: unknown = Array.isArray(value) ? value[0] : value;
      return typeof one === 'string' ? one : undefined;
    };
    const username = saml.usernameAttribute === 'NameID' ? profile.nameID : first(saml.usernameAttribute);
    if (!username) {
      throw await this.refused(
        'sso_invalid_username',
        ApiError.badRequest(`The identity provider sent no ${saml.usernameAttribute} to take the user name from`),
      );
    }
    const rawGroups = attributes[saml.groupsAttribute];
    const groups = Array.isArray(rawGroups)
      ? rawGroups.filter((group): group is string => typeof group === 'string')
      : typeof rawGroups === 'string'
        ? [rawGroups]
        : undefined;
    const name = first(saml.nameAttribute);
    return {
      method: 'saml',
      issuer: saml.idpEntityId ?? profile.issuer,
      subject: profile.nameID,
      username,
      displayName: name,
      fullName: name,
      email: first(saml.emailAttribute),
      groups,
    };
  }

  private refused(reason: string, error: ApiError): Promise<SsoSignInRefused> {
    return this.sso.refused('saml', reason, error);
  }
}
