import { createHash, randomUUID } from 'node:crypto';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { IAM_DATA_SOURCE } from '../src/database/iam-data-source.js';
import { Session } from '../src/sessions/entities/session.entity.js';
import { createTestApp, TEST_DATABASES, type TestApp } from './utils/create-app.js';
import {
  adminAuth,
  callerWithPolicy,
  createGroup,
  createRole,
  expectError,
  sessionCookieOf,
  signedInUser,
  uniqueName,
} from './utils/fixtures.js';

interface SessionBody {
  id: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  client_address: string | null;
  user_agent: string | null;
  current: boolean;
}
interface SessionList {
  items: SessionBody[];
  next_page_token?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const IDLE_MINUTES = 30;

/** Issue 11, "sessions people can see": the session list, ending one session, and the idle timeout. */
describe.each(TEST_DATABASES)('sessions people can see (%s)', (kind) => {
  let t: TestApp;
  let dataSource: DataSource;
  /** A user named in IAM_ADMINISTRATORS. */
  let boss: { name: string; password: string; cookie: string };
  const bossName = uniqueName('boss');
  beforeAll(async () => {
    t = await createTestApp(kind, {
      auth: { administrators: [bossName], sessionTtlMinutes: 1440, sessionIdleMinutes: IDLE_MINUTES },
    });
    dataSource = t.app.get<DataSource>(getDataSourceToken(IAM_DATA_SOURCE));
    boss = await signedInUser(t, bossName);
  });
  afterAll(() => t.close());

  const cookieValue = (cookie: string) => cookie.slice('session_id='.length);

  /** Signs `user` in once more (a session of its own), with this User-Agent if given; its cookie. */
  async function signInAgain(user: { name: string; password: string }, userAgent?: string) {
    const request = t.http().post('/api/v1/login');
    if (userAgent !== undefined) {
      request.set('User-Agent', userAgent);
    }
    return sessionCookieOf(await request.send({ username: user.name, password: user.password }).expect(200));
  }

  const ownSessions = async (cookie: string, query = '') =>
    (await t.http().get(`/api/v1/users/me/sessions${query}`).set('Cookie', cookie).expect(200)).body as SessionList;

  const sessionsOf = async (name: string, auth: Record<string, string> = adminAuth) =>
    (
      await t
        .http()
        .get(`/api/v1/users/${encodeURIComponent(name)}/sessions`)
        .set(auth)
        .expect(200)
    ).body as SessionList;

  /** The id of the session behind a cookie, read from the database (so that the session is not used). */
  async function idOf(cookie: string): Promise<string> {
    const tokenHash = createHash('sha256').update(cookieValue(cookie)).digest('hex');
    const row = await dataSource.getRepository(Session).findOneOrFail({ where: { tokenHash }, select: { id: true } });
    return row.id;
  }

  const works = async (cookie: string) => (await t.http().get('/api/v1/users/me').set('Cookie', cookie)).status === 200;

  it('lists the caller’s sessions, newest first, with `current`, client and user agent, never the cookie', async () => {
    const user = await signedInUser(t);
    const firefox = 'Mozilla/5.0 (X11; Linux x86_64; rv:135.0) Gecko/20100101 Firefox/135.0';
    const second = await signInAgain(user, firefox);
    const before = Date.now();
    const res = await t.http().get('/api/v1/users/me/sessions').set('Cookie', second).expect(200);
    const list = res.body as SessionList;
    expect(list.next_page_token).toBeUndefined();
    expect(list.items).toHaveLength(2);
    const [newest, older] = list.items;
    expect(Object.keys(newest).sort()).toEqual(
      ['client_address', 'created_at', 'current', 'expires_at', 'id', 'last_seen_at', 'user_agent'].sort(),
    );
    expect(newest).toMatchObject({ id: await idOf(second), current: true, user_agent: firefox });
    expect(older).toMatchObject({ id: await idOf(user.cookie), current: false });
    for (const session of list.items) {
      expect(session.id).toMatch(UUID);
      expect(session.client_address).toMatch(/127\.0\.0\.1|::1/);
      const created = Date.parse(session.created_at);
      expect(created).toBeLessThanOrEqual(before);
      expect(Date.parse(session.last_seen_at)).toBeGreaterThanOrEqual(created);
      // IAM_SESSION_TTL_MINUTES (1440 here) after sign-in.
      expect(Date.parse(session.expires_at) - created).toBe(1440 * 60_000);
    }
    expect(Date.parse(newest.created_at)).toBeGreaterThanOrEqual(Date.parse(older.created_at));
    // Neither the cookies nor their digests (what the database keeps) appear anywhere in the answer.
    for (const cookie of [user.cookie, second]) {
      const digest = createHash('sha256').update(cookieValue(cookie)).digest('hex');
      expect(res.text).not.toContain(cookieValue(cookie));
      expect(res.text).not.toContain(digest);
    }
    // The other session sees the same two, itself current.
    const fromFirst = await ownSessions(user.cookie);
    expect(fromFirst.items.map((s) => [s.id, s.current])).toEqual([
      [newest.id, false],
      [older.id, true],
    ]);
  });

  it('keeps at most 512 characters of the user agent, without control characters', async () => {
    const user = await signedInUser(t);
    const long = await signInAgain(user, `agent\t/${'x'.repeat(600)}`);
    const [session] = (await ownSessions(long)).items.filter((s) => s.current);
    expect(session.user_agent).toBe(`agent/${'x'.repeat(506)}`);
    expect([...session.user_agent!]).toHaveLength(512);
  });

  it('pages with limit and page_token like the other lists', async () => {
    const user = await signedInUser(t);
    const cookies = [user.cookie, await signInAgain(user), await signInAgain(user), await signInAgain(user)];
    const all = await ownSessions(cookies[0]);
    expect(all.items).toHaveLength(4);
    const first = await ownSessions(cookies[0], '?limit=3');
    expect(first.items.map((s) => s.id)).toEqual(all.items.slice(0, 3).map((s) => s.id));
    expect(typeof first.next_page_token).toBe('string');
    const token = encodeURIComponent(first.next_page_token!);
    const second = await ownSessions(cookies[0], `?limit=3&page_token=${token}`);
    expect(second.items.map((s) => s.id)).toEqual(all.items.slice(3).map((s) => s.id));
    expect(second.next_page_token).toBeUndefined();
    // The administrators' list of the same user pages the same way; each token is good for its user only.
    const asAdmin = await t
      .http()
      .get(`/api/v1/users/${user.name}/sessions?limit=3&page_token=${token}`)
      .set(adminAuth)
      .expect(200);
    expect((asAdmin.body as SessionList).items.map((s) => s.id)).toEqual(all.items.slice(3).map((s) => s.id));
    const other = await signedInUser(t);
    const foreign = await t.http().get(`/api/v1/users/me/sessions?page_token=${token}`).set('Cookie', other.cookie);
    expect(expectError(foreign, 400, 'bad_request').invalid_fields?.[0]).toMatchObject({ name: 'page_token' });
    const users = await t.http().get('/api/v1/users?limit=1').set(adminAuth).expect(200);
    const usersToken = encodeURIComponent(users.body.next_page_token as string);
    const wrongList = await t
      .http()
      .get(`/api/v1/users/me/sessions?page_token=${usersToken}`)
      .set('Cookie', user.cookie);
    expect(expectError(wrongList, 400, 'bad_request').invalid_fields?.[0]).toMatchObject({ name: 'page_token' });
    for (const query of ['?limit=0', '?limit=1001', '?limit=x', '?page_token=', '?page_token=abc.def', '?q=x']) {
      expectError(
        await t.http().get(`/api/v1/users/me/sessions${query}`).set('Cookie', user.cookie),
        400,
        'bad_request',
      );
    }
  });

  it('ends one of the caller’s own sessions, refused on the very next request even when cached', async () => {
    const user = await signedInUser(t);
    const other = await signInAgain(user);
    // Warm: the other session is answered from memory by now.
    await t.http().get('/api/v1/users/me').set('Cookie', other).expect(200);
    await t.http().get('/api/v1/users/me').set('Cookie', other).expect(200);
    const otherId = await idOf(other);
    const res = await t.http().delete(`/api/v1/users/me/sessions/${otherId}`).set('Cookie', user.cookie);
    expect(res.status).toBe(204);
    expect(res.headers['set-cookie']).toBeUndefined(); // not this session: the cookie stays
    expectError(await t.http().get('/api/v1/users/me').set('Cookie', other), 401, 'unauthorised');
    expect((await ownSessions(user.cookie)).items.map((s) => s.id)).toEqual([await idOf(user.cookie)]);
    // Ending it again: it is gone.
    expectError(
      await t.http().delete(`/api/v1/users/me/sessions/${otherId}`).set('Cookie', user.cookie),
      404,
      'not_found',
    );
    // Ending the current one by its id signs out, and clears the cookie.
    const own = await t
      .http()
      .delete(`/api/v1/users/me/sessions/${await idOf(user.cookie)}`)
      .set('Cookie', user.cookie);
    expect(own.status).toBe(204);
    expect(([] as string[]).concat(own.headers['set-cookie'] ?? []).join(';')).toMatch(/session_id=;/);
    expectError(await t.http().get('/api/v1/users/me').set('Cookie', user.cookie), 401, 'unauthorised');
  });

  it('never shows or ends another user’s session through /users/me', async () => {
    const mallory = await signedInUser(t);
    const victim = await signedInUser(t);
    const victimId = await idOf(victim.cookie);
    expect((await ownSessions(mallory.cookie)).items.map((s) => s.id)).not.toContain(victimId);
    const theirs = await t.http().delete(`/api/v1/users/me/sessions/${victimId}`).set('Cookie', mallory.cookie);
    const unknown = await t.http().delete(`/api/v1/users/me/sessions/${randomUUID()}`).set('Cookie', mallory.cookie);
    // The same answer for another user's session as for none at all.
    expect(expectError(theirs, 404, 'not_found').title).toBe(expectError(unknown, 404, 'not_found').title);
    expect(await works(victim.cookie)).toBe(true);
    expect(await works(mallory.cookie)).toBe(true);
  });

  it('answers 400 for an id that is not a session id, and 404 for an unknown user or session', async () => {
    const user = await signedInUser(t);
    for (const id of ['not-a-session', '123', cookieValue(user.cookie), `${randomUUID()}x`, '%00', 'me']) {
      for (const res of [
        await t.http().delete(`/api/v1/users/me/sessions/${id}`).set('Cookie', user.cookie),
        await t.http().delete(`/api/v1/users/${user.name}/sessions/${id}`).set(adminAuth),
      ]) {
        const body = expectError(res, 400, 'bad_request');
        expect({ id, fields: body.invalid_fields?.map((f) => f.name) }).toEqual({ id, fields: ['id'] });
      }
    }
    // Any case of a real id finds it.
    const upper = (await idOf(user.cookie)).toUpperCase();
    const ghost = uniqueName('ghost');
    expectError(await t.http().get(`/api/v1/users/${ghost}/sessions`).set(adminAuth), 404, 'not_found');
    expectError(await t.http().delete(`/api/v1/users/${ghost}/sessions`).set(adminAuth), 404, 'not_found');
    expectError(await t.http().delete(`/api/v1/users/${ghost}/sessions/${upper}`).set(adminAuth), 404, 'not_found');
    expectError(
      await t.http().delete(`/api/v1/users/${user.name}/sessions/${randomUUID()}`).set(adminAuth),
      404,
      'not_found',
    );
    await t.http().delete(`/api/v1/users/${user.name}/sessions/${upper}`).set(adminAuth).expect(204);
    expect(await works(user.cookie)).toBe(false);
  });

  it('gives a service-account token a 403 on the own-session routes (it has no sessions)', async () => {
    for (const res of [
      await t.http().get('/api/v1/users/me/sessions').set(adminAuth),
      await t.http().delete(`/api/v1/users/me/sessions/${randomUUID()}`).set(adminAuth),
    ]) {
      expectError(res, 403, 'forbidden');
    }
  });

  it('lets an administrator list and end another user’s sessions, one or all, at once', async () => {
    const bossCookie = await signInAgain(boss);
    const user = await signedInUser(t);
    const second = await signInAgain(user, 'second device');
    const third = await signInAgain(user);
    for (const cookie of [user.cookie, second, third]) {
      await t.http().get('/api/v1/users/me').set('Cookie', cookie).expect(200); // cached from now on
    }
    // By the bootstrap token (no session of its own: none is current) and by an administrator user.
    const listed = await sessionsOf(user.name);
    expect(listed.items).toHaveLength(3);
    expect(listed.items.every((s) => !s.current)).toBe(true);
    expect(listed.items.find((s) => s.user_agent === 'second device')?.id).toBe(await idOf(second));
    const ids = (list: SessionList) => list.items.map((s) => s.id);
    expect(ids(await sessionsOf(user.name, { Cookie: bossCookie }))).toEqual(ids(listed));
    // An administrator's own sessions through this route: this one is current.
    const own = await sessionsOf(bossName, { Cookie: bossCookie });
    expect(own.items.filter((s) => s.current).map((s) => s.id)).toEqual([await idOf(bossCookie)]);

    await t
      .http()
      .delete(`/api/v1/users/${user.name}/sessions/${await idOf(second)}`)
      .set('Cookie', bossCookie)
      .expect(204);
    expect(await works(second)).toBe(false);
    expect(await works(user.cookie)).toBe(true);
    await t.http().delete(`/api/v1/users/${user.name.toUpperCase()}/sessions`).set(adminAuth).expect(204);
    expect(await works(user.cookie)).toBe(false);
    expect(await works(third)).toBe(false);
    expect((await sessionsOf(user.name)).items).toEqual([]);
    expect(await works(bossCookie)).toBe(true);
  });

  it('lets a principal allowed iam:ListUserSessions / iam:EndUserSessions do so, and no one else', async () => {
    const user = await signedInUser(t);
    const second = await signInAgain(user);
    const lister = await callerWithPolicy(t, [
      { effect: 'allow', action: 'iam:ListUserSessions', resource: `iam:user:${user.name}` },
    ]);
    const ender = await callerWithPolicy(t, [
      { effect: 'allow', action: ['iam:ListUserSessions', 'iam:EndUserSessions'], resource: 'iam:user:*' },
    ]);
    const reader = await callerWithPolicy(t, [{ effect: 'allow', action: 'iam:GetUser', resource: 'iam:user:*' }]);

    expect((await sessionsOf(user.name, lister.headers)).items).toHaveLength(2);
    const secondId = await idOf(second);
    for (const [auth, refused] of [
      [reader.headers, ['iam:ListUserSessions', 'iam:EndUserSessions', 'iam:EndUserSessions']],
      [lister.headers, [null, 'iam:EndUserSessions', 'iam:EndUserSessions']],
    ] as const) {
      const answers = [
        await t.http().get(`/api/v1/users/${user.name}/sessions`).set(auth),
        await t.http().delete(`/api/v1/users/${user.name}/sessions/${secondId}`).set(auth),
        await t.http().delete(`/api/v1/users/${user.name}/sessions`).set(auth),
      ];
      answers.forEach((res, i) => {
        if (refused[i] === null) {
          expect(res.status).toBe(200);
        } else {
          expect(expectError(res, 403, 'forbidden').title).toContain(refused[i]);
        }
      });
    }
    // Another user is not the lister's to see.
    const other = await signedInUser(t);
    expectError(await t.http().get(`/api/v1/users/${other.name}/sessions`).set(lister.headers), 403, 'forbidden');
    expect(await works(second)).toBe(true);

    await t.http().delete(`/api/v1/users/${user.name}/sessions/${secondId}`).set(ender.headers).expect(204);
    expect(await works(second)).toBe(false);
    expect(await works(user.cookie)).toBe(true);
    await t.http().delete(`/api/v1/users/${user.name}/sessions`).set(ender.headers).expect(204);
    expect(await works(user.cookie)).toBe(false);
  });

  it('refuses to show or end the sessions of a principal holding more than the caller', async () => {
    const caller = await callerWithPolicy(t, [
      { effect: 'allow', action: ['iam:ListUserSessions', 'iam:EndUserSessions'], resource: 'iam:user:*' },
    ]);
    const root = await signedInUser(t, uniqueName('root'));
    await createGroup(t, uniqueName('g'), {
      roles: [await createRole(t, [{ effect: 'allow', action: '*', resource: '*' }])],
      members: [root.name],
    });
    const administrator = { name: bossName, cookie: await signInAgain(boss) };
    for (const target of [root, administrator]) {
      const id = await idOf(target.cookie);
      for (const res of [
        await t.http().get(`/api/v1/users/${target.name}/sessions`).set(caller.headers),
        await t.http().delete(`/api/v1/users/${target.name}/sessions/${id}`).set(caller.headers),
        await t.http().delete(`/api/v1/users/${target.name}/sessions`).set(caller.headers),
      ]) {
        expect(expectError(res, 403, 'forbidden').title).toMatch(/only administrators may|which you do not/);
      }
      expect(await works(target.cookie)).toBe(true);
    }
    // A peer holding no more than the caller is fine.
    const peer = await signedInUser(t);
    expect((await sessionsOf(peer.name, caller.headers)).items).toHaveLength(1);
  });

  it('ends the session a sign-in was sent with, whoever’s it was', async () => {
    const user = await signedInUser(t);
    const again = sessionCookieOf(
      await t
        .http()
        .post('/api/v1/login')
        .set('Cookie', user.cookie)
        .send({ username: user.name, password: user.password })
        .expect(200),
    );
    expect(await works(user.cookie)).toBe(false);
    const list = await ownSessions(again);
    expect(list.items.map((s) => [s.id, s.current])).toEqual([[await idOf(again), true]]);
  });

  it('refuses and removes a session not used for IAM_SESSION_IDLE_MINUTES', async () => {
    const user = await signedInUser(t);
    const idle = await signInAgain(user);
    const idleId = await idOf(idle);
    const sessions = dataSource.getRepository(Session);
    // Not used since IAM_SESSION_IDLE_MINUTES and a second ago (a stamp moved back, as time would).
    await sessions.update({ id: idleId }, { lastSeenAt: new Date(Date.now() - IDLE_MINUTES * 60_000 - 1000) });
    // No longer listed, before anyone has tried it.
    expect((await ownSessions(user.cookie)).items.map((s) => s.id)).not.toContain(idleId);
    const refused = await t.http().get('/api/v1/users/me').set('Cookie', idle);
    expect(expectError(refused, 401, 'unauthorised').title).toBe(
      `Session ended after ${IDLE_MINUTES} minutes without use: sign in again`,
    );
    expect(await sessions.existsBy({ id: idleId })).toBe(false);
    expectError(await t.http().get('/api/v1/users/me').set('Cookie', idle), 401, 'unauthorised');
    // Just inside the timeout it still works, and its use moves the stamp forward.
    const almost = await signInAgain(user);
    const almostId = await idOf(almost);
    const stale = new Date(Date.now() - IDLE_MINUTES * 60_000 + 60_000);
    await sessions.update({ id: almostId }, { lastSeenAt: stale });
    expect(await works(almost)).toBe(true);
    let stamped = stale;
    for (let attempt = 0; attempt < 50 && stamped.getTime() === stale.getTime(); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      stamped = (await sessions.findOneByOrFail({ id: almostId })).lastSeenAt;
    }
    expect(Date.now() - stamped.getTime()).toBeLessThan(60_000);
  });
});
