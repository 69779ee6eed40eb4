import { decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import type { Response } from 'supertest';
import type { OidcConfig } from '../src/config/sso.config.js';
import { createTestApp, TEST_DATABASES, type TestApp } from './utils/create-app.js';
import { adminAuth, createGroup, expectError, sessionCookieOf, signedInUser, uniqueName } from './utils/fixtures.js';
import {
  OIDC_CLIENT_ID,
  OIDC_CLIENT_SECRET,
  OIDC_REDIRECT_URI,
  signInAtProvider,
  startOidcProvider,
  type TestOidcProvider,
} from './utils/oidc-provider.js';

const FLOW_COOKIE = 'iam_oidc_flow';

const oidcSettings = (issuer: string): OidcConfig => ({
  issuer,
  clientId: OIDC_CLIENT_ID,
  clientSecret: OIDC_CLIENT_SECRET,
  redirectUri: OIDC_REDIRECT_URI,
  scopes: 'openid profile email',
  groupsClaim: 'groups',
});

/** The `iam_oidc_flow=…` pair a sign-in's start sets. */
function flowCookieOf(res: Response): string {
  const cookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith(`${FLOW_COOKIE}=`));
  if (!cookie) {
    throw new Error(`no flow cookie in response ${res.status}: ${JSON.stringify(res.body)}`);
  }
  expect(cookie).toMatch(/HttpOnly/);
  expect(cookie).toMatch(/SameSite=Lax/);
  return cookie.split(';')[0];
}

const hasSessionCookie = (res: Response) =>
  ([] as string[]).concat(res.headers['set-cookie'] ?? []).some((c) => /^session_id=[^;]+/.test(c));

/** Single sign-on with OIDC against a real provider (oidc-provider) in this process, through the browser's steps. */
describe.each(TEST_DATABASES)('OIDC sign-in (%s)', (kind) => {
  let idp: TestOidcProvider;
  let t: TestApp;
  beforeAll(async () => {
    idp = await startOidcProvider();
    t = await createTestApp(kind, {
      auth: { administrators: ['oidc-boss'] },
      sso: { oidc: oidcSettings(idp.issuer), redirectOrigins: ['https://app.example.test'] },
    });
  });
  afterAll(async () => {
    await t.close();
    await idp.close();
  });

  /** GET /login/oidc: the provider's authorization URL and the flow cookie. */
  const start = async (redirectTo?: string) => {
    const res = await t
      .http()
      .get('/api/v1/login/oidc')
      .query(redirectTo === undefined ? {} : { redirect_to: redirectTo });
    expect(res.status).toBe(302);
    expect(res.headers['cache-control']).toBe('no-store');
    return { location: new URL(res.headers.location), flow: flowCookieOf(res) };
  };

  /** The provider's answer (the redirect URI with its query) brought to the callback, with these cookies. */
  const callback = (answer: URL, cookies: string[]) =>
    t.http().get(`/api/v1/login/oidc/callback${answer.search}`).set('Cookie', cookies.join('; '));

  /** A whole sign-in as `accountId`; the callback's response. */
  const signIn = async (accountId: string, redirectTo?: string, cookies: string[] = []) => {
    const { location, flow } = await start(redirectTo);
    return callback(await signInAtProvider(location.href, accountId), [flow, ...cookies]);
  };

  const account = (claims: Record<string, unknown> = {}) => {
    const id = uniqueName('sub');
    idp.accounts.set(id, { preferred_username: uniqueName('oidc'), ...claims });
    return { id, name: (idp.accounts.get(id)!.preferred_username as string) ?? '' };
  };

  it('redirects to the provider with state, nonce and PKCE S256, keeping them sealed in an HttpOnly cookie', async () => {
    const { location, flow } = await start();
    expect(location.origin).toBe(idp.issuer);
    const params = location.searchParams;
    expect(params.get('client_id')).toBe(OIDC_CLIENT_ID);
    expect(params.get('redirect_uri')).toBe(OIDC_REDIRECT_URI);
    expect(params.get('response_type')).toBe('code');
    expect(params.get('scope')).toBe('openid profile email');
    expect(params.get('code_challenge_method')).toBe('S256');
    expect(params.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(params.get('state')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(params.get('nonce')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    // Nothing of the flow readable in the cookie.
    expect(flow).not.toContain(params.get('state'));
    expect(flow).not.toContain(params.get('nonce'));
  });

  it('signs in: creates the user (JIT) with profile and groups, sets the session cookie, redirects', async () => {
    const platform = await createGroup(t, uniqueName('g'), { sso_name: 'Platform Engineers' });
    const other = await createGroup(t);
    const who = account({
      name: 'Peter Parker',
      email: 'peter@example.test',
      email_verified: true,
      groups: ['Platform Engineers', 'Not Here'],
    });
    const res = await signIn(who.id, '/app/home?tab=1');
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/app/home?tab=1');
    const cookie = sessionCookieOf(res);
    const me = (await t.http().get('/api/v1/users/me').set('Cookie', cookie).expect(200)).body;
    expect(me).toMatchObject({
      name: who.name,
      display_name: 'Peter Parker',
      profile: { full_name: 'Peter Parker', email_address: 'peter@example.test' },
      auth_methods: ['oidc'],
    });
    expect(me.groups.map((g: { name: string }) => g.name)).toEqual([platform.name]);
    expect(me.groups.map((g: { name: string }) => g.name)).not.toContain(other.name);
    // The flow cookie is spent.
    expect(([] as string[]).concat(res.headers['set-cookie']).some((c) => c.startsWith(`${FLOW_COOKIE}=;`))).toBe(true);
    const events = (
      await t
        .http()
        .get('/api/v1/audit-events')
        .query({ action: 'iam:Login', target: `iam:user:${who.name}` })
        .set(adminAuth)
        .expect(200)
    ).body.items;
    expect(events[0]).toMatchObject({ outcome: 'success', changes: { auth_method: { after: 'oidc' } } });
  });

  it('updates profile and groups at the next sign-in, as the same user, ending the session it came with', async () => {
    const a = await createGroup(t, uniqueName('g'), { sso_name: uniqueName('A') });
    const b = await createGroup(t, uniqueName('g'), { sso_name: uniqueName('B') });
    const ssoName = async (name: string) =>
      (await t.http().get(`/api/v1/groups/${name}`).set(adminAuth).expect(200)).body.sso_name as string;
    const who = account({ name: 'Old', email: 'old@example.test', groups: [await ssoName(a.name)] });
    const first = sessionCookieOf(await signIn(who.id));
    idp.accounts.set(who.id, {
      ...idp.accounts.get(who.id),
      name: 'New Name',
      email: 'new@example.test',
      groups: [await ssoName(b.name)],
    });
    const second = await signIn(who.id, undefined, [first]);
    expect(second.status).toBe(302);
    expect(second.headers.location).toBe('/');
    const me = (await t.http().get('/api/v1/users/me').set('Cookie', sessionCookieOf(second)).expect(200)).body;
    expect(me).toMatchObject({
      name: who.name,
      display_name: 'New Name',
      profile: { full_name: 'New Name', email_address: 'new@example.test' },
    });
    expect(me.groups.map((g: { name: string }) => g.name)).toEqual([b.name]);
    await t.http().get('/api/v1/users/me').set('Cookie', first).expect(401);
  });

  it('refuses a callback with another state, or without the flow cookie (400, no session)', async () => {
    const who = account();
    const { location, flow } = await start();
    const answer = await signInAtProvider(location.href, who.id);
    const wrongState = new URL(answer);
    wrongState.searchParams.set('state', 'not-the-state-of-this-sign-in');
    for (const res of [await callback(wrongState, [flow]), await callback(answer, [])]) {
      expectError(res, 400, 'bad_request');
      expect(hasSessionCookie(res)).toBe(false);
    }
    // A flow cookie tampered with is no flow.
    const tampered = `${flow.slice(0, -4)}AAAA`;
    const res = await callback(answer, [tampered]);
    expectError(res, 400, 'bad_request');
    expect(hasSessionCookie(res)).toBe(false);
  });

  it('refuses an ID token with another nonce, or none (401, no session)', async () => {
    const who = account();
    for (const nonce of ['a-nonce-of-another-sign-in', undefined]) {
      const { location, flow } = await start();
      if (nonce === undefined) {
        location.searchParams.delete('nonce');
      } else {
        location.searchParams.set('nonce', nonce);
      }
      const res = await callback(await signInAtProvider(location.href, who.id), [flow]);
      expectError(res, 401, 'unauthorised');
      expect(hasSessionCookie(res)).toBe(false);
    }
    const failures = (
      await t
        .http()
        .get('/api/v1/audit-events')
        .query({ action: 'iam:Login', outcome: 'failed' })
        .set(adminAuth)
        .expect(200)
    ).body.items as { reason: string }[];
    expect(failures.map((e) => e.reason)).toContain('oidc_invalid_response');
  });

  it('refuses a code used twice (401), however valid the flow cookie', async () => {
    const who = account();
    const { location, flow } = await start();
    const answer = await signInAtProvider(location.href, who.id);
    expect((await callback(answer, [flow])).status).toBe(302);
    const replay = await callback(answer, [flow]);
    expectError(replay, 401, 'unauthorised');
    expect(hasSessionCookie(replay)).toBe(false);
  });

  it('refuses a redirect_to that leaves the site or the allowed origins (400, nothing started)', async () => {
    for (const target of ['//evil.com', '/\\evil.com', 'https://evil.com/', 'javascript:alert(1)', 'evil.com']) {
      const res = await t.http().get('/api/v1/login/oidc').query({ redirect_to: target });
      const body = expectError(res, 400, 'bad_request');
      expect(body.invalid_fields).toEqual([expect.objectContaining({ name: 'redirect_to', error: 'invalid_value' })]);
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    const who = account();
    const res = await signIn(who.id, 'https://app.example.test/welcome');
    expect(res.headers.location).toBe('https://app.example.test/welcome');
  });

  it('refuses to take over a password user or an administrator through the provider (403, no session)', async () => {
    const local = await signedInUser(t);
    for (const name of [local.name, 'OIDC-Boss']) {
      const who = account({ preferred_username: name });
      const res = await signIn(who.id);
      expectError(res, 403, 'forbidden');
      expect(hasSessionCookie(res)).toBe(false);
    }
    const user = (await t.http().get(`/api/v1/users/${local.name}`).set(adminAuth).expect(200)).body;
    expect(user.auth_methods).toEqual(['password']);
  });

  it('refuses a user name the API would refuse (400) and an unverified e-mail as the name (403)', async () => {
    const badName = account({ preferred_username: 'has space' });
    expectError(await signIn(badName.id), 400, 'bad_request');
    const unverified = account({ preferred_username: undefined, email: 'x@example.test', email_verified: false });
    expectError(await signIn(unverified.id), 403, 'forbidden');
  });

  describe("the ID token and user info, checked (a man in the middle rewrites the provider's answers)", () => {
    afterEach(() => {
      idp.rewriteTokenAnswer = undefined;
      idp.rewriteUserInfoAnswer = undefined;
    });

    const now = () => Math.floor(Date.now() / 1000);

    /** The claims signed as a JWT (RS256) with `key`: the provider's own unless said, with its `kid` unless said. */
    const signed = (claims: JWTPayload, key: CryptoKey = idp.signingKey.privateKey, kid = idp.signingKey.kid) =>
      new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid }).sign(key);

    /**
     * A whole sign-in of a new account whose ID token `rewrite` replaces on its way from the token endpoint (it gets
     * the token the provider issued and its claims); the account and the callback's response.
     */
    const signInWithIdToken = async (rewrite: (token: string, claims: JWTPayload) => string | Promise<string>) => {
      const who = account();
      let rewritten = 0;
      idp.rewriteTokenAnswer = async (body) => {
        const token = body.id_token as string;
        expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'RS256', kid: idp.signingKey.kid });
        const idToken = await rewrite(token, decodeJwt(token));
        // Counted once rewritten: a rewrite that threw (the service then refusing the proxy's 500) fails the test.
        rewritten++;
        return { ...body, id_token: idToken };
      };
      const since = new Date(Date.now() - 2000).toISOString();
      const res = await signIn(who.id);
      idp.rewriteTokenAnswer = undefined;
      expect(rewritten).toBe(1);
      return { who, res, since };
    };

    /** Refused with this status and type, no session, no user, one failed iam:Login with this reason for the request. */
    const expectRefused = async (
      attempt: { who: { name: string }; res: Response; since: string },
      status: number,
      type: string,
      reason: string,
    ) => {
      const { who, res, since } = attempt;
      expectError(res, status, type);
      expect(hasSessionCookie(res)).toBe(false);
      expectError(await t.http().get(`/api/v1/users/${who.name}`).set(adminAuth), 404, 'not_found');
      const events = (
        await t
          .http()
          .get('/api/v1/audit-events')
          .query({ action: 'iam:Login', since, limit: 100 })
          .set(adminAuth)
          .expect(200)
      ).body.items as { outcome: string; reason: string | null; request_id: string | null; changes: unknown }[];
      const ofRequest = events.filter((e) => e.request_id === res.headers['x-request-id']);
      expect(ofRequest).toEqual([
        expect.objectContaining({
          outcome: 'failed',
          reason,
          changes: { auth_method: { before: null, after: 'oidc' } },
        }),
      ]);
      const failed = (
        await t
          .http()
          .get('/api/v1/audit-events')
          .query({ action: 'iam:Login', outcome: 'failed', since, limit: 100 })
          .set(adminAuth)
          .expect(200)
      ).body.items as { request_id: string | null }[];
      expect(failed.map((e) => e.request_id)).toContain(res.headers['x-request-id']);
    };

    it("accepts the provider's token re-signed unchanged with its key (the rewriting itself is sound)", async () => {
      const { who, res } = await signInWithIdToken((_token, claims) => signed(claims));
      expect(res.status).toBe(302);
      expect(hasSessionCookie(res)).toBe(true);
      await t.http().get(`/api/v1/users/${who.name}`).set(adminAuth).expect(200);
    });

    it('refuses an ID token whose signature was altered (401, no session, no user, audited)', async () => {
      const attempt = await signInWithIdToken((token) => {
        const [header, payload, signature] = token.split('.');
        // A character well inside the signature (the last one may carry only padding bits).
        const at = 10;
        const flipped = signature[at] === 'A' ? 'B' : 'A';
        return `${header}.${payload}.${signature.slice(0, at)}${flipped}${signature.slice(at + 1)}`;
      });
      await expectRefused(attempt, 401, 'unauthorised', 'oidc_invalid_response');
    });

    it("refuses an ID token signed with a key not in the provider's JWKS, under its kid or another (401)", async () => {
      const { privateKey: stranger } = await generateKeyPair('RS256');
      for (const kid of [idp.signingKey.kid, 'a-key-of-the-attacker']) {
        const attempt = await signInWithIdToken((_token, claims) => signed(claims, stranger, kid));
        await expectRefused(attempt, 401, 'unauthorised', 'oidc_invalid_response');
      }
    });

    it('refuses an unsigned ID token (alg none) (401)', async () => {
      const attempt = await signInWithIdToken((_token, claims) => {
        const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
        return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
      });
      await expectRefused(attempt, 401, 'unauthorised', 'oidc_invalid_response');
    });

    it('refuses an ID token for another audience, alone or in a list without this client (401)', async () => {
      for (const aud of ['another-client', ['another-client', 'yet-another']]) {
        const attempt = await signInWithIdToken((_token, claims) => signed({ ...claims, aud }));
        await expectRefused(attempt, 401, 'unauthorised', 'oidc_invalid_response');
      }
    });

    it('refuses an ID token from another issuer, or one spelled differently (401)', async () => {
      for (const iss of ['https://evil.example.test', `${idp.issuer}/`, idp.issuer.replace('127.0.0.1', 'localhost')]) {
        const attempt = await signInWithIdToken((_token, claims) => signed({ ...claims, iss }));
        await expectRefused(attempt, 401, 'unauthorised', 'oidc_invalid_response');
      }
    });

    it('refuses an ID token expired beyond the clock tolerance (401)', async () => {
      const attempt = await signInWithIdToken((_token, claims) =>
        signed({ ...claims, iat: now() - 700, exp: now() - 120 }),
      );
      await expectRefused(attempt, 401, 'unauthorised', 'oidc_invalid_response');
    });

    it('refuses an ID token not valid yet (nbf beyond the clock tolerance) (401)', async () => {
      const attempt = await signInWithIdToken((_token, claims) => signed({ ...claims, nbf: now() + 120 }));
      await expectRefused(attempt, 401, 'unauthorised', 'oidc_invalid_response');
    });

    it("refuses user info about another subject than the ID token's (401)", async () => {
      const who = account();
      const victim = account();
      let rewritten = 0;
      idp.rewriteUserInfoAnswer = (body) => {
        expect(body.sub).toBe(who.id);
        rewritten++;
        return { ...body, sub: victim.id };
      };
      const since = new Date(Date.now() - 2000).toISOString();
      const res = await signIn(who.id);
      expect(rewritten).toBe(1);
      await expectRefused({ who, res, since }, 401, 'unauthorised', 'oidc_invalid_response');
    });
  });

  it('says OIDC is on (GET /login/methods)', async () => {
    expect((await t.http().get('/api/v1/login/methods').expect(200)).body).toEqual({
      password: 'all',
      oidc: true,
      saml: false,
    });
  });
});

describe.each(TEST_DATABASES)('OIDC sign-in, provider down and settings (%s)', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    // A port nothing listens on: the provider is down.
    const idp = await startOidcProvider();
    const issuer = idp.issuer;
    await idp.close();
    t = await createTestApp(kind, { sso: { oidc: oidcSettings(issuer), passwordLogin: 'admins-only' } });
  });
  afterAll(() => t.close());

  it('answers 503 with the error body while the provider is down (the service started anyway)', async () => {
    for (let i = 0; i < 2; i++) {
      const res = await t.http().get('/api/v1/login/oidc');
      expectError(res, 503, 'service_unavailable');
      expect(res.headers['retry-after']).toBeDefined();
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    expectError(await t.http().get('/api/v1/login/oidc/callback?code=x&state=y'), 400, 'bad_request');
    expect((await t.http().get('/api/v1/login/methods').expect(200)).body).toEqual({
      password: 'admins-only',
      oidc: true,
      saml: false,
    });
  });
});

describe.each(TEST_DATABASES)('OIDC sign-in not configured (%s)', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(kind);
  });
  afterAll(() => t.close());

  it('answers 404 on its routes', async () => {
    expectError(await t.http().get('/api/v1/login/oidc'), 404, 'not_found');
    expectError(await t.http().get('/api/v1/login/oidc/callback?code=x&state=y'), 404, 'not_found');
  });
});
