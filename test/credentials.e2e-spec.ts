import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { ADMIN_TOKEN, createTestApp, TEST_DATABASES, type TestApp, type TestDatabase } from './utils/create-app.js';
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

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

describe.each(TEST_DATABASES)('answers that carry a secret, and sign-in hygiene (%s)', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(kind);
  });
  afterAll(() => t.close());

  const expectNoStore = (res: { headers: Record<string, string> }) => {
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers.pragma).toBe('no-cache');
  };

  it('marks every answer with a token or a new session cookie Cache-Control: no-store', async () => {
    const created = await t
      .http()
      .post('/api/v1/service-accounts')
      .set(adminAuth)
      .send({ name: uniqueName('sa') });
    expect(created.status).toBe(201);
    expect(typeof created.body.token).toBe('string');
    expectNoStore(created);

    const renewed = await t
      .http()
      .post(`/api/v1/service-accounts/${created.body.name as string}/renew-token`)
      .set(adminAuth)
      .send({})
      .expect(200);
    expect(typeof renewed.body.token).toBe('string');
    expectNoStore(renewed);

    const user = await signedInUser(t);
    const login = await t.http().post('/api/v1/login').send({ username: user.name, password: user.password });
    expect(login.status).toBe(200);
    sessionCookieOf(login);
    expectNoStore(login);
  });

  it('ends the session the caller presented when they sign in again', async () => {
    const user = await signedInUser(t);
    const again = await t
      .http()
      .post('/api/v1/login')
      .set('Cookie', user.cookie)
      .send({ username: user.name, password: user.password })
      .expect(200);
    const fresh = sessionCookieOf(again);
    expect(fresh).not.toBe(user.cookie);
    expectError(await t.http().get('/api/v1/users/me').set('Cookie', user.cookie), 401, 'unauthorised');
    await t.http().get('/api/v1/users/me').set('Cookie', fresh).expect(200);
  });

  it('ends a presented session of another user too, and none on a failed sign-in', async () => {
    const first = await signedInUser(t);
    const second = await signedInUser(t);
    const failed = await t
      .http()
      .post('/api/v1/login')
      .set('Cookie', first.cookie)
      .send({ username: second.name, password: 'not the password' });
    expectError(failed, 401, 'unauthorised');
    await t.http().get('/api/v1/users/me').set('Cookie', first.cookie).expect(200);

    const switched = await t
      .http()
      .post('/api/v1/login')
      .set('Cookie', first.cookie)
      .send({ username: second.name, password: second.password })
      .expect(200);
    expectError(await t.http().get('/api/v1/users/me').set('Cookie', first.cookie), 401, 'unauthorised');
    const me = await t.http().get('/api/v1/users/me').set('Cookie', sessionCookieOf(switched)).expect(200);
    expect(me.body.name).toBe(second.name);
    // The other sessions of both users are untouched.
    await t.http().get('/api/v1/users/me').set('Cookie', second.cookie).expect(200);
  });
});

describe.each(TEST_DATABASES)('removing IAM_BOOTSTRAP_TOKEN (%s)', (kind) => {
  /** Starts the app and returns it with what it logged as warnings at start-up. */
  async function start(options: Parameters<typeof createTestApp>[1]) {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    try {
      const app = await createTestApp(kind, options);
      return { app, warnings: warn.mock.calls.map((call) => String(call[0])) };
    } finally {
      warn.mockRestore();
    }
  }
  const printedToken = (warnings: string[]) =>
    warnings
      .map((line) => /store it now: (\S+)/.exec(line)?.[1])
      .filter((token): token is string => token !== undefined);

  it('revokes the token it set, and prints none while an administrator exists', async () => {
    let database: TestDatabase | undefined;
    try {
      const first = await createTestApp(kind, { auth: { administrators: ['ops'] } });
      database = first.database;
      const ops = await createServiceAccount(first, 'ops');
      await first.http().get('/api/v1/service-accounts').set(adminAuth).expect(200);
      await first.close({ keepDatabase: true });

      const second = await start({ database, auth: { bootstrapToken: undefined, administrators: ['ops'] } });
      expectError(await second.app.http().get('/api/v1/service-accounts').set(adminAuth), 401, 'unauthorised');
      expect(printedToken(second.warnings)).toEqual([]);
      // The account stays, without a usable token, until an administrator issues one.
      await second.app.http().get('/api/v1/service-accounts/admin').set(bearer(ops.token)).expect(200);
      const renewed = await second.app
        .http()
        .post('/api/v1/service-accounts/admin/renew-token')
        .set(bearer(ops.token))
        .send({})
        .expect(200);
      const issued = renewed.body.token as string;
      await second.app.close({ keepDatabase: true });

      // A token the service issued is not the variable's: the next start without it keeps it.
      const third = await start({ database, auth: { bootstrapToken: undefined, administrators: ['ops'] } });
      await third.app.http().get('/api/v1/service-accounts').set(bearer(issued)).expect(200);
      expect(printedToken(third.warnings)).toEqual([]);
      await third.app.close({ keepDatabase: true });

      // Set again, the variable's token is the one that works.
      const fourth = await createTestApp(kind, { database, auth: { administrators: ['ops'] } });
      await fourth.http().get('/api/v1/service-accounts').set(adminAuth).expect(200);
      expectError(await fourth.http().get('/api/v1/service-accounts').set(bearer(issued)), 401, 'unauthorised');
      await fourth.close({ keepDatabase: true });
    } finally {
      await database?.drop();
    }
  });

  it('with no other administrator, gives admin a new token, printed once, as on a first start', async () => {
    let database: TestDatabase | undefined;
    try {
      const first = await createTestApp(kind);
      database = first.database;
      await first.http().get('/api/v1/service-accounts').set(adminAuth).expect(200);
      await first.close({ keepDatabase: true });

      const second = await start({ database, auth: { bootstrapToken: undefined } });
      expectError(await second.app.http().get('/api/v1/service-accounts').set(adminAuth), 401, 'unauthorised');
      const [fresh, ...more] = printedToken(second.warnings);
      expect(more).toEqual([]);
      expect(fresh).not.toBe(ADMIN_TOKEN);
      await second.app.http().get('/api/v1/service-accounts').set(bearer(fresh)).expect(200);
      await second.app.close({ keepDatabase: true });

      const third = await start({ database, auth: { bootstrapToken: undefined } });
      expect(printedToken(third.warnings)).toEqual([]);
      await third.app.http().get('/api/v1/service-accounts').set(bearer(fresh)).expect(200);
      expectError(await third.app.http().get('/api/v1/service-accounts').set(adminAuth), 401, 'unauthorised');
      await third.app.close({ keepDatabase: true });
    } finally {
      await database?.drop();
    }
  });
});
