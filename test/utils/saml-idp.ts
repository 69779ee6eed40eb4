import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import selfsigned from 'selfsigned';
import { SignedXml } from 'xml-crypto';

/** This service as the test's provider knows it. */
export const SAML_SP_ENTITY_ID = 'https://iam.example.test/saml';
export const SAML_ACS_URL = 'https://iam.example.test/api/v1/login/saml/acs';
export const SAML_IDP_ENTITY_ID = 'https://idp.example.test/saml/metadata';
export const SAML_IDP_SSO_URL = 'https://idp.example.test/saml/sso';

/** A signing identity: an RSA key pair from node:crypto and a self-signed certificate for it. */
export interface SigningKey {
  privateKey: string;
  cert: string;
}

export async function generateSigningKey(commonName = 'idp.example.test'): Promise<SigningKey> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const pems = await selfsigned.generate([{ name: 'commonName', value: commonName }], {
    keyPair: { privateKey, publicKey },
    algorithm: 'sha256',
  });
  return { privateKey, cert: pems.cert };
}

/** What a test response says; every field has a valid default. */
export interface ResponseOptions {
  nameId: string;
  attributes?: Record<string, string | string[]>;
  /** The AuthnRequest answered; null: unsolicited (no InResponseTo). */
  inResponseTo: string | null;
  audience?: string;
  recipient?: string;
  /** The Response's Destination; null: none. */
  destination?: string | null;
  issuer?: string;
  notBefore?: Date;
  notOnOrAfter?: Date;
  /** What is signed (default: the assertion). */
  sign?: 'assertion' | 'response' | 'both' | 'none';
  /** Another key to sign with (default: the provider's). */
  signWith?: SigningKey;
  /** Applied to the XML after signing (a tampering). */
  tamper?: (xml: string) => string;
}

const escape = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const newId = () => `_${randomBytes(16).toString('hex')}`;

/** An enveloped RSA-SHA256 signature of the element `localName` (the first), placed after its Issuer. */
function signed(xml: string, localName: 'Assertion' | 'Response', key: SigningKey): string {
  const sig = new SignedXml({
    privateKey: key.privateKey,
    publicCert: key.cert,
    signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  });
  const element = `//*[local-name(.)='${localName}']`;
  sig.addReference({
    xpath: element,
    transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'],
    digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256',
  });
  sig.computeSignature(xml, { location: { reference: `${element}/*[local-name(.)='Issuer']`, action: 'after' } });
  return sig.getSignedXml();
}

/**
 * A SAML identity provider made in the test: a key pair and certificate of its own, and real responses (SAML 2.0
 * Response with one Assertion, bearer subject confirmation, audience restriction, attributes) signed with xml-crypto
 * as Okta, Entra or Keycloak sign theirs. The browser's part (the redirect with the AuthnRequest, the form POST) the
 * test plays itself.
 */
export class TestSamlIdp {
  private constructor(readonly key: SigningKey) {}

  static async create(): Promise<TestSamlIdp> {
    return new TestSamlIdp(await generateSigningKey());
  }

  /** The provider's metadata XML (entity id, HTTP-Redirect SSO URL, signing certificate). */
  metadataXml(): string {
    const der = this.key.cert.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, '');
    return `<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${SAML_IDP_ENTITY_ID}">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" WantAuthnRequestsSigned="false">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${der}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified</md:NameIDFormat>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${SAML_IDP_SSO_URL}/post"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${SAML_IDP_SSO_URL}"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`;
  }

  /** The AuthnRequest (XML) a redirect to the provider carries. */
  static authnRequestOf(location: URL): string {
    const encoded = location.searchParams.get('SAMLRequest');
    if (!encoded) {
      throw new Error(`no SAMLRequest in ${location.href}`);
    }
    return inflateRawSync(Buffer.from(encoded, 'base64')).toString('utf8');
  }

  /** The request's ID. */
  static requestIdOf(location: URL): string {
    const id = /\sID="([^"]+)"/.exec(TestSamlIdp.authnRequestOf(location))?.[1];
    if (!id) {
      throw new Error('no ID in the AuthnRequest');
    }
    return id;
  }

  /** A Response (base64, as the form carries it) and the ID of its assertion. */
  respond(options: ResponseOptions): { samlResponse: string; assertionId: string; xml: string } {
    const now = new Date();
    const notBefore = options.notBefore ?? new Date(now.getTime() - 30_000);
    const notOnOrAfter = options.notOnOrAfter ?? new Date(now.getTime() + 5 * 60_000);
    const issuer = escape(options.issuer ?? SAML_IDP_ENTITY_ID);
    const inResponseTo = options.inResponseTo === null ? '' : ` InResponseTo="${escape(options.inResponseTo)}"`;
    const destination =
      options.destination === null ? '' : ` Destination="${escape(options.destination ?? SAML_ACS_URL)}"`;
    const assertionId = newId();
    const attributes = Object.entries(options.attributes ?? {})
      .map(
        ([name, value]) =>
          `<saml:Attribute Name="${escape(name)}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified">` +
          ([] as string[])
            .concat(value)
            .map((one) => `<saml:AttributeValue xsi:type="xs:string">${escape(one)}</saml:AttributeValue>`)
            .join('') +
          '</saml:Attribute>',
      )
      .join('');
    const assertion =
      `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="${assertionId}" Version="2.0" IssueInstant="${now.toISOString()}">` +
      `<saml:Issuer>${issuer}</saml:Issuer>` +
      '<saml:Subject>' +
      `<saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified">${escape(options.nameId)}</saml:NameID>` +
      '<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">' +
      `<saml:SubjectConfirmationData NotOnOrAfter="${notOnOrAfter.toISOString()}" Recipient="${escape(options.recipient ?? SAML_ACS_URL)}"${inResponseTo}/>` +
      '</saml:SubjectConfirmation>' +
      '</saml:Subject>' +
      `<saml:Conditions NotBefore="${notBefore.toISOString()}" NotOnOrAfter="${notOnOrAfter.toISOString()}">` +
      `<saml:AudienceRestriction><saml:Audience>${escape(options.audience ?? SAML_SP_ENTITY_ID)}</saml:Audience></saml:AudienceRestriction>` +
      '</saml:Conditions>' +
      `<saml:AuthnStatement AuthnInstant="${now.toISOString()}" SessionIndex="${newId()}">` +
      '<saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext>' +
      '</saml:AuthnStatement>' +
      (attributes ? `<saml:AttributeStatement>${attributes}</saml:AttributeStatement>` : '') +
      '</saml:Assertion>';
    const key = options.signWith ?? this.key;
    const sign = options.sign ?? 'assertion';
    const signedAssertion = sign === 'assertion' || sign === 'both' ? signed(assertion, 'Assertion', key) : assertion;
    let xml =
      `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${newId()}" Version="2.0" IssueInstant="${now.toISOString()}"${destination}${inResponseTo}>` +
      `<saml:Issuer>${issuer}</saml:Issuer>` +
      '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>' +
      signedAssertion.replace(/^<\?xml[^>]*>/, '') +
      '</samlp:Response>';
    if (sign === 'response' || sign === 'both') {
      xml = signed(xml, 'Response', key);
    }
    if (options.tamper) {
      xml = options.tamper(xml);
    }
    return { samlResponse: Buffer.from(xml).toString('base64'), assertionId, xml };
  }
}
