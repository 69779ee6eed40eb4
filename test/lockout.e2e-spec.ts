import { DataSource } from 'typeorm';
import { User } from '../src/users/entities/user.entity.js';
import { createTestApp, TEST_DATABASES, type TestApp } from './utils/create-app.js';
import { adminAuth, callerWithPolicy, expectError, signedInUser, uniqueName } from './utils/fixtures.js';
import { getDataSourceToken } from '@nestjs/typeorm';
import { IAM_DATA_SOURCE } from '../src/database/iam-data-source.js';

const THRESHOLD = 3;

describe.each(TEST_DATABASES)('account lockout (%s)', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(kind, { auth: { lockoutThreshold: THRESHOLD, lockoutMinutes: 15 } });
  });
  afterAll(() => t.close());

  const signIn = (username: string, password: string) => t.http().post('/api/v1/login').send({ username, password });

  /** A service account whose only role allows `actions` on `resource`; returns its Authorization header. */
  const callerAllowed = async (actions: string[], resource: string) =>
    (
      await callerWithPolicy(
        t,
        actions.map((action) => ({ effect: 'allow', action, resource })),
      )
    ).headers;

  it('locks the account after the threshold: the right password gets the 401 of a wrong one until lifted', async () => {
    const user = await signedInUser(t);
    const name = user.name.toUpperCase(); // names are compared without regard to case
    for (let i = 0; i < THRESHOLD; i++) {
      expectError(await signIn(name, 'wrong password!'), 401, 'unauthorised');
    }
    const locked = expectError(await signIn(user.name, user.password), 401, 'unauthorised');
    const wrong = expectError(await signIn(user.name, 'wrong password!'), 401, 'unauthorised');
    expect(locked.title).toBe(wrong.title);

    // The session made before the lock still works, but cannot change the password, even with the right one.
    const change = await t
      .http()
      .put('/api/v1/users/me/password')
      .set('Cookie', user.cookie)
      .send({ current_password: user.password, new_password: 'another long password' });
    const body = expectError(change, 400, 'bad_request');
    expect(body.invalid_fields).toEqual([expect.objectContaining({ name: 'current_password', error: 'incorrect' })]);

    // The administrator sees until when.
    const seen = await t.http().get(`/api/v1/users/${user.name}`).set(adminAuth).expect(200);
    expect(typeof seen.body.locked_until).toBe('string');
    expect(new Date(seen.body.locked_until as string).getTime()).toBeGreaterThan(Date.now());
    const listed = await t.http().get('/api/v1/users').set(adminAuth).expect(200);
    expect(listed.body.items.find((u: { name: string }) => u.name === user.name).locked_until).toBe(
      seen.body.locked_until,
    );
    // The user does not (no iam:UnlockUser on themself).
    const me = await t.http().get('/api/v1/users/me').set('Cookie', user.cookie).expect(200);
    expect(me.body).not.toHaveProperty('locked_until');

    await t.http().delete(`/api/v1/users/${user.name}/lockout`).set(adminAuth).expect(204);
    expect((await t.http().get(`/api/v1/users/${user.name}`).set(adminAuth).expect(200)).body.locked_until).toBeNull();
    await signIn(user.name, user.password).expect(200);
  });

  it('forgets the failures on a successful sign-in', async () => {
    const user = await signedInUser(t);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < THRESHOLD - 1; i++) {
        expectError(await signIn(user.name, 'wrong password!'), 401, 'unauthorised');
      }
      await signIn(user.name, user.password).expect(200);
    }
  });

  it('counts wrong current passwords of a password change towards the lock', async () => {
    const user = await signedInUser(t);
    for (let i = 0; i < THRESHOLD; i++) {
      const res = await t
        .http()
        .put('/api/v1/users/me/password')
        .set('Cookie', user.cookie)
        .send({ current_password: 'wrong password!', new_password: 'another long password' });
      expectError(res, 400, 'bad_request');
    }
    expectError(await signIn(user.name, user.password), 401, 'unauthorised');
  });

  it('loses no count when wrong passwords arrive at once', async () => {
    const user = await signedInUser(t);
    const attempts = await Promise.all(Array.from({ length: THRESHOLD }, () => signIn(user.name, 'wrong password!')));
    expect(attempts.map((res) => res.status)).toEqual(Array.from({ length: THRESHOLD }, () => 401));
    expectError(await signIn(user.name, user.password), 401, 'unauthorised');
  });

  it('shows and lifts the lock only for callers allowed iam:UnlockUser on the user', async () => {
    const user = await signedInUser(t);
    for (let i = 0; i < THRESHOLD; i++) {
      await signIn(user.name, 'wrong password!').expect(401);
    }
    const reader = await callerAllowed(['iam:GetUser'], 'iam:user:*');
    const unlocker = await callerAllowed(['iam:GetUser', 'iam:UnlockUser'], `iam:user:${user.name}`);

    const readerView = await t.http().get(`/api/v1/users/${user.name}`).set(reader).expect(200);
    expect(readerView.body).not.toHaveProperty('locked_until');
    expectError(await t.http().delete(`/api/v1/users/${user.name}/lockout`).set(reader), 403, 'forbidden');
    expectError(await signIn(user.name, user.password), 401, 'unauthorised');

    const unlockerView = await t.http().get(`/api/v1/users/${user.name}`).set(unlocker).expect(200);
    expect(typeof unlockerView.body.locked_until).toBe('string');
    await t.http().delete(`/api/v1/users/${user.name}/lockout`).set(unlocker).expect(204);
    await signIn(user.name, user.password).expect(200);
  });

  it('counts failures within IAM_LOCKOUT_MINUTES only, and a lock ends by itself', async () => {
    const user = await signedInUser(t);
    const users = t.app.get<DataSource>(getDataSourceToken(IAM_DATA_SOURCE)).getRepository(User);
    const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000);
    for (let i = 0; i < THRESHOLD - 1; i++) {
      await signIn(user.name, 'wrong password!').expect(401);
    }
    // Those failures are older than the window now: the next ones start a fresh count.
    await users.update({ name: user.name }, { failedLoginsSince: minutesAgo(16) });
    for (let i = 0; i < THRESHOLD - 1; i++) {
      await signIn(user.name, 'wrong password!').expect(401);
    }
    await signIn(user.name, user.password).expect(200);

    for (let i = 0; i < THRESHOLD; i++) {
      await signIn(user.name, 'wrong password!').expect(401);
    }
    expectError(await signIn(user.name, user.password), 401, 'unauthorised');
    // The lock's time is up.
    await users.update({ name: user.name }, { lockedUntil: minutesAgo(1) });
    await signIn(user.name, user.password).expect(200);
  });

  it('answers 404 for the lockout of an unknown user', async () => {
    expectError(
      await t
        .http()
        .delete(`/api/v1/users/${uniqueName('nobody')}/lockout`)
        .set(adminAuth),
      404,
      'not_found',
    );
  });
});
