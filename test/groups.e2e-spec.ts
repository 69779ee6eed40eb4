import pg from 'pg';
import type { Response } from 'supertest';
import { createTestApp, TEST_DATABASES, type TestApp } from './utils/create-app.js';
import {
  adminAuth,
  createGroup,
  createServiceAccount,
  createUser,
  expectError,
  signedInUser,
  uniqueName,
} from './utils/fixtures.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface CompactGroup {
  name: string;
  display_name: string;
  lrn: string;
  id: string;
  created_at: string;
  description: string;
}

/** Asserts the CompactGroup shape of the spec (extra fields are allowed) and returns it. */
function expectCompactGroup(value: unknown, name: string): CompactGroup {
  const group = value as CompactGroup;
  expect(group).toMatchObject({
    name,
    display_name: expect.any(String),
    lrn: `iam:group:${name}`,
    id: expect.stringMatching(UUID),
    created_at: expect.any(String),
    description: expect.any(String),
  });
  expect(new Date(group.created_at).toISOString()).toBe(group.created_at);
  return group;
}

const groupNamesOf = (body: { groups: { name: string }[] }) => body.groups.map((g) => g.name).sort();

describe.each(TEST_DATABASES)('groups and user memberships (%s)', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(kind);
  });
  afterAll(() => t.close());

  const postGroup = (body: object) => t.http().post('/api/v1/groups').set(adminAuth).send(body);
  const putGroups = (user: string, body: object) =>
    t
      .http()
      .put(`/api/v1/users/${encodeURIComponent(user)}/groups`)
      .set(adminAuth)
      .send(body);
  const userGroups = async (user: string) => {
    const res = await t
      .http()
      .get(`/api/v1/users/${encodeURIComponent(user)}`)
      .set(adminAuth)
      .expect(200);
    return groupNamesOf(res.body);
  };
  const groupsOfNames = async (count: number) => Promise.all(Array.from({ length: count }, () => createGroup(t)));

  describe('POST /groups', () => {
    it('creates a group and answers 201 with a CompactGroup, display_name defaulting to name', async () => {
      const name = uniqueName('g');
      const res = await postGroup({ name });
      expect(res.status).toBe(201);
      const group = expectCompactGroup(res.body, name);
      expect(group.display_name).toBe(name);
    });

    it('stores the given display_name and description', async () => {
      const name = uniqueName('g');
      const res = await postGroup({ name, display_name: 'Platform admins', description: 'People who run it' });
      expect(res.status).toBe(201);
      expect(expectCompactGroup(res.body, name)).toMatchObject({
        display_name: 'Platform admins',
        description: 'People who run it',
      });
    });

    const hex8 = () => uniqueName('x').slice(2);
    it.each([
      // The app has a fresh database, and no other test here uses a one-character name.
      ['one character', () => 'z'],
      ['digits only', () => String(100_000_000 + Math.floor(Math.random() * 899_999_999))],
      ['inner hyphens', () => `a-b--${hex8()}`],
      ['63 characters', () => 'g'.repeat(55) + hex8()],
    ])('accepts a name with %s', async (_label, makeName) => {
      const name = makeName();
      const res = await postGroup({ name });
      expect(res.status).toBe(201);
      expectCompactGroup(res.body, name);
    });

    it.each([
      ['upper-case letters', 'Ops'],
      ['a leading hyphen', '-ops'],
      ['a trailing hyphen', 'ops-'],
      ['a lone hyphen', '-'],
      ['an underscore', 'ops_team'],
      ['a space', 'ops team'],
      ['a dot', 'ops.team'],
      ['a slash', 'ops/team'],
      ['a non-ASCII letter', 'opé'],
      ['64 characters', 'g'.repeat(64)],
      ['no characters', ''],
    ])('refuses a name with %s (400 naming name)', async (_label, name) => {
      const res = await postGroup({ name });
      const body = expectError(res, 400, 'bad_request');
      expect(body.invalid_fields?.map((f) => f.name)).toEqual(['name']);
    });

    it('refuses a missing name or a name of the wrong type', async () => {
      for (const body of [{}, { name: 5 }, { name: null }, { name: ['ops'] }]) {
        const res = await postGroup(body);
        expect(expectError(res, 400, 'bad_request').invalid_fields?.map((f) => f.name)).toEqual(['name']);
      }
    });

    it('enforces display_name 1–150 and description ≤250', async () => {
      const ok = await postGroup({
        name: uniqueName('g'),
        display_name: 'x'.repeat(150),
        description: 'd'.repeat(250),
      });
      expect(ok.status).toBe(201);
      expect(ok.body.display_name).toHaveLength(150);
      expect(ok.body.description).toHaveLength(250);

      const tooLong = await postGroup({
        name: uniqueName('g'),
        display_name: 'x'.repeat(151),
        description: 'd'.repeat(251),
      });
      const fields = Object.fromEntries(
        expectError(tooLong, 400, 'bad_request').invalid_fields!.map((f) => [f.name, f.error]),
      );
      expect(fields).toEqual({ display_name: 'too_long', description: 'too_long' });

      const empty = await postGroup({ name: uniqueName('g'), display_name: '' });
      expect(expectError(empty, 400, 'bad_request').invalid_fields).toEqual([
        expect.objectContaining({ name: 'display_name', error: 'too_short' }),
      ]);

      const wrongType = await postGroup({ name: uniqueName('g'), display_name: 7, description: false });
      expect(
        expectError(wrongType, 400, 'bad_request')
          .invalid_fields!.map((f) => f.name)
          .sort(),
      ).toEqual(['description', 'display_name']);
    });

    it('creates nothing when the body is invalid', async () => {
      const name = uniqueName('g');
      expectError(await postGroup({ name, display_name: 'x'.repeat(151) }), 400, 'bad_request');
      expectError(await t.http().get(`/api/v1/groups/${name}`).set(adminAuth), 404, 'not_found');
    });

    it('rejects unknown body fields', async () => {
      const res = await postGroup({ name: uniqueName('g'), descripton: 'typo' });
      expect(expectError(res, 400, 'bad_request').invalid_fields).toEqual([
        expect.objectContaining({ name: 'descripton', error: 'unknown_field' }),
      ]);
    });

    it('answers 409 for a duplicate name and keeps the first group', async () => {
      const name = uniqueName('g');
      const first = await postGroup({ name, display_name: 'First' }).expect(201);
      expectError(await postGroup({ name, display_name: 'Second' }), 409, 'conflict');
      const got = await t.http().get(`/api/v1/groups/${name}`).set(adminAuth).expect(200);
      expect(got.body).toMatchObject({ id: first.body.id, display_name: 'First' });
    });

    it('gives exactly one 201 and nineteen 409s for twenty concurrent creates of one name', async () => {
      const name = uniqueName('g');
      const results = await Promise.all(Array.from({ length: 20 }, () => postGroup({ name })));
      const statuses = results.map((r) => r.status).sort();
      expect(statuses).toEqual([201, ...Array<number>(19).fill(409)]);
      for (const res of results.filter((r) => r.status === 409)) {
        expectError(res, 409, 'conflict');
      }
      const list = await t.http().get('/api/v1/groups').set(adminAuth).expect(200);
      expect(list.body.items.filter((g: CompactGroup) => g.name === name)).toHaveLength(1);
    });
  });

  describe('GET /groups and GET /groups/{name}', () => {
    it('lists groups as {items} of CompactGroups', async () => {
      const [a, b] = await groupsOfNames(2);
      const res = await t.http().get('/api/v1/groups').set(adminAuth).expect(200);
      expect(Object.keys(res.body)).toEqual(['items']);
      expect(Array.isArray(res.body.items)).toBe(true);
      for (const created of [a, b]) {
        const listed = (res.body.items as CompactGroup[]).find((g) => g.name === created.name);
        expect(listed).toBeDefined();
        expect(expectCompactGroup(listed, created.name).id).toBe(created.id);
      }
    });

    it('reads one group as it was created', async () => {
      const name = uniqueName('g');
      const created = await postGroup({ name, display_name: 'Readers', description: 'They read' }).expect(201);
      const res = await t.http().get(`/api/v1/groups/${name}`).set(adminAuth).expect(200);
      expectCompactGroup(res.body, name);
      expect(res.body).toMatchObject({
        id: created.body.id,
        created_at: created.body.created_at,
        display_name: 'Readers',
        description: 'They read',
      });
    });

    it('answers 404 for an unknown group', async () => {
      expectError(
        await t
          .http()
          .get(`/api/v1/groups/${uniqueName('nope')}`)
          .set(adminAuth),
        404,
        'not_found',
      );
    });
  });

  describe('DELETE /groups/{name}', () => {
    it('answers 204 with no body and the group is gone', async () => {
      const group = await createGroup(t);
      const res = await t.http().delete(`/api/v1/groups/${group.name}`).set(adminAuth);
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      expectError(await t.http().get(`/api/v1/groups/${group.name}`).set(adminAuth), 404, 'not_found');
      const list = await t.http().get('/api/v1/groups').set(adminAuth).expect(200);
      expect(list.body.items.map((g: CompactGroup) => g.name)).not.toContain(group.name);
    });

    it('answers 404 for an unknown group', async () => {
      expectError(
        await t
          .http()
          .delete(`/api/v1/groups/${uniqueName('nope')}`)
          .set(adminAuth),
        404,
        'not_found',
      );
    });

    it('takes the memberships with it, and a new group of the same name starts empty', async () => {
      const [alice, bob] = [await createUser(t), await createUser(t)];
      const [doomed, kept] = await groupsOfNames(2);
      await putGroups(alice.name, { add_to_groups: [doomed.name, kept.name] }).expect(200);
      await putGroups(bob.name, { add_to_groups: [doomed.name] }).expect(200);

      await t.http().delete(`/api/v1/groups/${doomed.name}`).set(adminAuth).expect(204);
      expect(await userGroups(alice.name)).toEqual([kept.name]);
      expect(await userGroups(bob.name)).toEqual([]);

      const reborn = await createGroup(t, doomed.name);
      expect(reborn.id).not.toBe(doomed.id);
      expect(await userGroups(alice.name)).toEqual([kept.name]);
      expect(await userGroups(bob.name)).toEqual([]);
    });
  });

  describe('PUT /users/{name}/groups', () => {
    it('adds groups and answers the User with its groups as CompactGroups', async () => {
      const user = await createUser(t);
      const [a, b] = await groupsOfNames(2);
      const res = await putGroups(user.name, { add_to_groups: [a.name, b.name] });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ name: user.name, id: user.id, lrn: `iam:user:${user.name}` });
      expect(groupNamesOf(res.body)).toEqual([a.name, b.name].sort());
      for (const created of [a, b]) {
        const g = (res.body.groups as CompactGroup[]).find((x) => x.name === created.name);
        expect(expectCompactGroup(g, created.name).id).toBe(created.id);
      }
      expect(await userGroups(user.name)).toEqual([a.name, b.name].sort());
    });

    it('always includes groups, empty for a user in none', async () => {
      const user = await createUser(t);
      const got = await t.http().get(`/api/v1/users/${user.name}`).set(adminAuth).expect(200);
      expect(got.body.groups).toEqual([]);
      const res = await putGroups(user.name, { add_to_groups: [] }).expect(200);
      expect(res.body.groups).toEqual([]);
    });

    it('treats adding an existing membership (also twice in one request) as harmless', async () => {
      const user = await createUser(t);
      const [a] = await groupsOfNames(1);
      await putGroups(user.name, { add_to_groups: [a.name] }).expect(200);
      const again = await putGroups(user.name, { add_to_groups: [a.name, a.name] });
      expect(again.status).toBe(200);
      expect(groupNamesOf(again.body)).toEqual([a.name]);
      expect(await userGroups(user.name)).toEqual([a.name]);
    });

    it('removes groups, and removing a group the user is not in is harmless', async () => {
      const user = await createUser(t);
      const [a, b, c] = await groupsOfNames(3);
      await putGroups(user.name, { add_to_groups: [a.name, b.name] }).expect(200);
      const res = await putGroups(user.name, { remove_from_groups: [a.name, c.name] });
      expect(res.status).toBe(200);
      expect(groupNamesOf(res.body)).toEqual([b.name]);
      expect(await userGroups(user.name)).toEqual([b.name]);
    });

    it('removes a group named in both add_to_groups and remove_from_groups (removal wins)', async () => {
      const user = await createUser(t);
      const [member, outsider, plain] = await groupsOfNames(3);
      await putGroups(user.name, { add_to_groups: [member.name] }).expect(200);
      const res = await putGroups(user.name, {
        add_to_groups: [member.name, outsider.name, plain.name],
        remove_from_groups: [member.name, outsider.name],
      });
      expect(res.status).toBe(200);
      expect(groupNamesOf(res.body)).toEqual([plain.name]);
      expect(await userGroups(user.name)).toEqual([plain.name]);
    });

    it('makes the membership exactly the set_groups list', async () => {
      const user = await createUser(t);
      const [a, b, c] = await groupsOfNames(3);
      await putGroups(user.name, { add_to_groups: [a.name, b.name] }).expect(200);
      const set = await putGroups(user.name, { set_groups: [b.name, c.name] });
      expect(set.status).toBe(200);
      expect(groupNamesOf(set.body)).toEqual([b.name, c.name].sort());
      expect(await userGroups(user.name)).toEqual([b.name, c.name].sort());
      const cleared = await putGroups(user.name, { set_groups: [] });
      expect(cleared.status).toBe(200);
      expect(cleared.body.groups).toEqual([]);
      expect(await userGroups(user.name)).toEqual([]);
    });

    it.each([
      ['add_to_groups', (g: string) => ({ add_to_groups: [g] })],
      ['remove_from_groups', (g: string) => ({ remove_from_groups: [g] })],
      ['both', (g: string) => ({ add_to_groups: [g], remove_from_groups: [g] })],
      ['an empty add_to_groups', () => ({ add_to_groups: [] })],
    ])('answers 400 to set_groups combined with %s, changing nothing', async (_label, extra) => {
      const user = await createUser(t);
      const [a, b] = await groupsOfNames(2);
      await putGroups(user.name, { add_to_groups: [a.name] }).expect(200);
      const res = await putGroups(user.name, { set_groups: [b.name], ...extra(b.name) });
      const error = expectError(res, 400, 'bad_request');
      expect(error.invalid_fields?.length).toBeGreaterThan(0);
      expect(await userGroups(user.name)).toEqual([a.name]);
    });

    it('answers 404 naming every missing group, and changes nothing (add/remove)', async () => {
      const user = await createUser(t);
      const [a, b] = await groupsOfNames(2);
      await putGroups(user.name, { add_to_groups: [a.name] }).expect(200);
      const missing = [uniqueName('nope'), uniqueName('nope')];
      const res = await putGroups(user.name, { add_to_groups: [b.name, ...missing], remove_from_groups: [a.name] });
      const error = expectError(res, 404, 'not_found');
      expect(error.invalid_fields).toEqual([expect.objectContaining({ name: 'add_to_groups', error: 'not_found' })]);
      const text = JSON.stringify(res.body);
      for (const name of missing) {
        expect(text).toContain(name);
      }
      expect(text).not.toContain(b.name);
      expect(await userGroups(user.name)).toEqual([a.name]);
    });

    it('answers 404 naming a missing group in remove_from_groups, and changes nothing', async () => {
      const user = await createUser(t);
      const [a, b] = await groupsOfNames(2);
      await putGroups(user.name, { add_to_groups: [a.name] }).expect(200);
      const missing = uniqueName('nope');
      const res = await putGroups(user.name, { add_to_groups: [b.name], remove_from_groups: [a.name, missing] });
      const error = expectError(res, 404, 'not_found');
      expect(error.invalid_fields).toEqual([
        expect.objectContaining({ name: 'remove_from_groups', error: 'not_found' }),
      ]);
      expect(JSON.stringify(res.body)).toContain(missing);
      expect(await userGroups(user.name)).toEqual([a.name]);
    });

    it('names the missing groups of both add_to_groups and remove_from_groups in one 404', async () => {
      const user = await createUser(t);
      const [a] = await groupsOfNames(1);
      await putGroups(user.name, { add_to_groups: [a.name] }).expect(200);
      const [missingAdd, missingRemove] = [uniqueName('nope'), uniqueName('nope')];
      const res = await putGroups(user.name, {
        add_to_groups: [missingAdd],
        remove_from_groups: [a.name, missingRemove],
      });
      const error = expectError(res, 404, 'not_found');
      expect(error.invalid_fields?.every((f) => f.error === 'not_found')).toBe(true);
      const text = JSON.stringify(res.body);
      expect(text).toContain(missingAdd);
      expect(text).toContain(missingRemove);
      expect(await userGroups(user.name)).toEqual([a.name]);
    });

    it('answers 404 naming a missing group in set_groups, and changes nothing', async () => {
      const user = await createUser(t);
      const [a, b] = await groupsOfNames(2);
      await putGroups(user.name, { add_to_groups: [a.name] }).expect(200);
      const missing = uniqueName('nope');
      const res = await putGroups(user.name, { set_groups: [b.name, missing] });
      const error = expectError(res, 404, 'not_found');
      expect(error.invalid_fields).toEqual([expect.objectContaining({ name: 'set_groups', error: 'not_found' })]);
      expect(JSON.stringify(res.body)).toContain(missing);
      expect(await userGroups(user.name)).toEqual([a.name]);
    });

    it('answers 404 for an unknown user', async () => {
      const [a] = await groupsOfNames(1);
      for (const body of [{ add_to_groups: [a.name] }, { set_groups: [] }, {}]) {
        expectError(await putGroups(uniqueName('ghost'), body), 404, 'not_found');
      }
    });

    it('finds the user without regard to case', async () => {
      const user = await createUser(t, uniqueName('Mixed'));
      const [a] = await groupsOfNames(1);
      const res = await putGroups(user.name.toUpperCase(), { add_to_groups: [a.name] });
      expect(res.status).toBe(200);
      expect(res.body.name).toBe(user.name);
      expect(await userGroups(user.name)).toEqual([a.name]);
    });

    it.each([
      ['a string for add_to_groups', { add_to_groups: 'x' }, 'add_to_groups'],
      ['a number inside add_to_groups', { add_to_groups: [5] }, 'add_to_groups'],
      ['an object for remove_from_groups', { remove_from_groups: { a: 1 } }, 'remove_from_groups'],
      ['null inside remove_from_groups', { remove_from_groups: [null] }, 'remove_from_groups'],
      ['null for set_groups', { set_groups: null }, 'set_groups'],
      ['a nested array in set_groups', { set_groups: [['x']] }, 'set_groups'],
      ['a boolean for set_groups', { set_groups: true }, 'set_groups'],
      ['an unknown field', { groups: ['x'] }, 'groups'],
    ])('answers 400 to %s, naming the field and changing nothing', async (_label, body, field) => {
      const user = await createUser(t);
      const [a] = await groupsOfNames(1);
      await putGroups(user.name, { add_to_groups: [a.name] }).expect(200);
      const res = await putGroups(user.name, body);
      const error = expectError(res, 400, 'bad_request');
      expect(error.invalid_fields?.map((f) => f.name)).toContain(field);
      expect(await userGroups(user.name)).toEqual([a.name]);
    });

    it('keeps every one of twenty concurrent additions of different groups', async () => {
      const user = await createUser(t);
      const groups = await groupsOfNames(20);
      const results = await Promise.all(groups.map((g) => putGroups(user.name, { add_to_groups: [g.name] })));
      expect(results.map((r) => r.status)).toEqual(Array<number>(20).fill(200));
      expect(await userGroups(user.name)).toEqual(groups.map((g) => g.name).sort());
    });

    it('never answers 500 to concurrent set_groups, and ends with one of the requested sets', async () => {
      const user = await createUser(t);
      const groups = await groupsOfNames(6);
      const sets = Array.from({ length: 12 }, (_, i) =>
        [groups[i % 6].name, groups[(i + 1) % 6].name, groups[(i + 3) % 6].name].sort(),
      );
      const results = await Promise.all(sets.map((set) => putGroups(user.name, { set_groups: set })));
      expect(results.map((r) => r.status)).toEqual(Array<number>(sets.length).fill(200));
      expect(sets).toContainEqual(await userGroups(user.name));
    });

    it('never answers 500 when memberships change while a named group is deleted', async () => {
      const users = await Promise.all(Array.from({ length: 4 }, () => createUser(t)));
      const unexpected: string[] = [];
      for (let round = 0; round < 5; round++) {
        const group = await createGroup(t);
        const results: Response[] = await Promise.all([
          ...users.map((u) => putGroups(u.name, { add_to_groups: [group.name] })),
          t.http().delete(`/api/v1/groups/${group.name}`).set(adminAuth),
          ...users.map((u) => putGroups(u.name, { set_groups: [group.name] })),
        ]);
        for (const res of results) {
          if (![200, 204, 404].includes(res.status)) {
            unexpected.push(`${res.status} ${JSON.stringify(res.body)}`);
          }
        }
        for (const u of users) {
          expect(await userGroups(u.name)).not.toContain(group.name);
        }
      }
      expect(unexpected).toEqual([]);
    });
  });

  describe('memberships changed from the principal side and the group side at once', () => {
    const patchGroup = (group: string, body: object) =>
      t.http().patch(`/api/v1/groups/${group}`).set(adminAuth).send(body);
    const putAccountGroups = (account: string, body: object) =>
      t.http().put(`/api/v1/service-accounts/${account}/groups`).set(adminAuth).send(body);

    interface GroupWithMembers {
      user_count: number;
      sa_count: number;
      users: { name: string }[];
      service_accounts: { name: string }[];
    }

    /** Returns once a statement like `query` waits for a lock in the test database (5 s at most). */
    async function untilWaitingForLock(client: pg.Client, query: string): Promise<void> {
      for (const started = Date.now(); Date.now() - started < 5000;) {
        await client.query('SELECT pg_stat_clear_snapshot()'); // else it is read once per transaction
        const { rows } = await client.query<{ waiting: boolean }>(
          `SELECT count(*) > 0 AS waiting FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE $1`,
          [query],
        );
        if (rows[0].waiting) {
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error(`no statement like ${query} waited for a lock`);
    }

    /** What disagrees between the group's view (GET /groups/{name}) and the members' views of it. */
    async function disagreements(user: string, account: string, groups: string[]): Promise<string[]> {
      const problems: string[] = [];
      const fromUser = (await t.http().get(`/api/v1/users/${user}`).set(adminAuth).expect(200)).body as {
        groups: { name: string; user_count: number; sa_count: number }[];
      };
      const fromAccount = (await t.http().get(`/api/v1/service-accounts/${account}`).set(adminAuth).expect(200))
        .body as { groups: { name: string; user_count: number; sa_count: number }[] };
      for (const name of groups) {
        const res = await t.http().get(`/api/v1/groups/${name}`).set(adminAuth);
        const userSide = fromUser.groups.find((g) => g.name === name);
        const accountSide = fromAccount.groups.find((g) => g.name === name);
        if (res.status === 404) {
          if (userSide || accountSide) {
            problems.push(`${name}: deleted, but still listed by a member`);
          }
          continue;
        }
        const group = res.body as GroupWithMembers;
        if (group.user_count !== group.users.length || group.sa_count !== group.service_accounts.length) {
          problems.push(`${name}: counts ${group.user_count}/${group.sa_count} but members ${JSON.stringify(group)}`);
        }
        if (group.users.some((u) => u.name === user) !== !!userSide) {
          problems.push(`${name}: the group and the user disagree on the membership`);
        }
        if (group.service_accounts.some((a) => a.name === account) !== !!accountSide) {
          problems.push(`${name}: the group and the service account disagree on the membership`);
        }
        for (const side of [userSide, accountSide]) {
          if (side && (side.user_count !== group.user_count || side.sa_count !== group.sa_count)) {
            problems.push(`${name}: counts differ between the group and a member's view`);
          }
        }
      }
      return problems;
    }

    it('never answers 500 (no deadlock), and the group and its members agree afterwards', async () => {
      const user = await createUser(t);
      const account = await createServiceAccount(t);
      const problems: string[] = [];
      for (let round = 0; round < 30; round++) {
        const groups = (await groupsOfNames(3)).map((g) => g.name);
        const [a, b, c] = groups;
        const results: Response[] = await Promise.all([
          putGroups(user.name, { set_groups: [a, b, c] }),
          patchGroup(a, { add_members: [user.name, account.name] }),
          putAccountGroups(account.name, { add_to_groups: [c, b, a] }),
          patchGroup(b, { remove_members: [user.name] }),
          putGroups(user.name, { add_to_groups: [c, a], remove_from_groups: [b] }),
          t
            .http()
            .delete(`/api/v1/groups/${groups[round % 3]}`)
            .set(adminAuth),
          patchGroup(c, { set_members: [account.name] }),
          putAccountGroups(account.name, { set_groups: [b] }),
          patchGroup(b, { add_members: [account.name, user.name] }),
        ]);
        for (const res of results) {
          if (![200, 204, 404].includes(res.status)) {
            problems.push(`round ${round}: ${res.status} ${JSON.stringify(res.body)}`);
          }
        }
        problems.push(...(await disagreements(user.name, account.name, groups)));
      }
      expect(problems).toEqual([]);
    }, 60_000);

    // PostgreSQL only (defined for it alone): SQLite serialises transactions, so there is no deadlock to take part in.
    if (kind === 'postgres') {
      it('runs a unit of work again when it was a deadlock victim', async () => {
        const user = await createUser(t);
        const group = await createGroup(t);
        const other = new pg.Client({ connectionString: t.database.url });
        await other.connect();
        try {
          // Another transaction holds the user, and will want the group that the request share-locks first.
          await other.query("SET deadlock_timeout = '30s'"); // the request notices the deadlock first: its victim
          await other.query('BEGIN');
          await other.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [user.id]);
          const pending = putGroups(user.name, { add_to_groups: [group.name] }).then((res) => res);
          await untilWaitingForLock(other, '%FROM "users"%FOR UPDATE');
          await other.query('SELECT 1 FROM groups WHERE id = $1 FOR UPDATE', [group.id]);
          await other.query('COMMIT');
          const res = await pending;
          expect(res.status).toBe(200);
          expect(groupNamesOf(res.body)).toEqual([group.name]);
        } finally {
          await other.end();
        }
      }, 15_000);
    }

    it('never answers 500 when the roles of a group are replaced while one of them is deleted', async () => {
      const problems: string[] = [];
      for (let round = 0; round < 15; round++) {
        const role = uniqueName('r');
        await t.http().post('/api/v1/roles').set(adminAuth).send({ name: role, policy: [] }).expect(201);
        const group = (await createGroup(t, uniqueName('g'), { roles: [role] })).name;
        const results: Response[] = await Promise.all([
          patchGroup(group, { roles: [role] }),
          t.http().delete(`/api/v1/roles/${role}`).set(adminAuth),
          patchGroup(group, { roles: [role] }),
        ]);
        for (const res of results) {
          if (![200, 204, 404].includes(res.status)) {
            problems.push(`round ${round}: ${res.status} ${JSON.stringify(res.body)}`);
          }
        }
        const after = (await t.http().get(`/api/v1/groups/${group}`).set(adminAuth).expect(200)).body as {
          roles: { name: string }[];
          role_count: number;
        };
        const left = results[1].status === 204 ? [] : [role];
        if (
          JSON.stringify(after.roles.map((r) => r.name)) !== JSON.stringify(left) ||
          after.role_count !== left.length
        ) {
          problems.push(`round ${round}: roles ${JSON.stringify(after)} after ${results[1].status} to the delete`);
        }
      }
      expect(problems).toEqual([]);
    }, 30_000);
  });

  describe('non-administrators', () => {
    it('get 403 on POST /groups, and nothing is created', async () => {
      const { cookie } = await signedInUser(t);
      const name = uniqueName('g');
      const res = await t.http().post('/api/v1/groups').set('Cookie', cookie).send({ name });
      expectError(res, 403, 'forbidden');
      expectError(await t.http().get(`/api/v1/groups/${name}`).set(adminAuth), 404, 'not_found');
    });

    it('get 403 on PUT /users/{their own name}/groups, and nothing changes', async () => {
      const { name, cookie } = await signedInUser(t);
      const [a] = await groupsOfNames(1);
      for (const body of [{ add_to_groups: [a.name] }, { set_groups: [a.name] }]) {
        const res = await t
          .http()
          .put(`/api/v1/users/${encodeURIComponent(name)}/groups`)
          .set('Cookie', cookie)
          .send(body);
        expectError(res, 403, 'forbidden');
      }
      expect(await userGroups(name)).toEqual([]);
    });
  });
});
