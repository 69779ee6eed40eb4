import { createTestApp, TEST_DATABASES, type TestApp } from './utils/create-app.js';
import { adminAuth, createGroup, createUser, expectError, uniqueName } from './utils/fixtures.js';

const groupNames = (body: { groups: { name: string }[] }) => body.groups.map((g) => g.name).sort();

describe.each(TEST_DATABASES)('groups API and user memberships (%s)', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(kind);
  });
  afterAll(() => t.close());

  const put = (user: string, body: object) => t.http().put(`/api/v1/users/${user}/groups`).set(adminAuth).send(body);

  it('creates, reads, lists and deletes groups', async () => {
    const name = uniqueName('g');
    const created = await t.http().post('/api/v1/groups').set(adminAuth).send({ name, description: 'ops people' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name,
      display_name: name,
      lrn: `iam:group:${name}`,
      id: expect.any(String),
      created_at: expect.any(String),
      description: 'ops people',
    });
    expect((await t.http().get(`/api/v1/groups/${name}`).set(adminAuth).expect(200)).body.name).toBe(name);
    const list = await t.http().get('/api/v1/groups').set(adminAuth).expect(200);
    expect(list.body.items.map((g: { name: string }) => g.name)).toContain(name);
    expectError(await t.http().post('/api/v1/groups').set(adminAuth).send({ name }), 409, 'conflict');
    await t.http().delete(`/api/v1/groups/${name}`).set(adminAuth).expect(204);
    expectError(await t.http().get(`/api/v1/groups/${name}`).set(adminAuth), 404, 'not_found');
    expectError(await t.http().delete(`/api/v1/groups/${name}`).set(adminAuth), 404, 'not_found');
  });

  it.each([
    ['upper case', 'Ops'],
    ['a leading hyphen', '-ops'],
    ['a trailing hyphen', 'ops-'],
    ['an underscore', 'ops_team'],
    ['64 characters', 'g'.repeat(64)],
    ['nothing', ''],
  ])('refuses a group name with %s', async (_label, name) => {
    const res = await t.http().post('/api/v1/groups').set(adminAuth).send({ name });
    expect(expectError(res, 400, 'bad_request').invalid_fields?.[0].name).toBe('name');
  });

  it('refuses an over-long description or display name', async () => {
    const res = await t
      .http()
      .post('/api/v1/groups')
      .set(adminAuth)
      .send({ name: uniqueName('g'), description: 'd'.repeat(251), display_name: 'x'.repeat(151) });
    const fields = expectError(res, 400, 'bad_request').invalid_fields?.map((f) => [f.name, f.error]);
    expect(fields).toEqual(
      expect.arrayContaining([
        ['description', 'too_long'],
        ['display_name', 'too_long'],
      ]),
    );
  });

  it('adds and removes groups; removal wins; adding twice is harmless', async () => {
    const user = await createUser(t);
    const [a, b, c] = [await createGroup(t), await createGroup(t), await createGroup(t)];
    const added = await put(user.name, { add_to_groups: [a.name, b.name] }).expect(200);
    expect(groupNames(added.body)).toEqual([a.name, b.name].sort());
    expect(added.body.groups[0]).toMatchObject({ lrn: expect.stringMatching(/^iam:group:/), description: '' });
    const again = await put(user.name, { add_to_groups: [a.name] }).expect(200);
    expect(groupNames(again.body)).toEqual([a.name, b.name].sort());
    const both = await put(user.name, { add_to_groups: [c.name], remove_from_groups: [c.name, a.name] }).expect(200);
    expect(groupNames(both.body)).toEqual([b.name]);
  });

  it('sets groups exactly, and refuses set_groups with add or remove', async () => {
    const user = await createUser(t);
    const [a, b, c] = [await createGroup(t), await createGroup(t), await createGroup(t)];
    await put(user.name, { add_to_groups: [a.name, b.name] }).expect(200);
    const set = await put(user.name, { set_groups: [b.name, c.name] }).expect(200);
    expect(groupNames(set.body)).toEqual([b.name, c.name].sort());
    const cleared = await put(user.name, { set_groups: [] }).expect(200);
    expect(cleared.body.groups).toEqual([]);
    for (const body of [
      { set_groups: [a.name], add_to_groups: [b.name] },
      { set_groups: [a.name], remove_from_groups: [b.name] },
    ]) {
      const res = await put(user.name, body);
      expect(expectError(res, 400, 'bad_request').invalid_fields?.[0]).toMatchObject({
        name: 'set_groups',
        error: 'conflicting',
      });
    }
  });

  it('changes nothing and names the missing groups when some do not exist', async () => {
    const user = await createUser(t);
    const [a, b] = [await createGroup(t), await createGroup(t)];
    await put(user.name, { add_to_groups: [a.name] }).expect(200);
    const missing = [uniqueName('nope'), uniqueName('nope')];
    const res = await put(user.name, { add_to_groups: [b.name, ...missing], remove_from_groups: [a.name] });
    const body = expectError(res, 404, 'not_found');
    expect(body.invalid_fields?.[0]).toMatchObject({ name: 'add_to_groups', error: 'not_found' });
    for (const name of missing) {
      expect(body.title).toContain(name);
    }
    const setMissing = await put(user.name, { set_groups: [b.name, missing[0]] });
    expect(expectError(setMissing, 404, 'not_found').invalid_fields?.[0].name).toBe('set_groups');
    const after = await t.http().get(`/api/v1/users/${user.name}`).set(adminAuth).expect(200);
    expect(groupNames(after.body)).toEqual([a.name]);
  });

  it('answers 404 for an unknown user and 400 for wrong types', async () => {
    expectError(await put(uniqueName('ghost'), { add_to_groups: [] }), 404, 'not_found');
    const user = await createUser(t);
    for (const body of [{ add_to_groups: 'g' }, { remove_from_groups: [5] }, { set_groups: null }, { groups: [] }]) {
      expectError(await put(user.name, body), 400, 'bad_request');
    }
  });

  it('drops memberships with the group', async () => {
    const user = await createUser(t);
    const [a, b] = [await createGroup(t), await createGroup(t)];
    await put(user.name, { add_to_groups: [a.name, b.name] }).expect(200);
    await t.http().delete(`/api/v1/groups/${a.name}`).set(adminAuth).expect(204);
    const after = await t.http().get(`/api/v1/users/${user.name}`).set(adminAuth).expect(200);
    expect(groupNames(after.body)).toEqual([b.name]);
  });

  it('keeps every one of twenty concurrent additions', async () => {
    const user = await createUser(t);
    const groups = await Promise.all(Array.from({ length: 20 }, () => createGroup(t)));
    const results = await Promise.all(groups.map((g) => put(user.name, { add_to_groups: [g.name] })));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    const after = await t.http().get(`/api/v1/users/${user.name}`).set(adminAuth).expect(200);
    expect(groupNames(after.body)).toEqual(groups.map((g) => g.name).sort());
  });

  it('never answers 500 to concurrent set_groups, and ends with one of the requested sets', async () => {
    const user = await createUser(t);
    const groups = await Promise.all(Array.from({ length: 6 }, () => createGroup(t)));
    const sets = Array.from({ length: 10 }, (_, i) => [groups[i % 6].name, groups[(i + 1) % 6].name].sort());
    const results = await Promise.all(sets.map((set) => put(user.name, { set_groups: set })));
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    const after = await t.http().get(`/api/v1/users/${user.name}`).set(adminAuth).expect(200);
    expect(sets).toContainEqual(groupNames(after.body));
  });
});
