import { createTestApp, TEST_DATABASES, type TestApp } from './utils/create-app.js';
import { adminAuth, createGroup, createUser, expectError, signedInUser, uniqueName } from './utils/fixtures.js';

describe.each(TEST_DATABASES)('users API (%s)', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(kind);
  });
  afterAll(() => t.close());

  it('creates a user with defaults and the documented shape', async () => {
    const name = uniqueName('Mary.Jane') + '@doe.net';
    const res = await t.http().post('/api/v1/users').set(adminAuth).send({ name });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      name,
      display_name: name,
      lrn: `iam:user:${name}`,
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
      created_at: expect.any(String),
      groups: [],
      last_seen_at: null,
      profile: { full_name: null, email_address: null },
      is_admin: false,
      active: true,
      metadata: {},
      auth_methods: [],
      // Shown to administrators (and callers allowed iam:UnlockUser on the user): not locked.
      locked_until: null,
    });
    expect(new Date(res.body.created_at).toISOString()).toBe(res.body.created_at);
    expect(Math.abs(Date.now() - Date.parse(res.body.created_at))).toBeLessThan(60_000);
  });

  it('gets, lists, updates and deletes, looking names up without regard to case', async () => {
    const name = uniqueName('Alice');
    await createUser(t, name, { display_name: 'Alice', metadata: { team: 'a', keep: 'yes' } });
    const got = await t.http().get(`/api/v1/users/${name.toUpperCase()}`).set(adminAuth).expect(200);
    expect(got.body).toMatchObject({ name, display_name: 'Alice', metadata: { team: 'a', keep: 'yes' } });

    const list = await t.http().get('/api/v1/users').set(adminAuth).expect(200);
    expect(list.body.items.map((u: { name: string }) => u.name)).toContain(name);

    const patched = await t
      .http()
      .patch(`/api/v1/users/${name.toLowerCase()}`)
      .set(adminAuth)
      .send({ metadata: { team: 'b', keep: null, added: 'x' } })
      .expect(200);
    expect(patched.body).toMatchObject({ name, display_name: 'Alice', metadata: { team: 'b', added: 'x' } });
    expect(patched.body.metadata.keep).toBeUndefined();

    const renamed = await t
      .http()
      .patch(`/api/v1/users/${name}`)
      .set(adminAuth)
      .send({ display_name: 'Al' })
      .expect(200);
    expect(renamed.body).toMatchObject({ display_name: 'Al', metadata: { team: 'b', added: 'x' } });

    const deleted = await t.http().delete(`/api/v1/users/${name}`).set(adminAuth);
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    expectError(await t.http().get(`/api/v1/users/${name}`).set(adminAuth), 404, 'not_found');
    expectError(await t.http().delete(`/api/v1/users/${name}`).set(adminAuth), 404, 'not_found');
    expectError(
      await t.http().patch(`/api/v1/users/${name}`).set(adminAuth).send({ display_name: 'x' }),
      404,
      'not_found',
    );
  });

  it.each([
    ['an empty name', '', 'too_short'],
    ['a 101-character name', 'n'.repeat(101), 'too_long'],
    ['whitespace', 'has space', 'invalid_format'],
    ['a tab', 'has\ttab', 'invalid_format'],
    ['a slash', 'a/b', 'invalid_format'],
    ['a control character', 'bell\u0007', 'invalid_format'],
    ['"me"', 'me', 'reserved'],
    ['"ME"', 'ME', 'reserved'],
  ])('refuses %s', async (_label, name, error) => {
    const res = await t.http().post('/api/v1/users').set(adminAuth).send({ name });
    expect(expectError(res, 400, 'bad_request').invalid_fields).toEqual([
      expect.objectContaining({ name: 'name', error }),
    ]);
  });

  it('accepts 100-character names and 150-character display names, and refuses longer display names', async () => {
    const name = `${uniqueName('x')}${'n'.repeat(90)}`;
    expect(name).toHaveLength(100);
    await t
      .http()
      .post('/api/v1/users')
      .set(adminAuth)
      .send({ name, display_name: 'd'.repeat(150) })
      .expect(201);
    const long = await t
      .http()
      .post('/api/v1/users')
      .set(adminAuth)
      .send({ name: uniqueName(), display_name: 'd'.repeat(151) });
    expect(expectError(long, 400, 'bad_request').invalid_fields?.[0]).toMatchObject({
      name: 'display_name',
      error: 'too_long',
    });
    const empty = await t.http().patch(`/api/v1/users/${name}`).set(adminAuth).send({ display_name: '' });
    expect(expectError(empty, 400, 'bad_request').invalid_fields?.[0]).toMatchObject({
      name: 'display_name',
      error: 'too_short',
    });
  });

  it('treats names as unique without regard to case, and stores them as given', async () => {
    const name = uniqueName('CamelCase');
    await createUser(t, name);
    expectError(
      await t.http().post('/api/v1/users').set(adminAuth).send({ name: name.toLowerCase() }),
      409,
      'conflict',
    );
    const got = await t.http().get(`/api/v1/users/${name.toLowerCase()}`).set(adminAuth).expect(200);
    expect(got.body.name).toBe(name);
  });

  it('validates metadata', async () => {
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v']));
    const cases: [unknown, string][] = [
      [many, 'too_many'],
      [{ ['k'.repeat(41)]: 'v' }, 'invalid_value'],
      [{ k: 'v'.repeat(501) }, 'invalid_value'],
      [{ k: 5 }, 'invalid_value'],
      [{ k: null }, 'invalid_value'],
      [{ nested: { a: 'b' } }, 'invalid_value'],
      ['text', 'invalid_type'],
      [['a'], 'invalid_type'],
    ];
    for (const [metadata, error] of cases) {
      const res = await t.http().post('/api/v1/users').set(adminAuth).send({ name: uniqueName(), metadata });
      expect(expectError(res, 400, 'bad_request').invalid_fields).toEqual([
        expect.objectContaining({ name: 'metadata', error }),
      ]);
    }
    const fifty = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v'.repeat(500)]));
    const name = uniqueName();
    await t.http().post('/api/v1/users').set(adminAuth).send({ name, metadata: fifty }).expect(201);
    const over = await t
      .http()
      .patch(`/api/v1/users/${name}`)
      .set(adminAuth)
      .send({ metadata: { another: 'v' } });
    expect(expectError(over, 400, 'bad_request').invalid_fields?.[0]).toMatchObject({
      name: 'metadata',
      error: 'too_many',
    });
    const swap = await t
      .http()
      .patch(`/api/v1/users/${name}`)
      .set(adminAuth)
      .send({ metadata: { k0: null, another: 'v' } });
    expect(swap.status).toBe(200);
    expect(Object.keys(swap.body.metadata)).toHaveLength(50);
  });

  it('keeps metadata keys that look like object methods, and refuses prototype-pollution keys', async () => {
    const name = uniqueName();
    const created = await t
      .http()
      .post('/api/v1/users')
      .set(adminAuth)
      .send({ name, metadata: { toString: 't', hasOwnProperty: 'h', valueOf: 'v' } })
      .expect(201);
    expect(created.body.metadata).toEqual({ toString: 't', hasOwnProperty: 'h', valueOf: 'v' });
    const patched = await t
      .http()
      .patch(`/api/v1/users/${name}`)
      .set(adminAuth)
      .send({ metadata: { toString: null } });
    expect(patched.body.metadata).toEqual({ hasOwnProperty: 'h', valueOf: 'v' });
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      const res = await t
        .http()
        .post('/api/v1/users')
        .set(adminAuth)
        .set('Content-Type', 'application/json')
        .send(`{"name": "${uniqueName()}", "metadata": {"${key}": "x"}}`);
      expectError(res, 400, 'bad_request');
    }
  });

  it('gives twenty concurrent creates of one name exactly one 201', async () => {
    const name = uniqueName('race');
    const variants = Array.from({ length: 20 }, (_, i) => (i % 2 ? name.toUpperCase() : name));
    const results = await Promise.all(
      variants.map((n) => t.http().post('/api/v1/users').set(adminAuth).send({ name: n })),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(19);
    results.filter((r) => r.status === 409).forEach((r) => expectError(r, 409, 'conflict'));
  });

  it('serves /users/me to the signed-in user, with last_seen_at', async () => {
    const me = await signedInUser(t);
    const before = Date.now();
    const res = await t.http().get('/api/v1/users/me').set('Cookie', me.cookie).expect(200);
    expect(res.body.name).toBe(me.name);
    expect(Date.parse(res.body.last_seen_at)).toBeGreaterThanOrEqual(before - 1000);
    const viaAdmin = await t.http().get(`/api/v1/users/${me.name}`).set(adminAuth).expect(200);
    expect(Date.parse(viaAdmin.body.last_seen_at)).toBeGreaterThanOrEqual(Date.parse(res.body.last_seen_at));
  });

  it('deletes a user with profile, settings, sessions and memberships', async () => {
    const me = await signedInUser(t);
    const group = await createGroup(t);
    await t
      .http()
      .patch(`/api/v1/users/${me.name}/profile`)
      .set(adminAuth)
      .send({ full_name: 'Gone Soon' })
      .expect(200);
    await t.http().patch('/api/v1/users/me/settings').set('Cookie', me.cookie).send({ theme: 'dark' }).expect(200);
    await t
      .http()
      .put(`/api/v1/users/${me.name}/groups`)
      .set(adminAuth)
      .send({ add_to_groups: [group.name] })
      .expect(200);

    await t.http().delete(`/api/v1/users/${me.name}`).set(adminAuth).expect(204);
    expectError(await t.http().get('/api/v1/users/me').set('Cookie', me.cookie), 401, 'unauthorised');
    const afterGroup = await t.http().get(`/api/v1/groups/${group.name}`).set(adminAuth).expect(200);
    expect(afterGroup.body.user_count).toBe(0);

    // The same name starts from nothing.
    const again = await signedInUser(t, me.name);
    const fresh = await t.http().get('/api/v1/users/me').set('Cookie', again.cookie).expect(200);
    expect(fresh.body).toMatchObject({ groups: [], profile: { full_name: null, email_address: null } });
    const settings = await t.http().get('/api/v1/users/me/settings').set('Cookie', again.cookie).expect(200);
    expect(settings.body.theme).toBe('system');
  });

  it('forbids the users API to a user without a policy', async () => {
    const me = await signedInUser(t);
    const other = await createUser(t);
    expectError(
      await t.http().post('/api/v1/users').set('Cookie', me.cookie).send({ name: uniqueName() }),
      403,
      'forbidden',
    );
    expectError(await t.http().delete(`/api/v1/users/${other.name}`).set('Cookie', me.cookie), 403, 'forbidden');
    expectError(
      await t.http().patch(`/api/v1/users/${other.name}`).set('Cookie', me.cookie).send({}),
      403,
      'forbidden',
    );
    const list = await t.http().get('/api/v1/users').set('Cookie', me.cookie).expect(200);
    expect(list.body.items).toEqual([]);
  });
});
