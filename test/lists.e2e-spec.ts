import { randomBytes, randomUUID } from 'node:crypto';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource, Logger } from 'typeorm';
import { IAM_DATA_SOURCE } from '../src/database/iam-data-source.js';
import { Group } from '../src/groups/entities/group.entity.js';
import { Role } from '../src/roles/entities/role.entity.js';
import { ServiceAccount } from '../src/service-accounts/entities/service-account.entity.js';
import { User } from '../src/users/entities/user.entity.js';
import { createTestApp, TEST_DATABASES, type TestApp } from './utils/create-app.js';
import { adminAuth, callerWithPolicy, createServiceAccount, createUser, expectError } from './utils/fixtures.js';

interface Named {
  name: string;
}
interface ListBody {
  items: Named[];
  next_page_token?: string;
}

/** A prefix no other test's names start with (lower-case letters, so that names sort the same everywhere). */
const prefix = () =>
  `${randomBytes(4)
    .toString('hex')
    .replace(/[0-9]/g, (digit) => 'ghijklmnop'[Number(digit)])}`;

/**
 * Issue 10, "lists that scale": every list pages (limit, page_token), searches (q), filters by group, and leaves out
 * what the caller may not list in the query itself, in a constant number of statements per page.
 */
describe.each(TEST_DATABASES)('lists: pages, search, policy in the database (%s)', (kind) => {
  let t: TestApp;
  let dataSource: DataSource;
  beforeAll(async () => {
    t = await createTestApp(kind);
    dataSource = t.app.get<DataSource>(getDataSourceToken(IAM_DATA_SOURCE));
  });
  afterAll(() => t.close());

  /** Rows straight into the tables (much faster than the API for hundreds of them). */
  async function seedUsers(names: string[], displayName: (name: string) => string = (name) => name) {
    const rows = names.map((name) => ({
      id: randomUUID(),
      name,
      nameKey: name.toLowerCase(),
      displayName: displayName(name),
      metadata: {},
      passwordHash: null,
      createdAt: new Date(),
      lastSeenAt: null,
    }));
    for (let i = 0; i < rows.length; i += 500) {
      await dataSource.getRepository(User).insert(rows.slice(i, i + 500));
    }
  }

  const get = (path: string, auth: Record<string, string> = adminAuth) => t.http().get(path).set(auth);

  /** Every page of a list, following next_page_token; the pages' sizes too. */
  async function walk(path: string, auth: Record<string, string> = adminAuth, from?: string) {
    const names: string[] = [];
    const sizes: number[] = [];
    let token: string | undefined = from;
    const separator = path.includes('?') ? '&' : '?';
    do {
      const url = token ? `${path}${separator}page_token=${encodeURIComponent(token)}` : path;
      const res = await get(url, auth).expect(200);
      const body = res.body as ListBody;
      names.push(...body.items.map((item) => item.name));
      sizes.push(body.items.length);
      token = body.next_page_token;
      expect(sizes.length).toBeLessThan(1000);
    } while (token);
    return { names, sizes };
  }

  /** Names in the order the lists promise: by name without regard to case. */
  const byKey = (names: string[]) =>
    [...names].sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0));

  /** A service account holding exactly this policy (a role of its own, in a group of its own). */
  const callerWith = async (policy: unknown[]) => (await callerWithPolicy(t, policy)).headers;

  describe('limit', () => {
    it('answers the first 100 by default, with a token, and up to 1,000 with limit', async () => {
      await seedUsers(Array.from({ length: 120 }, (_, i) => `${prefix()}-d${i}`));
      const first = (await get('/api/v1/users').expect(200)).body as ListBody;
      expect(first.items).toHaveLength(100);
      expect(typeof first.next_page_token).toBe('string');
      const all = (await get('/api/v1/users?limit=1000').expect(200)).body as ListBody;
      expect(all.items.length).toBeGreaterThanOrEqual(120);
      expect(all.next_page_token).toBeUndefined();
      expect(all.items.slice(0, 100).map((user) => user.name)).toEqual(first.items.map((user) => user.name));
      const one = (await get('/api/v1/users?limit=1').expect(200)).body as ListBody;
      expect(one.items).toHaveLength(1);
      expect(one.items[0].name).toBe(first.items[0].name);
    });

    it.each(['0', '1001', '1.5', '10abc', '', '-1', '1e2'])(
      'refuses limit=%j with a 400 naming limit',
      async (limit) => {
        const body = expectError(await get(`/api/v1/users?limit=${limit}`), 400, 'bad_request');
        expect(body.invalid_fields?.map((field) => field.name)).toEqual(['limit']);
      },
    );

    it('refuses an unknown query parameter, and limit on every list', async () => {
      const body = expectError(await get('/api/v1/users?colour=red'), 400, 'bad_request');
      expect(body.invalid_fields).toEqual([expect.objectContaining({ name: 'colour', error: 'unknown_field' })]);
      for (const list of ['groups', 'roles', 'service-accounts']) {
        expectError(await get(`/api/v1/${list}?limit=0`), 400, 'bad_request');
        expect((await get(`/api/v1/${list}?limit=1`).expect(200)).body.items.length).toBeLessThanOrEqual(1);
      }
      expectError(await get('/api/v1/groups?group=x'), 400, 'bad_request');
    });
  });

  describe('pages', () => {
    it('walks every item once, in name order without regard to case, in full pages', async () => {
      const p = prefix();
      const names = Array.from({ length: 23 }, (_, i) => {
        const name = `${p}-${String.fromCharCode(97 + (i % 26))}${i}`;
        return i % 3 === 0 ? name.toUpperCase() : name;
      });
      await seedUsers(names);
      const { names: walked, sizes } = await walk(`/api/v1/users?limit=5&q=${p}`);
      expect(walked).toEqual(byKey(names));
      expect(sizes).toEqual([5, 5, 5, 5, 3]);
    });

    it('an item created and one deleted between pages neither duplicate nor skip the others', async () => {
      const p = prefix();
      const names = Array.from({ length: 12 }, (_, i) => `${p}-m${String(i).padStart(2, '0')}`);
      await seedUsers(names);
      const first = (await get(`/api/v1/users?limit=4&q=${p}`).expect(200)).body as ListBody;
      expect(first.items.map((user) => user.name)).toEqual(names.slice(0, 4));
      // Deleted: one of the page just read, and one still to come. Created: one before the cursor, one after.
      await t.http().delete(`/api/v1/users/${names[1]}`).set(adminAuth).expect(204);
      await t.http().delete(`/api/v1/users/${names[6]}`).set(adminAuth).expect(204);
      await createUser(t, `${p}-m00a`);
      await createUser(t, `${p}-m07a`);
      const rest = await walk(`/api/v1/users?limit=4&q=${p}`, adminAuth, first.next_page_token);
      const seen = [...first.items.map((user) => user.name), ...rest.names];
      expect(new Set(seen).size).toBe(seen.length);
      expect(rest.names).toEqual([...names.slice(4, 6), ...names.slice(7, 8), `${p}-m07a`, ...names.slice(8)]);
    });

    it('walks groups, roles and service accounts too', async () => {
      const p = prefix();
      for (let i = 0; i < 5; i++) {
        await t
          .http()
          .post('/api/v1/groups')
          .set(adminAuth)
          .send({ name: `${p}-g${i}` })
          .expect(201);
        await t
          .http()
          .post('/api/v1/roles')
          .set(adminAuth)
          .send({ name: `${p}-r${i}` })
          .expect(201);
        await createServiceAccount(t, `${p}-s${i}`);
      }
      expect((await walk(`/api/v1/groups?limit=2&q=${p}`)).names).toEqual([0, 1, 2, 3, 4].map((i) => `${p}-g${i}`));
      expect((await walk(`/api/v1/roles?limit=2&q=${p}`)).names).toEqual([0, 1, 2, 3, 4].map((i) => `${p}-r${i}`));
      expect((await walk(`/api/v1/service-accounts?limit=2&q=${p}`)).names).toEqual(
        [0, 1, 2, 3, 4].map((i) => `${p}-s${i}`),
      );
    });
  });

  describe('page_token', () => {
    let p: string;
    let token: string;
    beforeAll(async () => {
      p = prefix();
      await seedUsers(Array.from({ length: 6 }, (_, i) => `${p}-t${i}`));
      token = ((await get(`/api/v1/users?limit=2&q=${p}`).expect(200)).body as ListBody).next_page_token!;
    });

    const refused = async (path: string) => {
      const body = expectError(await get(path), 400, 'bad_request');
      expect(body.invalid_fields?.map((field) => field.name)).toEqual(['page_token']);
    };

    it('is accepted as issued', async () => {
      const res = await get(`/api/v1/users?limit=2&q=${p}&page_token=${encodeURIComponent(token)}`).expect(200);
      expect((res.body as ListBody).items.map((user) => user.name)).toEqual([`${p}-t2`, `${p}-t3`]);
    });

    it('refuses a tampered, truncated, malformed, cross-list and cross-filter token with a 400', async () => {
      const [body, signature] = token.split('.');
      const payload = JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>;
      const forged = Buffer.from(JSON.stringify({ ...payload, k: `${p}-t0` })).toString('base64url');
      const flipped = signature.slice(0, -1) + (signature.endsWith('A') ? 'B' : 'A');
      for (const bad of [`${forged}.${signature}`, `${body}.${flipped}`, token.slice(0, -3), body, 'abc', '..', '%']) {
        await refused(`/api/v1/users?limit=2&q=${p}&page_token=${encodeURIComponent(bad)}`);
      }
      await refused(`/api/v1/service-accounts?limit=2&q=${p}&page_token=${encodeURIComponent(token)}`);
      await refused(`/api/v1/groups?limit=2&q=${p}&page_token=${encodeURIComponent(token)}`);
      await refused(`/api/v1/users?limit=2&q=${p}x&page_token=${encodeURIComponent(token)}`);
      await refused(`/api/v1/users?limit=2&page_token=${encodeURIComponent(token)}`);
      await refused(`/api/v1/users?limit=2&q=${p}&group=g&page_token=${encodeURIComponent(token)}`);
    });

    it('is accepted after a restart (the key is in the database, shared by every instance)', async () => {
      await t.close({ keepDatabase: true });
      t = await createTestApp(kind, { database: t.database });
      dataSource = t.app.get<DataSource>(getDataSourceToken(IAM_DATA_SOURCE));
      const res = await get(`/api/v1/users?limit=2&q=${p}&page_token=${encodeURIComponent(token)}`).expect(200);
      expect((res.body as ListBody).items.map((user) => user.name)).toEqual([`${p}-t2`, `${p}-t3`]);
    });
  });

  describe('q', () => {
    let p: string;
    beforeAll(async () => {
      p = prefix();
      await seedUsers(
        [`${p}-plain`, `${p}-Mixed`, `${p}-pct`, `${p}-und`, `${p}-bsl`, `${p}-x`, `${p}-mail`, `${p}-accent`],
        (name) =>
          ({
            [`${p}-pct`]: 'Fifty % off',
            [`${p}-und`]: 'snake_case',
            [`${p}-bsl`]: 'back\\slash',
            [`${p}-x`]: 'Fifty x off snakeXcase backXslash',
            [`${p}-accent`]: 'ÉCOLE Ÿ',
          })[name] ?? 'Someone',
      );
      await t
        .http()
        .patch(`/api/v1/users/${p}-mail/profile`)
        .set(adminAuth)
        .send({ email_address: `Mary.Jane@${p}.Example.COM` })
        .expect(200);
    });

    const search = async (q: string) =>
      ((await get(`/api/v1/users?limit=1000&q=${encodeURIComponent(q)}`).expect(200)).body as ListBody).items.map(
        (user) => user.name,
      );

    it('matches the name, the display name and the e-mail address without regard to case', async () => {
      expect(await search(`${p}-MIXED`)).toEqual([`${p}-Mixed`]);
      expect(await search(`${p.toUpperCase()}-mix`)).toEqual([`${p}-Mixed`]);
      expect((await search('fifty % OFF')).filter((name) => name.startsWith(p))).toEqual([`${p}-pct`]);
      expect(await search(`mary.jane@${p}.example.com`)).toEqual([`${p}-mail`]);
      expect(await search(`JANE@${p.toUpperCase()}`)).toEqual([`${p}-mail`]);
    });

    it('ignores the case of non-ASCII letters too', async () => {
      expect((await search('école ÿ')).filter((name) => name.startsWith(p))).toEqual([`${p}-accent`]);
    });

    it('takes %, _ and \\ literally', async () => {
      const mine = (names: string[]) => names.filter((name) => name.startsWith(p));
      expect(mine(await search('y % o'))).toEqual([`${p}-pct`]);
      expect(mine(await search('e_c'))).toEqual([`${p}-und`]);
      expect(mine(await search('k\\s'))).toEqual([`${p}-bsl`]);
      expect(mine(await search('%'))).toEqual([`${p}-pct`]);
      expect(mine(await search('_'))).toEqual([`${p}-und`]);
    });

    it('searches groups, roles and service accounts by name and display name', async () => {
      const g = prefix();
      await t
        .http()
        .post('/api/v1/groups')
        .set(adminAuth)
        .send({ name: `${g}-a`, display_name: 'Ops % Team' });
      await t
        .http()
        .post('/api/v1/roles')
        .set(adminAuth)
        .send({ name: `${g}-b`, display_name: 'Ops_Role' });
      await createServiceAccount(t, `${g}-c`, { display_name: 'Ops\\Bot' });
      const names = async (list: string, q: string) =>
        ((await get(`/api/v1/${list}?q=${encodeURIComponent(q)}`).expect(200)).body as ListBody).items.map(
          (item) => item.name,
        );
      expect(await names('groups', `${g}-A`)).toEqual([`${g}-a`]);
      expect(await names('groups', 'OPS % TEAM')).toEqual([`${g}-a`]);
      expect(await names('roles', 'ops_role')).toEqual([`${g}-b`]);
      expect(await names('service-accounts', 'OPS\\BOT')).toEqual([`${g}-c`]);
    });

    it('refuses an empty, overlong or unstorable q', async () => {
      for (const q of ['', 'x'.repeat(201), '%00']) {
        const body = expectError(await get(`/api/v1/users?q=${q}`), 400, 'bad_request');
        expect(body.invalid_fields?.map((field) => field.name)).toEqual(['q']);
      }
    });
  });

  describe('?group=', () => {
    it("lists a group's users and service accounts, in pages; an unknown group is an empty list", async () => {
      const p = prefix();
      const members = [`${p}-c`, `${p}-a`, `${p}-b`];
      await seedUsers([...members, `${p}-outsider`]);
      const account = await createServiceAccount(t, `${p}-sa`);
      const group = `${p}-team`;
      await t
        .http()
        .post('/api/v1/groups')
        .set(adminAuth)
        .send({ name: group, members: [...members, account.name] })
        .expect(201);
      expect((await walk(`/api/v1/users?group=${group}&limit=2`)).names).toEqual([`${p}-a`, `${p}-b`, `${p}-c`]);
      expect((await walk(`/api/v1/users?group=${group}&q=${p}-b`)).names).toEqual([`${p}-b`]);
      expect((await walk(`/api/v1/service-accounts?group=${group}`)).names).toEqual([`${p}-sa`]);
      const unknown = (await get(`/api/v1/users?group=${p}-nope`).expect(200)).body as ListBody;
      expect(unknown).toEqual({ items: [] });
    });
  });

  describe('policy, decided in the database', () => {
    it('pages through exactly the team-* users a non-admin may list (one denied), in full pages', async () => {
      const p = prefix();
      const team = Array.from({ length: 11 }, (_, i) => `${p}team-${String(i).padStart(2, '0')}`);
      await seedUsers([...team, `${p}other-1`, `${p}teamx`, `${p}other-2`]);
      const caller = await callerWith([
        { effect: 'allow', action: 'iam:ListUsers', resource: `iam:user:${p}team-*` },
        { effect: 'deny', action: 'iam:*', resource: `iam:user:${p}team-05` },
      ]);
      const { names, sizes } = await walk('/api/v1/users?limit=3', caller);
      expect(names).toEqual(team.filter((name) => name !== `${p}team-05`));
      expect(sizes).toEqual([3, 3, 3, 1]);
      // Names that hold LIKE's own characters are compared literally.
      const literal = await callerWith([
        { effect: 'allow', action: 'iam:ListUsers', resource: `iam:user:${p}team-0_` },
      ]);
      expect((await walk('/api/v1/users', literal)).names).toEqual([]);
    });

    it('does the same for groups, roles and service accounts', async () => {
      const p = prefix();
      for (const i of [1, 2, 3, 4]) {
        await t
          .http()
          .post('/api/v1/groups')
          .set(adminAuth)
          .send({ name: `${p}-ops-g${i}` })
          .expect(201);
        await t
          .http()
          .post('/api/v1/roles')
          .set(adminAuth)
          .send({ name: `${p}-ops-r${i}` })
          .expect(201);
        await createServiceAccount(t, `${p}-ops-s${i}`);
      }
      await t
        .http()
        .post('/api/v1/groups')
        .set(adminAuth)
        .send({ name: `${p}-dev-g1` })
        .expect(201);
      const caller = await callerWith([
        {
          effect: 'allow',
          action: ['iam:ListGroups', 'iam:ListRoles', 'iam:ListServiceAccounts'],
          resource: [`iam:group:${p}-ops-*`, `iam:role:${p}-ops-*`, `iam:service-account:${p}-ops-*`],
        },
        {
          effect: 'deny',
          action: ['iam:ListGroups', 'iam:ListRoles', 'iam:ListServiceAccounts'],
          resource: `iam:*:${p}-ops-*3`,
        },
      ]);
      expect(await walk('/api/v1/groups?limit=2', caller)).toEqual({
        names: [`${p}-ops-g1`, `${p}-ops-g2`, `${p}-ops-g4`],
        sizes: [2, 1],
      });
      expect((await walk('/api/v1/roles?limit=2', caller)).names).toEqual([
        `${p}-ops-r1`,
        `${p}-ops-r2`,
        `${p}-ops-r4`,
      ]);
      expect((await walk('/api/v1/service-accounts?limit=2', caller)).names).toEqual([
        `${p}-ops-s1`,
        `${p}-ops-s2`,
        `${p}-ops-s4`,
      ]);
    });
  });

  describe('SQL statements per page', () => {
    /**
     * The statements the DataSource runs for the request `send` makes (TypeORM reports each to its logger), without
     * the poll of the authority version that runs on a timer, whatever the requests.
     */
    async function statementsDuring(send: () => Promise<unknown>): Promise<number> {
      const logger = dataSource.logger as Logger & { logQuery: Logger['logQuery'] };
      const original = logger.logQuery.bind(logger);
      let count = 0;
      logger.logQuery = (...args) => {
        if (!args[0].includes('iam_authority_version')) {
          count++;
        }
        return original(...args);
      };
      try {
        await send();
      } finally {
        logger.logQuery = original;
      }
      return count;
    }

    it('stay the same whatever the size of the tables, for an administrator and a non-admin', async () => {
      const p = prefix();
      const caller = await callerWith([
        {
          effect: 'allow',
          action: ['iam:ListUsers', 'iam:ListServiceAccounts'],
          resource: [`iam:user:${p}*`, `iam:service-account:*`],
        },
        { effect: 'deny', action: 'iam:ListUsers', resource: `iam:user:${p}-0001` },
      ]);
      const group = `${p}-big`;
      await t.http().post('/api/v1/groups').set(adminAuth).send({ name: group }).expect(201);
      const groupId = (await dataSource.getRepository(Group).findOneByOrFail({ name: group })).id;
      const seed = async (from: number, to: number) => {
        const names = Array.from({ length: to - from }, (_, i) => `${p}-${String(from + i).padStart(4, '0')}`);
        await seedUsers(names);
        const ids = (await dataSource.getRepository(User).find({ select: { id: true, nameKey: true } }))
          .filter((user) => names.includes(user.nameKey))
          .map((user) => user.id);
        for (let i = 0; i < ids.length; i += 500) {
          await dataSource
            .createQueryBuilder()
            .insert()
            .into('user_groups')
            .values(ids.slice(i, i + 500).map((id) => ({ user_id: id, group_id: groupId })))
            .execute();
        }
      };
      const measure = async () => {
        const counts: number[] = [];
        for (const [path, auth] of [
          [`/api/v1/users?limit=50&q=${p}`, adminAuth],
          [`/api/v1/users?limit=50`, caller],
          [`/api/v1/users?limit=50&group=${group}`, caller],
          [`/api/v1/service-accounts?limit=50`, caller],
        ] as const) {
          counts.push(
            await statementsDuring(async () => {
              const body = (await get(path, auth).expect(200)).body as ListBody;
              expect(body.items).toHaveLength(50);
              expect(typeof body.next_page_token).toBe('string');
            }),
          );
        }
        return counts;
      };
      await seed(0, 120);
      for (let i = 0; i < 60; i++) {
        await dataSource.getRepository(ServiceAccount).insert({
          id: randomUUID(),
          name: `${p}-sa-${i}`,
          displayName: 'x',
          description: '',
          metadata: {},
          tokenHash: null,
          createdAt: new Date(),
          lastSeenAt: null,
        });
      }
      await measure(); // once, so that anything done once per principal (last_seen_at) is done
      const small = await measure();
      await seed(120, 2500);
      const large = await measure();
      expect(large).toEqual(small);
      // A full page of 1,000, with their groups.
      const full = (await get(`/api/v1/users?limit=1000&group=${group}`).expect(200)).body as ListBody;
      expect(full.items).toHaveLength(1000);
      expect(typeof full.next_page_token).toBe('string');
      for (const count of small) {
        expect(count).toBeLessThanOrEqual(10);
      }
    });
  });

  it('leaves Role rows alone (a sanity check that the seeding above used the real tables)', async () => {
    expect(await dataSource.getRepository(Role).count()).toBeGreaterThan(0);
  });
});
