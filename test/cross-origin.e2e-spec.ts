import { jest } from '@jest/globals';
import { createTestApp, TEST_DATABASES, type TestApp } from './utils/create-app.js';
import {
  adminAuth,
  createServiceAccount,
  expectError,
  sessionCookieOf,
  signedInUser,
  uniqueName,
} from './utils/fixtures.js';

// Each test signs users in (argon2): sized for a machine several times slower and busier than a laptop.
jest.setTimeout(120_000);

const EVIL = 'https://evil.example';
const APP = 'https://app.example';
/** The service as the browser addressed it: the Host header, and the Origin of its own pages. */
const HOST = 'iam.example';
const OWN_ORIGIN = `https://${HOST}`;

describe.each(TEST_DATABASES)('cross-site request protection (%s)', (kind) => {
  let t: TestApp;
  const victimName = uniqueName('victim');
  beforeAll(async () => {
    // The victim is an administrator: their session cookie may do anything.
    t = await createTestApp(kind, { auth: { administrators: [victimName] } });
  });
  afterAll(() => t.close());

  let victim: { name: string; password: string; cookie: string };
  beforeAll(async () => {
    victim = await signedInUser(t, victimName);
  });

  /** The service account's token still authenticates (a list answers any principal). */
  const tokenWorks = async (token: string) =>
    (await t.http().get('/api/v1/service-accounts').set('Authorization', `Bearer ${token}`)).status === 200;
  const sessionWorks = async (cookie: string) =>
    (await t.http().get('/api/v1/users/me').set('Cookie', cookie)).status === 200;

  it('refuses the issue’s attack: an empty cross-origin POST with the victim’s cookie changes nothing', async () => {
    const account = await createServiceAccount(t);
    const renew = await t
      .http()
      .post(`/api/v1/service-accounts/${account.name}/renew-token`)
      .set('Cookie', victim.cookie)
      .set('Origin', EVIL)
      .set('Content-Length', '0');
    expectError(renew, 403, 'forbidden');
    expect(renew.body.token).toBeUndefined();
    expect(await tokenWorks(account.token)).toBe(true);

    const logout = await t
      .http()
      .post('/api/v1/logout')
      .set('Cookie', victim.cookie)
      .set('Origin', EVIL)
      .set('Content-Length', '0');
    expectError(logout, 403, 'forbidden');
    expect(logout.headers['set-cookie']).toBeUndefined();
    expect(await sessionWorks(victim.cookie)).toBe(true);
  });

  it('answers 403 whatever the body: what an HTML form sends, JSON, or a body that would be refused anyway', async () => {
    const account = await createServiceAccount(t);
    const renew = () =>
      t
        .http()
        .post(`/api/v1/service-accounts/${account.name}/renew-token`)
        .set('Cookie', victim.cookie)
        .set('Origin', EVIL);
    for (const [type, body] of [
      ['text/plain', '{"token_expires_at":null}'],
      ['application/x-www-form-urlencoded', 'token_expires_at='],
      ['multipart/form-data; boundary=x', '--x--\r\n'],
      ['application/json', '{}'],
      ['application/json', '{not json'],
    ]) {
      expectError(await renew().set('Content-Type', type).send(body), 403, 'forbidden');
    }
    expectError(await renew().send({ token_expires_at: 'yesterday', unknown: 1 }), 403, 'forbidden');
    expect(await tokenWorks(account.token)).toBe(true);
  });

  it('refuses what Sec-Fetch-Site says is same-site or cross-site, whatever the Origin or the body', async () => {
    const account = await createServiceAccount(t);
    for (const [site, origin] of [
      ['cross-site', undefined],
      ['same-site', undefined],
      ['cross-site', OWN_ORIGIN], // Sec-Fetch-Site decides when present
      ['same-site', `https://sub.${HOST}`],
      ['nonsense', undefined],
    ] as const) {
      const req = t
        .http()
        .post(`/api/v1/service-accounts/${account.name}/renew-token`)
        .set('Host', HOST)
        .set('Cookie', victim.cookie)
        .set('Sec-Fetch-Site', site);
      if (origin) {
        req.set('Origin', origin);
      }
      expectError(await req.send({}), 403, 'forbidden');
    }
    expect(await tokenWorks(account.token)).toBe(true);
  });

  it('refuses every state-changing method from another origin, and a null origin', async () => {
    const cookie = victim.cookie;
    const attempts = [
      t.http().patch('/api/v1/users/me/settings').send({ theme: 'dark' }),
      t
        .http()
        .put('/api/v1/users/me/password')
        .send({ current_password: victim.password, new_password: 'pwned pwned' }),
      t.http().delete('/api/v1/users/me/sessions'),
      t
        .http()
        .post('/api/v1/users')
        .send({ name: uniqueName('planted') }),
    ];
    for (const attempt of attempts) {
      expectError(await attempt.set('Cookie', cookie).set('Origin', EVIL), 403, 'forbidden');
    }
    expectError(await t.http().post('/api/v1/logout').set('Cookie', cookie).set('Origin', 'null'), 403, 'forbidden');
    // However the path is spelt.
    for (const path of ['/API/V1/logout', '/api/v1/logout/', '/api/v1/Logout']) {
      expectError(await t.http().post(path).set('Cookie', cookie).set('Origin', EVIL), 403, 'forbidden');
    }
    // A spelling that reaches no route reaches no handler either (the session is checked below).
    expectError(await t.http().post('/api/v1//logout').set('Cookie', cookie).set('Origin', EVIL), 404, 'not_found');
    const settings = await t.http().get('/api/v1/users/me/settings').set('Cookie', cookie).expect(200);
    expect(settings.body.theme).not.toBe('dark');
    expect(await sessionWorks(cookie)).toBe(true);
  });

  it('refuses a cross-site sign-in (login CSRF), and sets no cookie', async () => {
    for (const headers of [{ Origin: EVIL }, { 'Sec-Fetch-Site': 'cross-site' }, { 'Sec-Fetch-Site': 'same-site' }]) {
      const res = await t
        .http()
        .post('/api/v1/login')
        .set(headers)
        .send({ username: victim.name, password: victim.password });
      expectError(res, 403, 'forbidden');
      expect(res.headers['set-cookie']).toBeUndefined();
    }
  });

  it('lets same-origin requests through: Origin naming the Host, or Sec-Fetch-Site same-origin or none', async () => {
    const account = await createServiceAccount(t);
    const renewed = await t
      .http()
      .post(`/api/v1/service-accounts/${account.name}/renew-token`)
      .set('Host', HOST)
      .set('Cookie', victim.cookie)
      .set('Origin', OWN_ORIGIN)
      .set('Content-Length', '0')
      .expect(200);
    expect(await tokenWorks(account.token)).toBe(false);
    expect(await tokenWorks(renewed.body.token as string)).toBe(true);
    for (const site of ['same-origin', 'none']) {
      await t
        .http()
        .patch('/api/v1/users/me/settings')
        .set('Cookie', victim.cookie)
        .set('Sec-Fetch-Site', site)
        .set('Origin', EVIL) // not read when Sec-Fetch-Site is there
        .send({ week_start: 'monday' })
        .expect(200);
    }
    const login = await t
      .http()
      .post('/api/v1/login')
      .set('Host', HOST)
      .set('Origin', OWN_ORIGIN)
      .send({ username: victim.name, password: victim.password })
      .expect(200);
    const session = await signedInUser(t);
    await t
      .http()
      .post('/api/v1/logout')
      .set('Cookie', session.cookie)
      .set('Sec-Fetch-Site', 'same-origin')
      .expect(204);
    expect(await sessionWorks(session.cookie)).toBe(false);
    victim.cookie = sessionCookieOf(login);
  });

  it('lets requests without Origin or Sec-Fetch-Site through (curl, scripts)', async () => {
    const account = await createServiceAccount(t);
    await t
      .http()
      .post(`/api/v1/service-accounts/${account.name}/renew-token`)
      .set('Cookie', victim.cookie)
      .set('Content-Length', '0')
      .expect(200);
    expect(await tokenWorks(account.token)).toBe(false);
    const session = await signedInUser(t);
    await t.http().post('/api/v1/logout').set('Cookie', session.cookie).set('Content-Length', '0').expect(204);
    expect(await sessionWorks(session.cookie)).toBe(false);
  });

  it('does not touch bearer-token requests, nor safe methods', async () => {
    const account = await createServiceAccount(t);
    await t
      .http()
      .post(`/api/v1/service-accounts/${account.name}/renew-token`)
      .set(adminAuth)
      .set('Origin', EVIL)
      .set('Sec-Fetch-Site', 'cross-site')
      .set('Content-Length', '0')
      .expect(200);
    expect(await tokenWorks(account.token)).toBe(false);
    // A bad Authorization header is still a 401, cookie or not.
    const bad = t.http().post('/api/v1/logout').set('Authorization', 'Basic dXNlcjpwYXNz').set('Origin', EVIL);
    expectError(await bad.set('Cookie', victim.cookie), 401, 'unauthorised');
    await t.http().get('/api/v1/users/me').set('Cookie', victim.cookie).set('Origin', EVIL).expect(200);
    await t.http().get('/api/v1/users/me').set('Cookie', victim.cookie).set('Sec-Fetch-Site', 'cross-site').expect(200);
  });

  it('sends no CORS headers while IAM_ALLOWED_ORIGINS is unset', async () => {
    const preflight = await t
      .http()
      .options('/api/v1/logout')
      .set('Origin', APP)
      .set('Access-Control-Request-Method', 'POST');
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    expect(preflight.headers['access-control-allow-credentials']).toBeUndefined();
    const get = await t.http().get('/api/v1/users/me').set('Cookie', victim.cookie).set('Origin', APP).expect(200);
    expect(get.headers['access-control-allow-origin']).toBeUndefined();
    // Nor does another origin of the deployment get through the protection.
    expectError(
      await t.http().post('/api/v1/logout').set('Cookie', victim.cookie).set('Origin', APP),
      403,
      'forbidden',
    );
  });
});

describe.each(TEST_DATABASES)('IAM_ALLOWED_ORIGINS (%s)', (kind) => {
  let t: TestApp;
  let user: { name: string; password: string; cookie: string };
  beforeAll(async () => {
    t = await createTestApp(kind, { app: { allowedOrigins: [APP, 'http://localhost:5173'] } });
    user = await signedInUser(t);
  });
  afterAll(() => t.close());

  it('answers preflights from the allowed origins, with credentials, and nothing for others', async () => {
    for (const origin of [APP, 'http://localhost:5173']) {
      const preflight = await t
        .http()
        .options('/api/v1/users/me/settings')
        .set('Origin', origin)
        .set('Access-Control-Request-Method', 'PATCH')
        .set('Access-Control-Request-Headers', 'content-type');
      expect(preflight.status).toBe(204);
      expect(preflight.headers['access-control-allow-origin']).toBe(origin);
      expect(preflight.headers['access-control-allow-credentials']).toBe('true');
      expect(preflight.headers['access-control-allow-methods']).toContain('PATCH');
      expect(preflight.headers['access-control-allow-headers']?.toLowerCase()).toContain('content-type');
      expect(preflight.headers.vary).toContain('Origin');
    }
    for (const origin of [EVIL, `${APP}:8443`, 'http://app.example', 'null']) {
      const preflight = await t
        .http()
        .options('/api/v1/users/me/settings')
        .set('Origin', origin)
        .set('Access-Control-Request-Method', 'PATCH');
      expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
      expect(preflight.headers['access-control-allow-credentials']).toBeUndefined();
      expect(preflight.headers['access-control-allow-methods']).toBeUndefined();
    }
  });

  it('lets the allowed origins send state-changing requests with the cookie, and reads the answer', async () => {
    const res = await t
      .http()
      .patch('/api/v1/users/me/settings')
      .set('Cookie', user.cookie)
      .set('Origin', APP)
      .set('Sec-Fetch-Site', 'same-site')
      .send({ theme: 'dark' })
      .expect(200);
    expect(res.headers['access-control-allow-origin']).toBe(APP);
    expect(res.headers['access-control-allow-credentials']).toBe('true');
    // Errors too, so that the page can read them.
    const error = await t.http().get('/api/v1/users/me').set('Origin', APP);
    expectError(error, 401, 'unauthorised');
    expect(error.headers['access-control-allow-origin']).toBe(APP);
  });

  it('still refuses every other origin', async () => {
    const settings = () => t.http().get('/api/v1/users/me/settings').set('Cookie', user.cookie).expect(200);
    const before = (await settings()).body.theme as string;
    for (const origin of [EVIL, 'http://app.example', `${APP}.evil.example`]) {
      const res = await t
        .http()
        .patch('/api/v1/users/me/settings')
        .set('Cookie', user.cookie)
        .set('Origin', origin)
        .send({ theme: before === 'light' ? 'dark' : 'light' });
      expectError(res, 403, 'forbidden');
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    }
    expect((await settings()).body.theme).toBe(before);
  });
});
