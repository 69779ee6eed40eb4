import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DOMParser } from '@xmldom/xmldom';
import xpath from 'xpath';
import { secureUrl } from './env.validation.js';

/** SAML sign-in (SamlService): this service provider, the identity provider it trusts, and which attributes say what. */
export interface SamlConfig {
  /** This service provider's entity id (the audience the provider must name). */
  entityId: string;
  /** This service's assertion consumer service (POST …/login/saml/acs), exactly as registered with the provider. */
  acsUrl: string;
  /** The identity provider's entity id (from its metadata, or IAM_SAML_IDP_ENTITY_ID): assertions of another issuer are refused. */
  idpEntityId?: string;
  /** Where AuthnRequests go (HTTP-Redirect binding). */
  idpSsoUrl: string;
  /** The provider's signing certificates (PEM): a response or assertion signed by none of them is refused. */
  idpCerts: string[];
  /** `NameID`, or the attribute holding the user name. */
  usernameAttribute: string;
  groupsAttribute: string;
  emailAttribute: string;
  nameAttribute: string;
}

/** SAML settings as given (environment or IamModule options), before files are read. */
export interface SamlSettings {
  entityId?: string;
  acsUrl?: string;
  idpSsoUrl?: string;
  idpEntityId?: string;
  /** PEM text, or the path of a PEM file. */
  idpCert?: string;
  /** The path of the provider's metadata XML (entity id, SSO URL and signing certificates taken from it). */
  idpMetadataFile?: string;
  usernameAttribute?: string;
  groupsAttribute?: string;
  emailAttribute?: string;
  nameAttribute?: string;
}

export const SAML_DEFAULTS = {
  usernameAttribute: 'NameID',
  groupsAttribute: 'groups',
  emailAttribute: 'email',
  nameAttribute: 'displayName',
} as const;

const REDIRECT_BINDING = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** base64 DER (as in metadata's X509Certificate) as PEM. */
function derToPem(base64: string): string {
  const body = base64.replace(/\s+/g, '');
  return `-----BEGIN CERTIFICATE-----\n${body.match(/.{1,64}/g)?.join('\n') ?? ''}\n-----END CERTIFICATE-----\n`;
}

/** Why `pem` holds no usable certificate, or null. */
function certificateProblem(pem: string): string | null {
  try {
    new X509Certificate(pem);
    return null;
  } catch (error) {
    return `is not a valid X.509 certificate in PEM (${error instanceof Error ? error.message : String(error)})`;
  }
}

/** The certificates of PEM text (line breaks as such or as `\\n`), or of the PEM file it names. */
function readCertificates(value: string): { certs: string[]; problem?: string } {
  // PEM in one line of an environment file, its line breaks written `\n`.
  let text = value.replace(/\\n/g, '\n');
  if (!value.trimStart().startsWith('-----BEGIN')) {
    try {
      text = readFileSync(value, 'utf8');
    } catch (error) {
      return {
        certs: [],
        problem: `is neither PEM nor a readable file (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      };
    }
  }
  const certs = text.match(PEM_CERTIFICATE) ?? [];
  if (certs.length === 0) {
    return { certs, problem: 'holds no -----BEGIN CERTIFICATE----- block' };
  }
  for (const cert of certs) {
    const problem = certificateProblem(cert);
    if (problem) {
      return { certs: [], problem };
    }
  }
  return { certs };
}

interface IdpMetadata {
  entityId?: string;
  ssoUrl?: string;
  certs: string[];
}

/** Entity id, SSO URL (HTTP-Redirect) and signing certificates of an IdP's metadata file. */
function readMetadata(path: string): { metadata?: IdpMetadata; problem?: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return { problem: `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})` };
  }
  const errors: string[] = [];
  const doc = new DOMParser({
    errorHandler: {
      error: (message: string) => errors.push(message),
      fatalError: (message: string) => errors.push(message),
    },
  }).parseFromString(text, 'text/xml');
  if (errors.length > 0 || !doc?.documentElement) {
    return { problem: `is not XML (${errors[0] ?? 'empty'})` };
  }
  const select = (expression: string) => xpath.select(expression, doc) as Node[];
  const descriptor = "//*[local-name()='EntityDescriptor'][*[local-name()='IDPSSODescriptor']]";
  const entityId = select(`${descriptor}/@entityID`)[0]?.nodeValue ?? undefined;
  const sso = select(
    `${descriptor}/*[local-name()='IDPSSODescriptor']/*[local-name()='SingleSignOnService'][@Binding='${REDIRECT_BINDING}']/@Location`,
  )[0]?.nodeValue;
  const certs = select(
    `${descriptor}/*[local-name()='IDPSSODescriptor']/*[local-name()='KeyDescriptor'][not(@use) or @use='signing']` +
      "//*[local-name()='X509Certificate']",
  ).map((node) => derToPem(node.textContent ?? ''));
  if (!entityId) {
    return { problem: 'has no EntityDescriptor with an IDPSSODescriptor and an entityID' };
  }
  if (certs.length === 0) {
    return { problem: 'names no signing certificate (KeyDescriptor use="signing" with an X509Certificate)' };
  }
  for (const cert of certs) {
    const problem = certificateProblem(cert);
    if (problem) {
      return { problem: `has a signing certificate that ${problem}` };
    }
  }
  return { metadata: { entityId, ssoUrl: sso ?? undefined, certs } };
}

/**
 * SAML settings checked and resolved (certificate and metadata files read): off when none of entity id, ACS URL,
 * IdP SSO URL, certificate or metadata file is given; otherwise all of them needed (the SSO URL and certificate may
 * come from the metadata), the URLs https (http only on a loopback address), the certificates valid X.509. Each
 * problem starts with the setting's option name.
 */
export function resolveSamlSettings(settings: SamlSettings): { config?: SamlConfig; problems: string[] } {
  const main = ['entityId', 'acsUrl', 'idpSsoUrl', 'idpCert', 'idpMetadataFile'] as const;
  if (main.every((name) => settings[name] === undefined) && settings.idpEntityId === undefined) {
    return { problems: [] };
  }
  const problems: string[] = [];
  const all = '(all of them or none: see the README, "SAML")';
  for (const name of ['entityId', 'acsUrl'] as const) {
    if (!settings[name]) {
      problems.push(`${name}: is required with the other SAML settings ${all}`);
    }
  }
  let metadata: IdpMetadata | undefined;
  let certs: string[] = [];
  if (settings.idpCert === undefined && settings.idpMetadataFile === undefined) {
    problems.push(`idpCert: is required (or idpMetadataFile) with the other SAML settings ${all}`);
  }
  if (settings.idpMetadataFile !== undefined) {
    const read = readMetadata(settings.idpMetadataFile);
    if (read.problem) {
      problems.push(`idpMetadataFile: ${JSON.stringify(settings.idpMetadataFile)} ${read.problem}`);
    }
    metadata = read.metadata;
    certs = metadata?.certs ?? [];
  }
  if (settings.idpCert !== undefined) {
    const read = readCertificates(settings.idpCert);
    if (read.problem) {
      problems.push(`idpCert: ${read.problem}`);
    }
    certs = read.certs;
  }
  const idpSsoUrl = settings.idpSsoUrl ?? metadata?.ssoUrl;
  if (idpSsoUrl === undefined && (settings.idpMetadataFile === undefined || metadata)) {
    problems.push(`idpSsoUrl: is required (or an HTTP-Redirect SingleSignOnService in idpMetadataFile) ${all}`);
  }
  for (const [name, value] of [
    ['acsUrl', settings.acsUrl],
    ['idpSsoUrl', idpSsoUrl],
  ] as const) {
    if (value && !secureUrl(value)) {
      problems.push(
        `${name}: must be an https URL (http only on 127.0.0.1 or localhost) (got ${JSON.stringify(value)})`,
      );
    }
  }
  if (problems.length > 0) {
    return { problems };
  }
  return {
    problems,
    config: {
      entityId: settings.entityId!,
      acsUrl: settings.acsUrl!,
      idpEntityId: settings.idpEntityId ?? metadata?.entityId,
      idpSsoUrl: idpSsoUrl!,
      idpCerts: certs,
      usernameAttribute: settings.usernameAttribute ?? SAML_DEFAULTS.usernameAttribute,
      groupsAttribute: settings.groupsAttribute ?? SAML_DEFAULTS.groupsAttribute,
      emailAttribute: settings.emailAttribute ?? SAML_DEFAULTS.emailAttribute,
      nameAttribute: settings.nameAttribute ?? SAML_DEFAULTS.nameAttribute,
    },
  };
}

/** Resolved settings as settings again (the environment's, handed to IamModule): the certificates as PEM text. */
export function samlSettingsFromConfig(config: SamlConfig): SamlSettings {
  const { idpCerts, ...rest } = config;
  return { ...rest, idpCert: idpCerts.join('\n') };
}
