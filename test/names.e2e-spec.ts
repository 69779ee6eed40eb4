import { randomInt, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { User } from '../src/users/entities/user.entity.js';
import { createTestApp, TEST_DATABASES, type TestApp, type TestAppOptions } from './utils/create-app.js';
import {
  adminAuth,
  createServiceAccount,
  createUser,
  expectError,
  sessionCookieOf,
  uniqueName,
} from './utils/fixtures.js';
import { getDataSourceToken } from '@nestjs/typeorm';
import { IAM_DATA_SOURCE } from '../src/database/iam-data-source.js';

/** Every line the apps of this file log (one pino-http instance per test file: see createTestApp). */
const lines: string[] = [];
const logged: TestAppOptions = {
  app: { logLevel: 'warn' },
  logDestination: { write: (line: string) => void lines.push(line) },
};

const user = (name: string) => `/api/v1/users/${encodeURIComponent(name)}`;

/** For tests that hash passwords (argon2) or restart the app: sized for a slow, busy machine. */
const SLOW = 120_000;

describe.each(TEST_DATABASES)('principal names (%s)', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(kind, logged);
  }, SLOW);
  afterAll(() => t?.close());

  const create = (name: string) => t.http().post('/api/v1/users').set(adminAuth).send({ name });

  it.each([
    ['Latin with a Cyrillic а', '\u0430lice', 'invalid_value'],
    ['Latin with a Greek Α', '\u0391dmin', 'invalid_value'],
    ['an invisible U+034F', 'rooty\u034f', 'invalid_format'],
    ['a zero-width joiner', 'ro\u200doty', 'invalid_format'],
    ['a soft hyphen', 'ro\u00adoty', 'invalid_format'],
    ['a colon', 'a:b', 'invalid_format'],
  ])('refuses a user name with %s (400 naming the field)', async (_label, name, error) => {
    const res = await create(name);
    expect(expectError(res, 400, 'bad_request').invalid_fields).toEqual([
      expect.objectContaining({ name: 'name', error }),
    ]);
    expectError(await t.http().get(user(name)).set(adminAuth), 404, 'not_found');
  });

  it('refuses ":" in group, role and service-account names too', async () => {
    for (const path of ['/api/v1/groups', '/api/v1/roles', '/api/v1/service-accounts']) {
      const res = await t.http().post(path).set(adminAuth).send({ name: 'a:b' });
      expect({ path, fields: expectError(res, 400, 'bad_request').invalid_fields }).toEqual({
        path,
        fields: [expect.objectContaining({ name: 'name', error: 'invalid_format' })],
      });
    }
  });

  it('accepts names in one script, with diacritics, CJK or e-mail-like', async () => {
    for (const name of [
      uniqueName('jos\u00e9'),
      `\u0430\u043b\u0435\u043a\u0441\u0435\u0439-${randomInt(1e9)}`, // no Latin hex digits here
      `\u5c71\u7530${uniqueName('taro')}`,
      `${uniqueName('mary.jane')}@doe.net`,
    ]) {
      const res = await create(name);
      expect({ name, status: res.status, stored: res.body.name }).toEqual({ name, status: 201, stored: name });
    }
  });

  it(
    'makes josé in NFC and in NFD one user: 409 on the second create, found by either form',
    async () => {
      const nfc = uniqueName('jos\u00e9');
      const nfd = nfc.normalize('NFD');
      expect(nfd).not.toBe(nfc);
      const first = await t.http().post('/api/v1/users').set(adminAuth).send({ name: nfd }).expect(201);
      expect(first.body.name).toBe(nfc); // stored in NFC
      expectError(await create(nfc), 409, 'conflict');
      expectError(await create(nfd), 409, 'conflict');
      for (const name of [nfc, nfd, nfd.toUpperCase()]) {
        const got = await t.http().get(user(name)).set(adminAuth);
        expect({ name, status: got.status, id: got.body.id }).toEqual({ name, status: 200, id: first.body.id });
      }
      // Sign-in by either form, and a path parameter in the other form acts on the same user.
      await t
        .http()
        .put(`${user(nfd)}/password`)
        .set(adminAuth)
        .send({ password: 'correct horse battery' })
        .expect(204);
      const login = await t.http().post('/api/v1/login').send({ username: nfd, password: 'correct horse battery' });
      expect(login.status).toBe(200);
      const me = await t.http().get('/api/v1/users/me').set('Cookie', sessionCookieOf(login)).expect(200);
      expect(me.body.id).toBe(first.body.id);
      await t.http().delete(user(nfd)).set(adminAuth).expect(204);
      expectError(await t.http().get(user(nfc)).set(adminAuth), 404, 'not_found');
    },
    SLOW,
  );

  /** The name in fullwidth letters and digits (ａｂｃ１２３). */
  const fullwidth = (name: string) =>
    [...name].map((c) => (/[a-z0-9]/.test(c) ? String.fromCodePoint(c.codePointAt(0)! + 0xfee0) : c)).join('');

  it('reads fullwidth letters in a name or a path as their ordinary forms', async () => {
    const name = uniqueName('wide');
    const created = await createUser(t, name);
    expectError(await create(fullwidth(name)), 409, 'conflict');
    const got = await t
      .http()
      .get(user(fullwidth(name)))
      .set(adminAuth)
      .expect(200);
    expect(got.body.id).toBe(created.id);
  });

  it('normalises a service account named in a path the same way', async () => {
    const account = await createServiceAccount(t);
    for (const name of [fullwidth(account.name), account.name.toUpperCase()]) {
      const got = await t
        .http()
        .get(`/api/v1/service-accounts/${encodeURIComponent(name)}`)
        .set(adminAuth);
      expect({ name, status: got.status, id: got.body.id }).toEqual({ name, status: 200, id: account.id });
    }
  });

  it('adds a member named in another normal form to a group', async () => {
    const nfc = uniqueName('ren\u00e9e');
    await createUser(t, nfc);
    const group = uniqueName('g');
    const res = await t
      .http()
      .post('/api/v1/groups')
      .set(adminAuth)
      .send({ name: group, members: [nfc.normalize('NFD')] })
      .expect(201);
    expect(res.body.users.map((u: { name: string }) => u.name)).toEqual([nfc]);
  });

  it(
    'checks a policy on the canonical name: a deny on josé holds when the path spells it in NFD',
    async () => {
      const target = uniqueName('jos\u00e9');
      await createUser(t, target);
      const role = uniqueName('r');
      await t
        .http()
        .post('/api/v1/roles')
        .set(adminAuth)
        .send({
          name: role,
          policy: [
            { effect: 'allow', action: 'iam:GetUser', resource: 'iam:user:*' },
            { effect: 'deny', action: 'iam:GetUser', resource: `iam:user:${target}` },
          ],
        })
        .expect(201);
      const reader = uniqueName('reader');
      await createUser(t, reader);
      await t
        .http()
        .post('/api/v1/groups')
        .set(adminAuth)
        .send({ name: uniqueName('g'), roles: [role], members: [reader] })
        .expect(201);
      await t
        .http()
        .put(`${user(reader)}/password`)
        .set(adminAuth)
        .send({ password: 'correct horse battery' });
      const login = await t.http().post('/api/v1/login').send({ username: reader, password: 'correct horse battery' });
      const cookie = sessionCookieOf(login);
      for (const name of [target, target.normalize('NFD'), target.toUpperCase()]) {
        const res = await t.http().get(user(name)).set('Cookie', cookie);
        expect({ name, status: res.status }).toEqual({ name, status: 403 });
      }
      await t.http().get(user(reader)).set('Cookie', cookie).expect(200);
    },
    SLOW,
  );

  it('stores policy resource patterns in the canonical form of names, so a pattern written in NFD matches', async () => {
    const role = uniqueName('r');
    const res = await t
      .http()
      .post('/api/v1/roles')
      .set(adminAuth)
      .send({ name: role, policy: [{ effect: 'deny', action: 'iam:GetUser', resource: 'iam:user:jose\u0301-*' }] })
      .expect(201);
    expect(res.body.policy[0].resource).toEqual(['iam:user:jos\u00e9-*']);
  });

  /** POSTs these bytes as they are (supertest would otherwise serialise a Buffer as JSON). */
  const postBytes = (path: string, body: Buffer) =>
    t
      .http()
      .post(path)
      .set(adminAuth)
      .set('Content-Type', 'application/json')
      .serialize((bytes: Buffer) => bytes as unknown as string)
      .send(body);

  it('refuses a body that is not UTF-8 (0xC3 0x28 in a string) with 400, and creates nothing', async () => {
    const name = uniqueName('utf');
    const body = Buffer.concat([Buffer.from(`{"name":"${name}`), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    const res = await postBytes('/api/v1/users', body);
    expect(expectError(res, 400, 'bad_request').invalid_fields).toEqual([
      expect.objectContaining({ name: 'body', error: 'invalid_format' }),
    ]);
    const list = await t.http().get('/api/v1/users').set(adminAuth).expect(200);
    expect(list.body.items.filter((u: { name: string }) => u.name.startsWith(name))).toEqual([]);
    // The same bytes as valid UTF-8 (Ã() are fine.
    const ok = Buffer.concat([Buffer.from(`{"name":"${name}`), Buffer.from('\u00c3('), Buffer.from('"}')]);
    await postBytes('/api/v1/users', ok).expect(201);
  });

  describe('names stored before the rules', () => {
    // As an earlier release could have stored them: written with SQL, past the API's rules.
    const cyrillic = '\u0430lice';
    const invisible = 'rooty\u034f';
    const colon = 'a:b';
    const nfdJose = 'jose\u0301';

    beforeAll(async () => {
      const dataSource = t.app.get<DataSource>(getDataSourceToken(IAM_DATA_SOURCE));
      for (const name of [cyrillic, invisible, colon, nfdJose]) {
        await dataSource
          .createQueryBuilder()
          .insert()
          .into(User)
          .values({
            id: randomUUID(),
            name,
            nameKey: name.toLowerCase(),
            displayName: name,
            metadata: {},
            passwordHash: null,
            createdAt: new Date(),
            lastSeenAt: null,
          })
          .execute();
      }
      // A current user beside the legacy NFD josé: both stay reachable.
      await createUser(t, 'jos\u00e9');
      const restarted = lines.length;
      await t.close({ keepDatabase: true });
      t = await createTestApp(kind, { ...logged, database: t.database });
      startLines = lines.slice(restarted);
    }, SLOW);
    let startLines: string[] = [];

    it('lists them, with their kind, in one warning at start-up', () => {
      const warnings = startLines
        .map((line) => JSON.parse(line) as { level: number; context?: string; legacyNames?: unknown[] })
        .filter((entry) => entry.context === 'LegacyNamesService');
      expect(warnings).toHaveLength(1);
      expect(warnings[0].level).toBe(40);
      expect(warnings[0].legacyNames).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ kind: 'user', name: '\\u0430lice' }),
          expect.objectContaining({ kind: 'user', name: 'rooty\\u034F' }),
          expect.objectContaining({ kind: 'user', name: 'a:b' }),
          expect.objectContaining({ kind: 'user', name: 'jose\\u0301' }),
        ]),
      );
      expect(warnings[0].legacyNames).toHaveLength(4);
    });

    it(
      'keeps them working: look-up, sign-in and delete',
      async () => {
        for (const name of [cyrillic, invisible, colon, nfdJose]) {
          const got = await t.http().get(user(name)).set(adminAuth);
          expect({ name, status: got.status, stored: got.body.name }).toEqual({ name, status: 200, stored: name });
          await t
            .http()
            .put(`${user(name)}/password`)
            .set(adminAuth)
            .send({ password: 'legacy password' })
            .expect(204);
          const login = await t.http().post('/api/v1/login').send({ username: name, password: 'legacy password' });
          expect({ name, status: login.status }).toEqual({ name, status: 200 });
        }
        // The NFC josé is another user than the legacy NFD one.
        const nfc = await t.http().get(user('jos\u00e9')).set(adminAuth).expect(200);
        const nfd = await t.http().get(user(nfdJose)).set(adminAuth).expect(200);
        expect(nfc.body.id).not.toBe(nfd.body.id);
        expect(nfc.body.name).toBe('jos\u00e9');
        for (const name of [cyrillic, invisible, colon, nfdJose]) {
          await t.http().delete(user(name)).set(adminAuth).expect(204);
        }
        for (const name of [cyrillic, invisible, colon]) {
          expectError(await t.http().get(user(name)).set(adminAuth), 404, 'not_found');
        }
        // With the legacy NFD josé gone, the NFD spelling finds the current josé, as for any name.
        const after = await t.http().get(user(nfdJose)).set(adminAuth).expect(200);
        expect(after.body.id).toBe(nfc.body.id);
      },
      SLOW,
    );
  });
});
