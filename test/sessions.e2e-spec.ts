import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { PasswordHasher } from '../src/auth/password-hasher.js';
import { ConfigurationError } from '../src/config/env.validation.js';
import { User } from '../src/users/entities/user.entity.js';
import { createTestApp, TEST_DATABASES, type TestApp, type TestDatabase } from './utils/create-app.js';
import { adminAuth, createUser, expectError, sessionCookieOf, signedInUser, uniqueName } from './utils/fixtures.js';
import { getDataSourceToken } from '@nestjs/typeorm';
import { IAM_DATA_SOURCE } from '../src/database/iam-data-source.js';

describe.each(TEST_DATABASES)('sign-in, sessions, passwords and administrators (%s)', (kind) => {
  let t: TestApp;
  const adminUser = `boss-${kind}`;
  beforeAll(async () => {
    t = await createTestApp(kind, { auth: { administrators: [adminUser.toUpperCase()], sessionTtlMinutes: 90 } });
  });
  afterAll(() => t.close());

  const login = (username: string, password: string) => t.http().post('/api/v1/login').send({ username, password });

  it('signs in with a secure session cookie and answers with the user', async () => {
    const name = uniqueName('Login');
    await createUser(t, name);
    await t.http().put(`/api/v1/users/${name}/password`).set(adminAuth).send({ password: 'long password' }).expect(204);
    const before = Date.now();
    const res = await login(name.toLowerCase(), 'long password');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name, lrn: `iam:user:${name}` });
    const cookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith('session_id='))!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Secure/i);
    expect(cookie).toMatch(/Path=\//);
    const expires = Date.parse(/Expires=([^;]+)/i.exec(cookie)![1]);
    expect(expires - before).toBeGreaterThan(89 * 60_000);
    expect(expires - before).toBeLessThan(91 * 60_000);
    const value = sessionCookieOf(res).split('=')[1];
    expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const me = await t.http().get('/api/v1/users/me').set('Cookie', sessionCookieOf(res)).expect(200);
    expect(me.body.name).toBe(name);
  });

  it('gives one answer for an unknown user, a wrong password and a user without password', async () => {
    const withPassword = await signedInUser(t);
    const withoutPassword = await createUser(t);
    const answers = [
      await login(uniqueName('nobody'), 'whatever pw'),
      await login(withPassword.name, 'wrong password'),
      await login(withoutPassword.name, 'whatever pw'),
    ];
    for (const res of answers) {
      expectError(res, 401, 'unauthorised');
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    expect(new Set(answers.map((r) => r.body.title)).size).toBe(1);
    expectError(await t.http().post('/api/v1/login').send({ username: 'x' }), 400, 'bad_request');
  });

  it('refuses a garbage or unknown session cookie', async () => {
    expectError(await t.http().get('/api/v1/users/me').set('Cookie', 'session_id=garbage'), 401, 'unauthorised');
    const wellFormed = `session_id=${'A'.repeat(43)}`;
    expectError(await t.http().get('/api/v1/users/me').set('Cookie', wellFormed), 401, 'unauthorised');
  });

  it('ends every session of the caller with DELETE /users/me/sessions, and clears the cookie', async () => {
    const first = await signedInUser(t);
    const second = sessionCookieOf(await login(first.name, first.password).expect(200));
    const res = await t.http().delete('/api/v1/users/me/sessions').set('Cookie', first.cookie);
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    const cleared = ([] as string[]).concat(res.headers['set-cookie'] ?? []).join(';');
    expect(cleared).toMatch(/session_id=;/);
    expectError(await t.http().get('/api/v1/users/me').set('Cookie', first.cookie), 401, 'unauthorised');
    expectError(await t.http().get('/api/v1/users/me').set('Cookie', second), 401, 'unauthorised');
  });

  it('ends only the current session with POST /logout', async () => {
    const first = await signedInUser(t);
    const second = sessionCookieOf(await login(first.name, first.password).expect(200));
    await t.http().post('/api/v1/logout').set('Cookie', first.cookie).expect(204);
    expectError(await t.http().get('/api/v1/users/me').set('Cookie', first.cookie), 401, 'unauthorised');
    await t.http().get('/api/v1/users/me').set('Cookie', second).expect(200);
  });

  it('lets an administrator set a password, which ends the user’s sessions', async () => {
    const user = await signedInUser(t);
    const short = await t.http().put(`/api/v1/users/${user.name}/password`).set(adminAuth).send({ password: 'short' });
    expect(expectError(short, 400, 'bad_request').invalid_fields?.[0]).toMatchObject({
      name: 'password',
      error: 'too_short',
    });
    expectError(
      await t
        .http()
        .put(`/api/v1/users/${uniqueName('ghost')}/password`)
        .set(adminAuth)
        .send({ password: 'long enough' }),
      404,
      'not_found',
    );
    await t
      .http()
      .put(`/api/v1/users/${user.name}/password`)
      .set(adminAuth)
      .send({ password: 'a new password' })
      .expect(204);
    expectError(await t.http().get('/api/v1/users/me').set('Cookie', user.cookie), 401, 'unauthorised');
    expectError(await login(user.name, user.password), 401, 'unauthorised');
    await login(user.name, 'a new password').expect(200);
  });

  it('changes the caller’s own password, keeping this session and ending the others', async () => {
    const user = await signedInUser(t);
    const other = sessionCookieOf(await login(user.name, user.password).expect(200));
    const wrong = await t
      .http()
      .put('/api/v1/users/me/password')
      .set('Cookie', user.cookie)
      .send({ current_password: 'not it at all', new_password: 'brand new password' });
    expect(expectError(wrong, 400, 'bad_request').invalid_fields?.[0]).toMatchObject({
      name: 'current_password',
      error: 'incorrect',
    });
    const weak = await t
      .http()
      .put('/api/v1/users/me/password')
      .set('Cookie', user.cookie)
      .send({ current_password: user.password, new_password: '1234567' });
    expectError(weak, 400, 'bad_request');
    await t
      .http()
      .put('/api/v1/users/me/password')
      .set('Cookie', user.cookie)
      .send({ current_password: user.password, new_password: 'brand new password' })
      .expect(204);
    await t.http().get('/api/v1/users/me').set('Cookie', user.cookie).expect(200);
    expectError(await t.http().get('/api/v1/users/me').set('Cookie', other), 401, 'unauthorised');
    expectError(await login(user.name, user.password), 401, 'unauthorised');
    await login(user.name, 'brand new password').expect(200);
  });

  it('lets exactly one of five concurrent changes of the own password from the same password win', async () => {
    const user = await signedInUser(t);
    const candidates = Array.from({ length: 5 }, (_, i) => `new password number ${i}`);
    const results = await Promise.all(
      candidates.map((new_password) =>
        t
          .http()
          .put('/api/v1/users/me/password')
          .set('Cookie', user.cookie)
          .send({ current_password: user.password, new_password }),
      ),
    );
    const won = candidates.filter((_, i) => results[i].status === 204);
    expect(won).toHaveLength(1);
    for (const res of results.filter((r) => r.status !== 204)) {
      // The answer to a wrong current password: by the time it was checked, it no longer was the current one.
      expect(expectError(res, 400, 'bad_request').invalid_fields).toEqual([
        expect.objectContaining({ name: 'current_password', error: 'incorrect' }),
      ]);
    }
    const logins = await Promise.all([user.password, ...candidates].map((password) => login(user.name, password)));
    expect(logins.map((res) => res.status)).toEqual(
      [user.password, ...candidates].map((p) => (p === won[0] ? 200 : 401)),
    );
  }, 30_000);

  it('gives no sign-in with the old password a session that outlives an administrator setting a new one', async () => {
    const user = await signedInUser(t);
    // Every sign-in reads the user and checks the old password, then waits here until the administrator's
    // PUT has answered: the window in which a slow check used to race the change.
    const hasher = t.app.get(PasswordHasher);
    const verify = hasher.verify.bind(hasher);
    const logins = 8;
    let checked = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let allChecked!: () => void;
    const everyLoginChecked = new Promise<void>((resolve) => (allChecked = resolve));
    hasher.verify = async (hash, password) => {
      const ok = await verify(hash, password);
      if (++checked === logins) {
        allChecked();
      }
      await gate;
      return ok;
    };
    try {
      const pending = Array.from({ length: logins }, () => login(user.name, user.password).then((res) => res));
      await everyLoginChecked;
      await t
        .http()
        .put(`/api/v1/users/${user.name}/password`)
        .set(adminAuth)
        .send({ password: 'set by an administrator' })
        .expect(204);
      release();
      const answers = await Promise.all(pending);
      for (const res of answers) {
        if (res.status === 200) {
          const me = await t.http().get('/api/v1/users/me').set('Cookie', sessionCookieOf(res));
          expect(me.status).toBe(401);
        } else {
          expectError(res, 401, 'unauthorised');
        }
      }
    } finally {
      hasher.verify = verify;
      release();
    }
    expectError(await t.http().get('/api/v1/users/me').set('Cookie', user.cookie), 401, 'unauthorised');
    await login(user.name, 'set by an administrator').expect(200);
  }, 30_000);

  it('gives service-account tokens a 403 on /users/me endpoints', async () => {
    for (const [method, path] of [
      ['get', '/api/v1/users/me'],
      ['get', '/api/v1/users/me/settings'],
      ['patch', '/api/v1/users/me/settings'],
      ['delete', '/api/v1/users/me/sessions'],
      ['put', '/api/v1/users/me/password'],
    ] as const) {
      const res = await t.http()[method](path).set(adminAuth).send({});
      expectError(res, 403, 'forbidden');
    }
  });

  it('prefers a bearer header over a cookie, and refuses a bad header even with a good cookie', async () => {
    const user = await signedInUser(t);
    const both = await t.http().get('/api/v1/users').set(adminAuth).set('Cookie', user.cookie).expect(200);
    expect(both.body.items.length).toBeGreaterThan(0); // the admin token's view, not the user's empty one
    const bad = await t.http().get('/api/v1/users/me').set('Authorization', 'Bearer wrong').set('Cookie', user.cookie);
    expectError(bad, 401, 'unauthorised');
    // Any Authorization header that is not one well-formed bearer token is a 401, whatever the cookie.
    const token = adminAuth.Authorization.slice('Bearer '.length);
    for (const header of [
      'Bearer a b',
      'Bearer',
      'Bearer ',
      'Bearer\tx',
      `Bearer\t${token}`,
      `Bearer  ${token}`,
      `Bearer ${token} extra`,
      `Bearer ${token},`,
      `Bearer ${token}\u00e9`,
      'Basic dXNlcjpwYXNz',
      `Token ${token}`,
      token,
      '',
    ]) {
      const res = await t.http().get('/api/v1/users/me').set('Authorization', header).set('Cookie', user.cookie);
      expect({ header, status: res.status }).toEqual({ header, status: 401 });
      expectError(res, 401, 'unauthorised');
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    }
    // Two Authorization headers are ambiguous (Node keeps only the first): refused too. (superagent sends an
    // array as repeated headers; its types allow that for Cookie only.)
    const twoHeaders = [`Bearer ${token}`, 'Basic dXNlcjpwYXNz'] as unknown as string;
    const two = await t.http().get('/api/v1/users/me').set('Authorization', twoHeaders).set('Cookie', user.cookie);
    expectError(two, 401, 'unauthorised');
    // So is a token in the query string or the body, even beside a good header or cookie.
    for (const res of [
      await t.http().get(`/api/v1/users/me?access_token=${token}`).set('Cookie', user.cookie),
      await t.http().get(`/api/v1/users?access_token=x`).set(adminAuth),
      await t.http().patch('/api/v1/users/me/settings').set('Cookie', user.cookie).send({ access_token: token }),
    ]) {
      expectError(res, 401, 'unauthorised');
    }
    // The scheme is case-insensitive.
    await t.http().get('/api/v1/users').set('Authorization', `bearer ${token}`).expect(200);
    // Without an Authorization header the cookie still works.
    await t.http().get('/api/v1/users/me').set('Cookie', user.cookie).expect(200);
  });

  it('makes IAM_ADMINISTRATORS users administrators, matched without regard to case', async () => {
    const boss = await signedInUser(t, adminUser);
    const me = await t.http().get('/api/v1/users/me').set('Cookie', boss.cookie).expect(200);
    expect(me.body.is_admin).toBe(true);
    const list = await t.http().get('/api/v1/users').set('Cookie', boss.cookie).expect(200);
    expect(list.body.items.length).toBeGreaterThan(1);
    await t.http().post('/api/v1/users').set('Cookie', boss.cookie).send({ name: uniqueName() }).expect(201);
  });

  it('reports the built-in admin service account as an administrator', async () => {
    const res = await t.http().get('/api/v1/service-accounts/admin').set(adminAuth).expect(200);
    expect(res.body).toMatchObject({ name: 'admin', is_admin: true, token_expires_at: null });
  });

  it('keeps health and the API docs public', async () => {
    await t.http().get('/health').expect(200);
    await t.http().get('/docs-json').expect(200);
  });
});

describe.each(TEST_DATABASES)('sign-in rate limit (%s)', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(kind, { auth: { loginRateLimit: 3 } });
  });
  afterAll(() => t.close());

  it('answers 429 after IAM_LOGIN_RATE_LIMIT attempts in the window', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      statuses.push(
        (await t.http().post('/api/v1/login').send({ username: 'nobody', password: 'whatever pw' })).status,
      );
    }
    expect(statuses).toEqual([401, 401, 401]);
    const limited = await t.http().post('/api/v1/login').send({ username: 'nobody', password: 'whatever pw' });
    expectError(limited, 429, 'too_many_requests');
    // Other routes are not limited.
    await t.http().get('/api/v1/users').set(adminAuth).expect(200);
  });
});

describe.each(TEST_DATABASES)('bootstrap administrator (%s)', (kind) => {
  it('creates admin with a fresh token when none is configured, and follows IAM_BOOTSTRAP_TOKEN changes', async () => {
    const first = await createTestApp(kind, { auth: { bootstrapToken: undefined } });
    await first.close({ keepDatabase: true });
    // Unknown token: no access; the fresh one was only printed.
    const tokenA = 'configured-token-A-0123456789abcdefghijklmnopqr';
    const second = await createTestApp(kind, { database: first.database, auth: { bootstrapToken: tokenA } });
    await second.http().get('/api/v1/users').set('Authorization', `Bearer ${tokenA}`).expect(200);
    await second.close({ keepDatabase: true });
    const tokenB = 'configured-token-B-0123456789abcdefghijklmnopqr';
    const third = await createTestApp(kind, { database: first.database, auth: { bootstrapToken: tokenB } });
    try {
      expectError(
        await third.http().get('/api/v1/users').set('Authorization', `Bearer ${tokenA}`),
        401,
        'unauthorised',
      );
      await third.http().get('/api/v1/users').set('Authorization', `Bearer ${tokenB}`).expect(200);
      const admins = await third
        .http()
        .get('/api/v1/service-accounts')
        .set('Authorization', `Bearer ${tokenB}`)
        .expect(200);
      expect(admins.body.items.filter((a: { name: string }) => a.name === 'admin')).toHaveLength(1);
    } finally {
      await third.close();
    }
  });

  /** An app whose administrator is the service account `ops` (as well as the built-in `admin`). */
  async function withOpsAdministrator(database?: TestDatabase) {
    const t = await createTestApp(kind, { database, auth: { administrators: ['ops'] } });
    const ops = await t.http().post('/api/v1/service-accounts').set(adminAuth).send({ name: 'ops' }).expect(201);
    return { t, opsAuth: { Authorization: `Bearer ${ops.body.token as string}` } };
  }

  it('keeps the name admin for the built-in service account, even once it is deleted', async () => {
    const { t, opsAuth } = await withOpsAdministrator();
    try {
      await t.http().delete('/api/v1/service-accounts/admin').set(opsAuth).expect(204);
      for (const name of ['admin', 'Admin', 'ADMIN']) {
        expectError(await t.http().post('/api/v1/users').set(opsAuth).send({ name }), 409, 'conflict');
      }
      const users = await t.http().get('/api/v1/users').set(opsAuth).expect(200);
      expect(users.body.items.map((u: { name: string }) => u.name.toLowerCase())).not.toContain('admin');
      // Nor a service account: start-up would make it the built-in one.
      const account = await t
        .http()
        .post('/api/v1/service-accounts')
        .set(opsAuth)
        .send({ name: 'admin', token_expires_at: new Date(Date.now() + 3_600_000).toISOString() });
      expectError(account, 409, 'conflict');
      expectError(await t.http().get('/api/v1/service-accounts/admin').set(opsAuth), 404, 'not_found');
    } finally {
      await t.close();
    }
  });

  it('refuses to start rather than create admin beside a user of that name, and starts once it is gone', async () => {
    const { t: first, opsAuth } = await withOpsAdministrator();
    const { database } = first;
    await first.http().delete('/api/v1/service-accounts/admin').set(opsAuth).expect(204);
    // A user named "Admin", as an earlier release allowed once the built-in account was deleted.
    await first.app.get<DataSource>(getDataSourceToken(IAM_DATA_SOURCE)).getRepository(User).insert({
      id: randomUUID(),
      name: 'Admin',
      nameKey: 'admin',
      displayName: 'Admin',
      metadata: {},
      createdAt: new Date(),
    });
    await first.close({ keepDatabase: true });
    try {
      // IAM_BOOTSTRAP_TOKEN set: the built-in account would be created, and its name is a user's.
      const refused = createTestApp(kind, { database });
      await expect(refused).rejects.toThrow(ConfigurationError);
      await expect(refused).rejects.toThrow(/user named "Admin".*delete/is);
      // Without it (and with another administrator) nothing is created: the service starts, the user is
      // deleted, and the next start with IAM_BOOTSTRAP_TOKEN creates the built-in account.
      const second = await createTestApp(kind, {
        database,
        auth: { bootstrapToken: undefined, administrators: ['ops'] },
      });
      const accounts = await second.http().get('/api/v1/service-accounts').set(opsAuth).expect(200);
      expect(accounts.body.items.map((a: { name: string }) => a.name)).toEqual(['ops']);
      await second.http().delete('/api/v1/users/admin').set(opsAuth).expect(204);
      await second.close({ keepDatabase: true });
      const third = await createTestApp(kind, { database });
      await third.http().get('/api/v1/service-accounts/admin').set(adminAuth).expect(200);
      await third.close({ keepDatabase: true });
    } finally {
      await database.drop();
    }
  });
});
