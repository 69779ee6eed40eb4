import { Redis } from 'ioredis';
import { createTestApp, TEST_DATABASES, type TestApp } from './utils/create-app.js';
import {
  adminAuth,
  createServiceAccount,
  createUser,
  expectError,
  signedInUser,
  uniqueName,
} from './utils/fixtures.js';

/** Seconds in a Retry-After header: present, a whole number, at least 1. */
function retryAfterOf(res: { headers: Record<string, unknown> }): number {
  const value = Number(res.headers['retry-after']);
  expect(Number.isInteger(value) && value >= 1).toBe(true);
  return value;
}

describe.each(TEST_DATABASES)('rate limits (%s)', (kind) => {
  describe('password changes, per user', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp(kind, { auth: { loginRateLimit: 10, lockoutThreshold: 1000 } });
    });
    afterAll(() => t.close());

    it('stops 40 guesses of the current password well before the 40th', async () => {
      const user = await signedInUser(t);
      const statuses: number[] = [];
      for (let i = 0; i < 40; i++) {
        const res = await t
          .http()
          .put('/api/v1/users/me/password')
          .set('Cookie', user.cookie)
          .send({ current_password: `guess number ${i}`, new_password: 'another long password' });
        statuses.push(res.status);
        if (res.status === 429) {
          expectError(res, 429, 'too_many_requests');
          retryAfterOf(res);
        }
      }
      expect(statuses.slice(0, 10)).toEqual(Array.from({ length: 10 }, () => 400));
      expect(statuses.slice(10)).toEqual(Array.from({ length: 30 }, () => 429));
      // Another user is not held back.
      const other = await signedInUser(t);
      await t
        .http()
        .put('/api/v1/users/me/password')
        .set('Cookie', other.cookie)
        .send({ current_password: other.password, new_password: 'another long password' })
        .expect(204);
    });
  });

  describe('sign-in, per client address and per user name', () => {
    let t: TestApp;
    beforeAll(async () => {
      // Behind a proxy on the loopback: X-Forwarded-For names the client.
      t = await createTestApp(kind, { auth: { loginRateLimit: 3 }, app: { trustProxy: 'loopback' } });
    });
    afterAll(() => t.close());

    const signIn = (from: string, username: string, password = 'wrong password!') =>
      t.http().post('/api/v1/login').set('X-Forwarded-For', from).send({ username, password });

    it('limits attempts from one address, whatever the user names', async () => {
      for (let i = 0; i < 3; i++) {
        expectError(await signIn('198.51.100.1', uniqueName()), 401, 'unauthorised');
      }
      const limited = await signIn('198.51.100.1', uniqueName());
      expectError(limited, 429, 'too_many_requests');
      retryAfterOf(limited);
      // Another address is not limited.
      expectError(await signIn('198.51.100.2', uniqueName()), 401, 'unauthorised');
    });

    it('limits attempts on one user name (in any case), whatever the addresses', async () => {
      // A user with a password, not signed in yet (a sign-in counts on the name too).
      const user = { name: (await createUser(t)).name, password: 'correct horse battery' };
      await t
        .http()
        .put(`/api/v1/users/${user.name}/password`)
        .set(adminAuth)
        .send({ password: user.password })
        .expect(204);
      const variants = [user.name.toUpperCase(), user.name, user.name.toLowerCase()];
      for (let i = 0; i < 3; i++) {
        expectError(await signIn(`203.0.113.${10 + i}`, variants[i]), 401, 'unauthorised');
      }
      const limited = await signIn('203.0.113.20', user.name, user.password);
      expectError(limited, 429, 'too_many_requests');
      retryAfterOf(limited);
      // Another name from a fresh address is not limited.
      expectError(await signIn('203.0.113.21', uniqueName()), 401, 'unauthorised');
    });
  });

  describe('failed credentials, per client address', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp(kind, { auth: { authFailureLimit: 5 }, app: { trustProxy: 'loopback' } });
    });
    afterAll(() => t.close());

    it('blocks an address after IAM_AUTH_FAILURE_LIMIT bad tokens and cookies, before looking at its credentials', async () => {
      const guesser = '192.0.2.7';
      const account = await createServiceAccount(t);
      for (let i = 0; i < 3; i++) {
        const res = await t
          .http()
          .get('/api/v1/users')
          .set('X-Forwarded-For', guesser)
          .set('Authorization', `Bearer iamsa_${'x'.repeat(46)}`);
        expectError(res, 401, 'unauthorised');
      }
      for (let i = 0; i < 2; i++) {
        const res = await t
          .http()
          .get('/api/v1/users/me')
          .set('X-Forwarded-For', guesser)
          .set('Cookie', `session_id=${'A'.repeat(43)}`);
        expectError(res, 401, 'unauthorised');
      }
      // Even a right token is not looked at now: a guess that hits is answered like one that misses.
      const blocked = await t
        .http()
        .get('/api/v1/users')
        .set('X-Forwarded-For', guesser)
        .set('Authorization', `Bearer ${account.token}`);
      expectError(blocked, 429, 'too_many_requests');
      retryAfterOf(blocked);
      // Wrong passwords from there are refused unchecked too.
      expectError(
        await t.http().post('/api/v1/login').set('X-Forwarded-For', guesser).send({ username: 'x', password: 'y' }),
        429,
        'too_many_requests',
      );
      // Other addresses go on, and requests without credentials are not counted.
      await t.http().get('/api/v1/users').set('X-Forwarded-For', '192.0.2.8').set(adminAuth).expect(200);
      for (let i = 0; i < 6; i++) {
        expectError(await t.http().get('/api/v1/users').set('X-Forwarded-For', '192.0.2.9'), 401, 'unauthorised');
      }
      await t.http().get('/api/v1/users').set('X-Forwarded-For', '192.0.2.9').set(adminAuth).expect(200);
    });

    it('counts wrong sign-in passwords against the address', async () => {
      const from = '192.0.2.30';
      for (let i = 0; i < 5; i++) {
        expectError(
          await t
            .http()
            .post('/api/v1/login')
            .set('X-Forwarded-For', from)
            .send({ username: uniqueName(), password: 'y' }),
          401,
          'unauthorised',
        );
      }
      expectError(
        await t.http().get('/api/v1/users').set('X-Forwarded-For', from).set(adminAuth),
        429,
        'too_many_requests',
      );
    });
  });

  describe('a rate-limit store that cannot be reached', () => {
    let t: TestApp;
    beforeAll(async () => {
      // Nothing listens on port 1.
      t = await createTestApp(kind, {
        auth: { redis: { url: 'redis://127.0.0.1:1', keyPrefix: uniqueName('iam-test') } },
      });
    });
    afterAll(() => t.close());

    it('answers 503 with Retry-After, never a 500 or a hang, and does not waive the limits', async () => {
      const login = await t.http().post('/api/v1/login').send({ username: 'someone', password: 'whatever pw' });
      expectError(login, 503, 'service_unavailable');
      retryAfterOf(login);
      const authenticated = await t.http().get('/api/v1/users').set(adminAuth);
      expectError(authenticated, 503, 'service_unavailable');
      // Requests without credentials have nothing to count.
      await t.http().get('/health').expect(200);
    });
  });
});

// Several instances count together when they share Redis (.ci/run starts one and sets REDIS_URL). Defined only
// with REDIS_URL, as the PostgreSQL runs are only with TEST_DATABASE_URL.
const REDIS_URL = process.env.REDIS_URL;
if (REDIS_URL) {
  describe.each(TEST_DATABASES)('rate limits shared through Redis (%s)', (kind) => {
    const keyPrefix = `${uniqueName('iam-test')}:`;
    let a: TestApp;
    let b: TestApp;
    let redis: Redis;
    beforeAll(async () => {
      const auth = { loginRateLimit: 3, redis: { url: REDIS_URL, keyPrefix } };
      a = await createTestApp(kind, { auth });
      b = await createTestApp(kind, { auth, database: a.database });
      redis = new Redis(REDIS_URL);
    });
    afterAll(async () => {
      // Leave nothing behind in the shared Redis.
      const keys = await redis.keys(`${keyPrefix}*`);
      if (keys.length > 0) {
        await redis.del(...keys);
      }
      await redis.quit();
      await b.close({ keepDatabase: true });
      await a.close();
    });

    it('shares the sign-in limit between two instances', async () => {
      const name = uniqueName();
      const attempt = (app: TestApp) =>
        app.http().post('/api/v1/login').send({ username: name, password: 'wrong pw!' });
      expectError(await attempt(a), 401, 'unauthorised');
      expectError(await attempt(b), 401, 'unauthorised');
      expectError(await attempt(a), 401, 'unauthorised');
      const limited = await attempt(b);
      expectError(limited, 429, 'too_many_requests');
      retryAfterOf(limited);
      // The counters are under this deployment's prefix.
      expect((await redis.keys(`${keyPrefix}*`)).length).toBeGreaterThan(0);
    });
  });
}
