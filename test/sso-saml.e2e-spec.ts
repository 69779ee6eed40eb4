import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOMParser } from '@xmldom/xmldom';
import type { Response } from 'supertest';
import { validateEnvironment } from '../src/config/env.validation.js';
import { resolveSamlSettings, type SamlConfig } from '../src/config/saml-settings.js';
import { resolveIamOptions } from '../src/iam.options.js';
import { createTestApp, TEST_DATABASES, type TestApp } from './utils/create-app.js';
import { adminAuth, createGroup, expectError, sessionCookieOf, signedInUser, uniqueName } from './utils/fixtures.js';
import {
  generateSigningKey,
  type ResponseOptions,
  SAML_ACS_URL,
  SAML_IDP_ENTITY_ID,
  SAML_IDP_SSO_URL,
  SAML_SP_ENTITY_ID,
  TestSamlIdp,
} from './utils/saml-idp.js';

const FLOW_COOKIE = 'iam_saml_flow';
const IDP_ORIGIN = new URL(SAML_IDP_SSO_URL).origin;

/** The `iam_saml_flow=…` pair a sign-in's start sets. */
function flowCookieOf(res: Response): string {
  const cookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith(`${FLOW_COOKIE}=`));
  if (!cookie) {
    throw new Error(`no flow cookie in response ${res.status}: ${JSON.stringify(res.body)}`);
  }
  expect(cookie).toMatch(/HttpOnly/);
  expect(cookie).toMatch(/Secure/);
  expect(cookie).toMatch(/SameSite=None/);
  return cookie.split(';')[0];
}

const hasSessionCookie = (res: Response) =>
  ([] as string[]).concat(res.headers['set-cookie'] ?? []).some((c) => /^session_id=[^;]+/.test(c));

/** Single sign-on with SAML 2.0 against an identity provider made in the test, which signs real responses. */
describe.each(TEST_DATABASES)('SAML sign-in (%s)', (kind) => {
  let idp: TestSamlIdp;
  let saml: SamlConfig;
  let t: TestApp;
  let dir: string;
  beforeAll(async () => {
    idp = await TestSamlIdp.create();
    // The provider's metadata file, as an administrator would download it: entity id, SSO URL and certificate.
    dir = mkdtempSync(join(tmpdir(), 'saml-test-'));
    const metadataFile = join(dir, 'idp-metadata.xml');
    writeFileSync(metadataFile, idp.metadataXml());
    const resolved = resolveSamlSettings({
      entityId: SAML_SP_ENTITY_ID,
      acsUrl: SAML_ACS_URL,
      idpMetadataFile: metadataFile,
      usernameAttribute: 'username',
      nameAttribute: 'displayName',
    });
    expect(resolved.problems).toEqual([]);
    saml = resolved.config!;
    t = await createTestApp(kind, {
      auth: { administrators: ['saml-boss'] },
      sso: { saml, redirectOrigins: ['https://app.example.test'] },
    });
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** GET /login/saml: the redirect to the provider, the request's id and the flow cookie. */
  const start = async (redirectTo?: string) => {
    const res = await t
      .http()
      .get('/api/v1/login/saml')
      .query(redirectTo === undefined ? {} : { redirect_to: redirectTo });
    expect(res.status).toBe(302);
    expect(res.headers['cache-control']).toBe('no-store');
    const location = new URL(res.headers.location);
    return { location, requestId: TestSamlIdp.requestIdOf(location), flow: flowCookieOf(res) };
  };

  /** The provider's page POSTing the form to the ACS, cross-site, with these cookies. */
  const post = (samlResponse: string, cookies: string[]) =>
    t
      .http()
      .post('/api/v1/login/saml/acs')
      .set('Origin', IDP_ORIGIN)
      .set('Sec-Fetch-Site', 'cross-site')
      .set('Cookie', cookies.join('; '))
      .type('form')
      .send({ SAMLResponse: samlResponse, RelayState: '' });

  const person = (attributes: Record<string, string | string[]> = {}) => {
    const username = uniqueName('saml');
    return { nameId: `${username}-id`, username, attributes: { username, ...attributes } };
  };

  /** A whole sign-in: start, the provider's answer (options changed as given), the POST; the ACS's response. */
  const signIn = async (
    who: { nameId: string; attributes: Record<string, string | string[]> },
    options: Partial<ResponseOptions> = {},
    redirectTo?: string,
  ) => {
    const { requestId, flow } = await start(redirectTo);
    const answer = idp.respond({ nameId: who.nameId, attributes: who.attributes, inResponseTo: requestId, ...options });
    return { res: await post(answer.samlResponse, [flow]), answer, flow };
  };

  const failures = async () =>
    (
      await t
        .http()
        .get('/api/v1/audit-events')
        .query({ action: 'iam:Login', outcome: 'failed' })
        .set(adminAuth)
        .expect(200)
    ).body.items as { reason: string; changes: { auth_method?: { after: string } } }[];

  /** The ACS refused (status, the error body, no session) with a failed iam:Login of this reason. */
  const expectRefused = async (res: Response, status: number, type: string, reason: string) => {
    expectError(res, status, type);
    expect(hasSessionCookie(res)).toBe(false);
    const failed = await failures();
    expect(failed[0]).toMatchObject({ reason, changes: { auth_method: { after: 'saml' } } });
  };

  it('redirects to the provider with an AuthnRequest for our entity id and ACS, its id sealed in a cookie', async () => {
    const { location, requestId, flow } = await start();
    expect(`${location.origin}${location.pathname}`).toBe(SAML_IDP_SSO_URL);
    const request = TestSamlIdp.authnRequestOf(location);
    expect(request).toContain(`AssertionConsumerServiceURL="${SAML_ACS_URL}"`);
    expect(request).toContain(`Destination="${SAML_IDP_SSO_URL}"`);
    expect(request).toMatch(new RegExp(`<saml:Issuer[^>]*>${SAML_SP_ENTITY_ID}</saml:Issuer>`));
    expect(flow).not.toContain(requestId);
  });

  it('signs in: creates the user (JIT) with profile and groups, sets the session cookie, redirects (303)', async () => {
    const platform = await createGroup(t, uniqueName('g'), { sso_name: 'SAML Platform' });
    const other = await createGroup(t);
    const who = person({
      displayName: 'Mary Jane',
      email: 'mj@example.test',
      groups: ['SAML Platform', 'Not Here'],
    });
    const { res } = await signIn(who, {}, '/app/home?tab=1');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/app/home?tab=1');
    expect(([] as string[]).concat(res.headers['set-cookie']).some((c) => c.startsWith(`${FLOW_COOKIE}=;`))).toBe(true);
    const cookie = sessionCookieOf(res);
    const me = (await t.http().get('/api/v1/users/me').set('Cookie', cookie).expect(200)).body;
    expect(me).toMatchObject({
      name: who.username,
      display_name: 'Mary Jane',
      profile: { full_name: 'Mary Jane', email_address: 'mj@example.test' },
      auth_methods: ['saml'],
    });
    expect(me.groups.map((g: { name: string }) => g.name)).toEqual([platform.name]);
    expect(me.groups.map((g: { name: string }) => g.name)).not.toContain(other.name);
    const events = (
      await t
        .http()
        .get('/api/v1/audit-events')
        .query({ action: 'iam:Login', target: `iam:user:${who.username}` })
        .set(adminAuth)
        .expect(200)
    ).body.items;
    expect(events[0]).toMatchObject({
      outcome: 'success',
      changes: { auth_method: { after: 'saml' }, identity: { after: `${SAML_IDP_ENTITY_ID} ${who.nameId}` } },
    });
  });

  it('updates profile and groups at the next sign-in, as the same user (a signed response, not assertion)', async () => {
    const a = await createGroup(t, uniqueName('g'), { sso_name: uniqueName('A') });
    const b = await createGroup(t, uniqueName('g'), { sso_name: uniqueName('B') });
    const ssoName = async (name: string) =>
      (await t.http().get(`/api/v1/groups/${name}`).set(adminAuth).expect(200)).body.sso_name as string;
    const who = person({ displayName: 'Old', email: 'old@example.test', groups: [await ssoName(a.name)] });
    const first = await signIn(who);
    expect(first.res.status).toBe(303);
    const firstMe = (await t.http().get('/api/v1/users/me').set('Cookie', sessionCookieOf(first.res)).expect(200)).body;
    const again = {
      nameId: who.nameId,
      attributes: { ...who.attributes, displayName: 'New', email: 'new@example.test', groups: [await ssoName(b.name)] },
    };
    const second = await signIn(again, { sign: 'response' });
    expect(second.res.status).toBe(303);
    const me = (await t.http().get('/api/v1/users/me').set('Cookie', sessionCookieOf(second.res)).expect(200)).body;
    expect(me).toMatchObject({
      id: firstMe.id,
      display_name: 'New',
      profile: { full_name: 'New', email_address: 'new@example.test' },
    });
    expect(me.groups.map((g: { name: string }) => g.name)).toEqual([b.name]);
  });

  it('refuses a response changed after signing, unsigned, or signed by another key (401)', async () => {
    const who = person({ groups: ['users'] });
    const tampered = await signIn(who, {
      tamper: (xml) => xml.replace('>users</saml:AttributeValue>', '>admins</saml:AttributeValue>'),
    });
    expect(tampered.answer.xml).toContain('>admins<');
    await expectRefused(tampered.res, 401, 'unauthorised', 'saml_invalid_signature');
    await expectRefused((await signIn(who, { sign: 'none' })).res, 401, 'unauthorised', 'saml_invalid_signature');
    const stranger = await generateSigningKey('evil.example.test');
    await expectRefused(
      (await signIn(who, { signWith: stranger, sign: 'both' })).res,
      401,
      'unauthorised',
      'saml_invalid_signature',
    );
    // The signed assertion's own name swapped for another (the signature covers it).
    const swapped = await signIn(who, { tamper: (xml) => xml.replace(`>${who.nameId}<`, '>saml-boss<') });
    await expectRefused(swapped.res, 401, 'unauthorised', 'saml_invalid_signature');
    const users = (await t.http().get('/api/v1/users').query({ search: who.username }).set(adminAuth)).body;
    expect(JSON.stringify(users)).not.toContain(who.username);
  });

  it('refuses another audience, recipient, destination or issuer (401)', async () => {
    const who = person();
    const otherSp = 'https://other.example.test/saml';
    await expectRefused((await signIn(who, { audience: otherSp })).res, 401, 'unauthorised', 'saml_wrong_audience');
    await expectRefused(
      (await signIn(who, { recipient: 'https://other.example.test/acs' })).res,
      401,
      'unauthorised',
      'saml_wrong_recipient',
    );
    await expectRefused(
      (await signIn(who, { destination: 'https://other.example.test/acs', sign: 'both' })).res,
      401,
      'unauthorised',
      'saml_wrong_recipient',
    );
    await expectRefused(
      (await signIn(who, { issuer: 'https://evil.example.test/saml' })).res,
      401,
      'unauthorised',
      'saml_wrong_issuer',
    );
  });

  it('refuses an expired assertion and one not yet valid (beyond the clock skew) (401)', async () => {
    const who = person();
    const minutes = (n: number) => new Date(Date.now() + n * 60_000);
    await expectRefused(
      (await signIn(who, { notBefore: minutes(-20), notOnOrAfter: minutes(-10) })).res,
      401,
      'unauthorised',
      'saml_outside_validity',
    );
    await expectRefused(
      (await signIn(who, { notBefore: minutes(10), notOnOrAfter: minutes(20) })).res,
      401,
      'unauthorised',
      'saml_outside_validity',
    );
  });

  it('refuses an unsolicited response, one to another request, and one without a sign-in in this browser', async () => {
    const who = person();
    await expectRefused((await signIn(who, { inResponseTo: null })).res, 401, 'unauthorised', 'saml_unknown_request');
    // Another browser's request (an attacker's own sign-in, posted into the victim's browser): not this flow's.
    const other = await start();
    await expectRefused(
      (await signIn(who, { inResponseTo: other.requestId })).res,
      401,
      'unauthorised',
      'saml_unknown_request',
    );
    const answer = idp.respond({ nameId: who.nameId, attributes: who.attributes, inResponseTo: other.requestId });
    await expectRefused(await post(answer.samlResponse, []), 400, 'bad_request', 'saml_invalid_state');
    await expectRefused(
      await post(answer.samlResponse, [`${FLOW_COOKIE}=forged`]),
      400,
      'bad_request',
      'saml_invalid_state',
    );
  });

  it('refuses a replayed assertion (401), on this instance and on another one sharing the database', async () => {
    const who = person();
    const { res, answer, flow } = await signIn(who);
    expect(res.status).toBe(303);
    await expectRefused(await post(answer.samlResponse, [flow]), 401, 'unauthorised', 'saml_replayed');
    const second = await createTestApp(kind, { database: t.database, sso: { saml } });
    try {
      const replay = await second
        .http()
        .post('/api/v1/login/saml/acs')
        .set('Cookie', flow)
        .type('form')
        .send({ SAMLResponse: answer.samlResponse });
      expectError(replay, 401, 'unauthorised');
      expect(hasSessionCookie(replay)).toBe(false);
      expect((await failures())[0]).toMatchObject({ reason: 'saml_replayed' });
    } finally {
      await second.close({ keepDatabase: true });
    }
  });

  it('refuses a redirect_to that leaves the site or the allowed origins (400, nothing started)', async () => {
    for (const target of [
      'https://evil.example.test/',
      '//evil.example.test/x',
      '/\\evil.example.test',
      'javascript:alert(1)',
    ]) {
      const res = await t.http().get('/api/v1/login/saml').query({ redirect_to: target });
      const body = expectError(res, 400, 'bad_request');
      expect(body.invalid_fields?.[0]).toMatchObject({ name: 'redirect_to' });
      expect(res.headers.location).toBeUndefined();
      expect(([] as string[]).concat(res.headers['set-cookie'] ?? []).some((c) => c.startsWith(FLOW_COOKIE))).toBe(
        false,
      );
    }
    const allowed = await signIn(person(), {}, 'https://app.example.test/after');
    expect(allowed.res.headers.location).toBe('https://app.example.test/after');
  });

  it('refuses to take over a password user or an administrator through the provider (403, no session)', async () => {
    const existing = await signedInUser(t, uniqueName('pw'));
    for (const username of [existing.name, 'saml-boss']) {
      const { res } = await signIn({ nameId: uniqueName('id'), attributes: { username } });
      await expectRefused(res, 403, 'forbidden', 'sso_account_conflict');
    }
  });

  it('takes a form on the ACS only: 415 for JSON there, and forms still 415 everywhere else', async () => {
    const json = await t.http().post('/api/v1/login/saml/acs').send({ SAMLResponse: 'x' });
    expectError(json, 415, 'unsupported_media_type');
    const form = await t.http().post('/api/v1/login').type('form').send({ name: 'a', password: 'b' });
    expectError(form, 415, 'unsupported_media_type');
    const missing = await t.http().post('/api/v1/login/saml/acs').type('form').send({ RelayState: 'x' });
    expectError(missing, 400, 'bad_request');
  });

  it('serves the service provider metadata (XML with our entity id and ACS URL) and says SAML is on', async () => {
    const res = await t.http().get('/api/v1/saml/metadata').expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/samlmetadata\+xml/);
    const errors: string[] = [];
    const doc = new DOMParser({
      errorHandler: { error: (m: string) => errors.push(m), fatalError: (m: string) => errors.push(m) },
    }).parseFromString(res.text, 'text/xml');
    expect(errors).toEqual([]);
    expect(doc.documentElement?.getAttribute('entityID')).toBe(SAML_SP_ENTITY_ID);
    const acs = doc.getElementsByTagNameNS('urn:oasis:names:tc:SAML:2.0:metadata', 'AssertionConsumerService')[0];
    expect(acs?.getAttribute('Location')).toBe(SAML_ACS_URL);
    expect(acs?.getAttribute('Binding')).toBe('urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST');
    const sp = doc.getElementsByTagNameNS('urn:oasis:names:tc:SAML:2.0:metadata', 'SPSSODescriptor')[0];
    expect(sp?.getAttribute('WantAssertionsSigned')).toBe('true');
    const methods = (await t.http().get('/api/v1/login/methods').expect(200)).body;
    expect(methods).toMatchObject({ saml: true });
  });
});

describe.each(TEST_DATABASES)('SAML not configured (%s)', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(kind);
  });
  afterAll(() => t.close());

  it('answers 404 on its routes and says SAML is off', async () => {
    expectError(await t.http().get('/api/v1/login/saml'), 404, 'not_found');
    expectError(await t.http().get('/api/v1/saml/metadata'), 404, 'not_found');
    const acs = await t
      .http()
      .post('/api/v1/login/saml/acs')
      .set('Cookie', `${FLOW_COOKIE}=x`)
      .type('form')
      .send({ SAMLResponse: 'x' });
    expectError(acs, 404, 'not_found');
    expect((await t.http().get('/api/v1/login/methods').expect(200)).body).toMatchObject({ saml: false });
  });
});

/** The environment's SAML variables as settings. */
const settingsOf = (env: Record<string, string>) => ({
  entityId: env.IAM_SAML_ENTITY_ID,
  acsUrl: env.IAM_SAML_ACS_URL,
  idpSsoUrl: env.IAM_SAML_IDP_SSO_URL,
});

describe('SAML settings', () => {
  const base = {
    IAM_SAML_ENTITY_ID: SAML_SP_ENTITY_ID,
    IAM_SAML_ACS_URL: SAML_ACS_URL,
    IAM_SAML_IDP_SSO_URL: SAML_IDP_SSO_URL,
  };

  it('refuses a misconfigured IdP certificate at boot, clearly', async () => {
    const { cert } = await generateSigningKey();
    expect(validateEnvironment({ ...base, IAM_SAML_IDP_CERT: cert }).IAM_SAML_ENTITY_ID).toBe(SAML_SP_ENTITY_ID);
    const oneLine = cert.trim().replace(/\n/g, '\\n');
    expect(oneLine).not.toContain('\n');
    expect(resolveSamlSettings({ ...settingsOf(base), idpCert: oneLine }).config?.idpCerts).toHaveLength(1);
    const broken = cert.replace(/\n[A-Za-z0-9+/]{10}/, '\nAAAAAAAAAA');
    expect(() => validateEnvironment({ ...base, IAM_SAML_IDP_CERT: broken })).toThrow(
      /IAM_SAML_IDP_CERT: is not a valid X\.509 certificate/,
    );
    expect(() => validateEnvironment({ ...base, IAM_SAML_IDP_CERT: 'not a cert' })).toThrow(
      /IAM_SAML_IDP_CERT: is neither PEM nor a readable file \(ENOENT\)/,
    );
    expect(() => validateEnvironment({ ...base, IAM_SAML_IDP_METADATA_FILE: '/nonexistent/idp.xml' })).toThrow(
      /IAM_SAML_IDP_METADATA_FILE: "\/nonexistent\/idp.xml" cannot be read/,
    );
    expect(() => validateEnvironment({ IAM_SAML_ENTITY_ID: SAML_SP_ENTITY_ID })).toThrow(
      /IAM_SAML_ACS_URL: is required[\s\S]*IAM_SAML_IDP_CERT: is required/,
    );
    expect(() =>
      validateEnvironment({ ...base, IAM_SAML_IDP_CERT: cert, IAM_SAML_ACS_URL: 'http://iam.example.com/acs' }),
    ).toThrow(/IAM_SAML_ACS_URL: must be an https URL/);
    // The same rules for IamModule's options.
    const database = { url: 'sqlite::memory:' };
    const options = { entityId: SAML_SP_ENTITY_ID, acsUrl: SAML_ACS_URL, idpSsoUrl: SAML_IDP_SSO_URL };
    expect(resolveIamOptions({ database, sso: { saml: { ...options, idpCert: cert } } }).sso.saml).toMatchObject({
      ...options,
      idpCerts: [expect.stringContaining('BEGIN CERTIFICATE')],
      usernameAttribute: 'NameID',
      groupsAttribute: 'groups',
    });
    expect(() => resolveIamOptions({ database, sso: { saml: { ...options, idpCert: broken } } })).toThrow(
      /sso\.saml\.idpCert: is not a valid X\.509 certificate/,
    );
  });
});
