import { setTimeout as sleep } from 'node:timers/promises';
import { createTestApp, TEST_DATABASES, type TestApp } from './utils/create-app.js';
import { adminAuth, createGroup, createUser, expectError, signedInUser, uniqueName } from './utils/fixtures.js';

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

describe.each(TEST_DATABASES)('roles, groups, service accounts and authorization (%s)', (kind) => {
  let t: TestApp;
  const rootUser = 'root-admin-user';
  beforeAll(async () => {
    t = await createTestApp(kind, { auth: { administrators: [rootUser] } });
  });
  afterAll(() => t.close());

  async function createRole(name: string, policy: unknown[]) {
    const res = await t.http().post('/api/v1/roles').set(adminAuth).send({ name, policy });
    expect(res.status).toBe(201);
    return res.body as { name: string };
  }

  async function createServiceAccount(name = uniqueName('sa'), body: Record<string, unknown> = {}) {
    const res = await t
      .http()
      .post('/api/v1/service-accounts')
      .set(adminAuth)
      .send({ name, ...body });
    expect(res.status).toBe(201);
    return res.body as { name: string; token: string; token_expires_at: string | null };
  }

  /** A service account in a fresh group bound to a fresh role with this policy. */
  async function principalWithPolicy(policy: unknown[]) {
    const role = await createRole(uniqueName('r'), policy);
    const account = await createServiceAccount();
    const group = uniqueName('g');
    await t
      .http()
      .post('/api/v1/groups')
      .set(adminAuth)
      .send({ name: group, roles: [role.name], members: [account.name] })
      .expect(201);
    return { ...account, group, role: role.name, auth: bearer(account.token) };
  }

  describe('roles', () => {
    it('creates, reads, lists, updates, appends to and deletes a role', async () => {
      const name = uniqueName('r');
      const created = await t
        .http()
        .post('/api/v1/roles')
        .set(adminAuth)
        .send({
          name,
          description: 'reads users',
          policy: [{ effect: 'allow', action: 'iam:getuser', resource: 'iam:user:*' }],
          metadata: { owner: 'platform' },
        });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        name,
        display_name: name,
        lrn: `iam:role:${name}`,
        description: 'reads users',
        policy_length: 1,
        metadata: { owner: 'platform' },
        // Stored with lists and the canonical action spelling.
        policy: [{ effect: 'allow', action: ['iam:GetUser'], resource: ['iam:user:*'] }],
      });

      const list = await t.http().get('/api/v1/roles').set(adminAuth).expect(200);
      expect(list.body.items).toEqual(expect.arrayContaining([expect.objectContaining({ name, policy_length: 1 })]));
      expect(list.body.items.find((r: { name: string }) => r.name === name).policy).toBeUndefined();

      const appended = await t
        .http()
        .post(`/api/v1/roles/${name}/policy`)
        .set(adminAuth)
        .send({ effect: 'deny', action: ['iam:DeleteUser'], resource: 'iam:user:root-*' })
        .expect(200);
      expect(appended.body.policy_length).toBe(2);

      const patched = await t
        .http()
        .patch(`/api/v1/roles/${name}`)
        .set(adminAuth)
        .send({ display_name: 'Readers', policy: [{ effect: 'allow', action: '*', resource: '*' }] })
        .expect(200);
      expect(patched.body).toMatchObject({ display_name: 'Readers', description: 'reads users', policy_length: 1 });

      await t.http().delete(`/api/v1/roles/${name}`).set(adminAuth).expect(204);
      expectError(await t.http().get(`/api/v1/roles/${name}`).set(adminAuth), 404, 'not_found');
    });

    it('rejects an unknown action and a malformed resource, naming them', async () => {
      const unknown = await t
        .http()
        .post('/api/v1/roles')
        .set(adminAuth)
        .send({
          name: uniqueName('r'),
          policy: [{ effect: 'allow', action: ['iam:GetUser', 'iam:Nope'], resource: '*' }],
        });
      const body = expectError(unknown, 400, 'bad_request');
      expect(body.invalid_fields).toEqual([
        expect.objectContaining({ name: 'policy.0.action', error: 'invalid_value' }),
      ]);
      expect(body.invalid_fields?.[0].title).toContain('iam:Nope');

      const resource = await t
        .http()
        .post('/api/v1/roles')
        .set(adminAuth)
        .send({ name: uniqueName('r'), policy: [{ effect: 'allow', action: '*', resource: 'iam:widget:*' }] });
      expect(expectError(resource, 400, 'bad_request').invalid_fields?.[0].name).toBe('policy.0.resource');

      const effect = await t
        .http()
        .post(`/api/v1/roles`)
        .set(adminAuth)
        .send({ name: uniqueName('r'), policy: [{ effect: 'maybe', action: '*', resource: '*', extra: 1 }] });
      const names = expectError(effect, 400, 'bad_request').invalid_fields?.map((f) => f.name);
      expect(names).toEqual(expect.arrayContaining(['policy.0.effect', 'policy.0.extra']));
    });

    it('answers 400 for a policy whose statements are not objects, on create, replace and append', async () => {
      const role = uniqueName('r');
      await t.http().post('/api/v1/roles').set(adminAuth).send({ name: role }).expect(201);
      for (const policy of [[[]], [null], ['allow'], [1], [[{ effect: 'allow', action: '*', resource: '*' }]]]) {
        const created = await t
          .http()
          .post('/api/v1/roles')
          .set(adminAuth)
          .send({ name: uniqueName('r'), policy });
        expect(expectError(created, 400, 'bad_request').invalid_fields).toEqual([
          expect.objectContaining({ name: 'policy', error: 'invalid_type' }),
        ]);
        const replaced = await t.http().patch(`/api/v1/roles/${role}`).set(adminAuth).send({ policy });
        expectError(replaced, 400, 'bad_request');
      }
      const appended = await t
        .http()
        .post(`/api/v1/roles/${role}/policy`)
        .set(adminAuth)
        .set('Content-Type', 'application/json')
        .send('[{"effect":"allow","action":"*","resource":"*"}]');
      expectError(appended, 400, 'bad_request');
      const after = await t.http().get(`/api/v1/roles/${role}`).set(adminAuth).expect(200);
      expect(after.body.policy).toEqual([]);
    });

    it('unbinds a deleted role from its groups', async () => {
      const role = await createRole(uniqueName('r'), []);
      const group = uniqueName('g');
      await t
        .http()
        .post('/api/v1/groups')
        .set(adminAuth)
        .send({ name: group, roles: [role.name] })
        .expect(201);
      await t.http().delete(`/api/v1/roles/${role.name}`).set(adminAuth).expect(204);
      const after = await t.http().get(`/api/v1/groups/${group}`).set(adminAuth).expect(200);
      expect(after.body).toMatchObject({ role_count: 0, roles: [] });
    });
  });

  describe('groups', () => {
    it('creates a group with members, roles and metadata, and keeps counts right from either side', async () => {
      const user = await createUser(t, uniqueName('u'));
      const account = await createServiceAccount();
      const role = await createRole(uniqueName('r'), []);
      const name = uniqueName('g');
      const created = await t
        .http()
        .post('/api/v1/groups')
        .set(adminAuth)
        .send({ name, members: [user.name.toUpperCase(), account.name], roles: [role.name], metadata: { a: '1' } });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        name,
        sso_name: '',
        display_name: name,
        lrn: `iam:group:${name}`,
        user_count: 1,
        sa_count: 1,
        role_count: 1,
        metadata: { a: '1' },
        users: [expect.objectContaining({ name: user.name })],
        service_accounts: [expect.objectContaining({ name: account.name, lrn: `iam:service-account:${account.name}` })],
        roles: [expect.objectContaining({ name: role.name })],
      });

      // From the principal's side.
      await t
        .http()
        .put(`/api/v1/users/${user.name}/groups`)
        .set(adminAuth)
        .send({ remove_from_groups: [name] })
        .expect(200);
      await t
        .http()
        .put(`/api/v1/service-accounts/${account.name}/groups`)
        .set(adminAuth)
        .send({ set_groups: [] })
        .expect(200);
      const list = await t.http().get('/api/v1/groups').set(adminAuth).expect(200);
      expect(list.body.items.find((g: { name: string }) => g.name === name)).toMatchObject({
        user_count: 0,
        sa_count: 0,
        role_count: 1,
      });

      // From the group's side.
      const patched = await t
        .http()
        .patch(`/api/v1/groups/${name}`)
        .set(adminAuth)
        .send({ add_members: [user.name, account.name], description: 'new', metadata: { a: null, b: '2' } })
        .expect(200);
      expect(patched.body).toMatchObject({ user_count: 1, sa_count: 1, description: 'new', metadata: { b: '2' } });
      const member = await t.http().get(`/api/v1/service-accounts/${account.name}`).set(adminAuth).expect(200);
      expect(member.body.groups).toEqual([expect.objectContaining({ name, sa_count: 1 })]);
    });

    it('applies add/remove (removal wins) and set for members, and refuses set with add', async () => {
      const [a, b, c] = [await createUser(t), await createUser(t), await createUser(t)];
      const name = (await createGroup(t)).name;
      const both = await t
        .http()
        .patch(`/api/v1/groups/${name}`)
        .set(adminAuth)
        .send({ add_members: [a.name, b.name], remove_members: [b.name] })
        .expect(200);
      expect(both.body.users.map((u: { name: string }) => u.name)).toEqual([a.name]);
      const set = await t
        .http()
        .patch(`/api/v1/groups/${name}`)
        .set(adminAuth)
        .send({ set_members: [b.name, c.name] })
        .expect(200);
      expect(set.body.users.map((u: { name: string }) => u.name).sort()).toEqual([b.name, c.name].sort());
      const conflict = await t
        .http()
        .patch(`/api/v1/groups/${name}`)
        .set(adminAuth)
        .send({ set_members: [a.name], add_members: [b.name] });
      expectError(conflict, 400, 'bad_request');
    });

    it('answers 404 naming unknown members or roles, and changes nothing', async () => {
      const user = await createUser(t);
      const name = (await createGroup(t)).name;
      const res = await t
        .http()
        .patch(`/api/v1/groups/${name}`)
        .set(adminAuth)
        .send({ description: 'changed', add_members: [user.name, 'ghost-1', 'ghost-2'] });
      const body = expectError(res, 404, 'not_found');
      expect(body.title).toContain('ghost-1');
      expect(body.title).toContain('ghost-2');
      const roles = await t
        .http()
        .patch(`/api/v1/groups/${name}`)
        .set(adminAuth)
        .send({ roles: ['no-such-role'] });
      expectError(roles, 404, 'not_found');
      const after = await t.http().get(`/api/v1/groups/${name}`).set(adminAuth).expect(200);
      expect(after.body).toMatchObject({ description: '', user_count: 0, users: [] });
      const create = await t
        .http()
        .post('/api/v1/groups')
        .set(adminAuth)
        .send({ name: uniqueName('g'), members: ['ghost'] });
      expectError(create, 404, 'not_found');
    });
  });

  describe('service accounts', () => {
    it('creates an account whose token works, is shown once, and follows the documented format', async () => {
      const account = await createServiceAccount(uniqueName('sa'), { description: 'ci', metadata: { k: 'v' } });
      expect(account.token).toMatch(/^iamsa_[0-9A-Za-z]{46}$/);
      expect(account).toMatchObject({ token_expires_at: null, token_expired: false, is_admin: false, groups: [] });
      const fetched = await t.http().get(`/api/v1/service-accounts/${account.name}`).set(adminAuth).expect(200);
      expect(fetched.body.token).toBeUndefined();
      expect(fetched.body).toMatchObject({ description: 'ci', metadata: { k: 'v' }, last_seen_at: null });
      // No policy yet: authenticated, but not allowed.
      expectError(await t.http().get(`/api/v1/users/${rootUser}`).set(bearer(account.token)), 403, 'forbidden');
      // Stamped off the request's path: a moment after the answer.
      let seen: string | null = null;
      for (let attempt = 0; attempt < 50 && seen === null; attempt++) {
        const res = await t.http().get(`/api/v1/service-accounts/${account.name}`).set(adminAuth).expect(200);
        seen = (res.body as { last_seen_at: string | null }).last_seen_at;
        await sleep(20);
      }
      expect(seen).not.toBeNull();
      const list = await t.http().get('/api/v1/service-accounts').set(adminAuth).expect(200);
      expect(list.body.items.every((a: { token?: string }) => a.token === undefined)).toBe(true);
      const patched = await t
        .http()
        .patch(`/api/v1/service-accounts/${account.name}`)
        .set(adminAuth)
        .send({ display_name: 'CI', metadata: { k: null } })
        .expect(200);
      expect(patched.body).toMatchObject({ display_name: 'CI', metadata: {} });
    });

    it('rejects a mistyped token by checksum, and an unknown well-formed one', async () => {
      const { token } = await createServiceAccount();
      const typo = token.slice(0, 10) + (token[10] === 'a' ? 'b' : 'a') + token.slice(11);
      expectError(await t.http().get('/api/v1/users').set(bearer(typo)), 401, 'unauthorised');
    });

    it('invalidates the old token when renewing', async () => {
      const account = await createServiceAccount();
      const renewed = await t
        .http()
        .post(`/api/v1/service-accounts/${account.name}/renew-token`)
        .set(adminAuth)
        .expect(200);
      expect(renewed.body.token).toMatch(/^iamsa_/);
      expect(renewed.body.token).not.toBe(account.token);
      expectError(await t.http().get('/api/v1/groups').set(bearer(account.token)), 401, 'unauthorised');
      expect((await t.http().get('/api/v1/groups').set(bearer(renewed.body.token))).status).toBe(200);
    });

    it('kills the token when the account is deleted', async () => {
      const account = await createServiceAccount();
      expect((await t.http().get('/api/v1/groups').set(bearer(account.token))).status).toBe(200);
      await t.http().delete(`/api/v1/service-accounts/${account.name}`).set(adminAuth).expect(204);
      expectError(await t.http().get('/api/v1/groups').set(bearer(account.token)), 401, 'unauthorised');
    });

    it('enforces token expiry', async () => {
      const past = await t
        .http()
        .post('/api/v1/service-accounts')
        .set(adminAuth)
        .send({ name: uniqueName('sa'), token_expires_at: new Date(Date.now() - 1000).toISOString() });
      expect(expectError(past, 400, 'bad_request').invalid_fields?.[0].name).toBe('token_expires_at');
      const soon = await createServiceAccount(uniqueName('sa'), {
        token_expires_at: new Date(Date.now() + 1500).toISOString(),
      });
      expect((await t.http().get('/api/v1/groups').set(bearer(soon.token))).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 1700));
      const expired = expectError(await t.http().get('/api/v1/groups').set(bearer(soon.token)), 401, 'unauthorised');
      expect(expired.title.toLowerCase()).toContain('expired');
      const shown = await t.http().get(`/api/v1/service-accounts/${soon.name}`).set(adminAuth).expect(200);
      expect(shown.body.token_expired).toBe(true);
    });

    it('takes token_expires_at as an RFC 3339 date-time with a time zone, and reads it exactly', async () => {
      const y = new Date().getUTCFullYear() + 2;
      const accepted: [string, string][] = [
        [`${y}-01-31T12:00:00Z`, `${y}-01-31T12:00:00.000Z`],
        [`${y}-01-31T12:00:00+02:00`, `${y}-01-31T10:00:00.000Z`],
        [`${y}-01-31T12:00:00.123456-01:30`, `${y}-01-31T13:30:00.123Z`],
        [`${y}-12-31T23:59:59.9-00:00`, `${y}-12-31T23:59:59.900Z`],
        [`${y}-01-31t12:00:00z`, `${y}-01-31T12:00:00.000Z`],
        [`2096-02-29T00:00:00Z`, `2096-02-29T00:00:00.000Z`],
      ];
      for (const [given, stored] of accepted) {
        const account = await createServiceAccount(uniqueName('sa'), { token_expires_at: given });
        expect({ given, stored: account.token_expires_at }).toEqual({ given, stored });
        const renewed = await t
          .http()
          .post(`/api/v1/service-accounts/${account.name}/renew-token`)
          .set(adminAuth)
          .send({ token_expires_at: given });
        expect({ given, status: renewed.status, stored: renewed.body.token_expires_at }).toEqual({
          given,
          status: 200,
          stored,
        });
      }
      const refused = [
        `${y}-123`, // ordinal date
        `${y}-W05-3`, // week date
        `${y}0131T120000Z`, // basic format
        `${y}-01-31`, // a date alone: which time, which zone?
        `${y}-01-31T12:00:00`, // no time zone
        `${y}-01-31T12:00Z`, // no seconds
        `${y}-01-31 12:00:00Z`,
        `${y}-13-01T00:00:00Z`,
        `${y}-00-10T00:00:00Z`,
        `${y}-02-30T00:00:00Z`,
        `2097-02-29T00:00:00Z`,
        `${y}-04-31T00:00:00Z`,
        `${y}-01-31T24:00:00Z`,
        `${y}-01-31T12:60:00Z`,
        `${y}-01-31T12:00:60Z`,
        `${y}-01-31T12:00:00+24:00`,
        `${y}-01-31T12:00:00+02`,
        `${y}-01-31T12:00:00.Z`,
        '275760-09-14T00:00:00Z',
        '+275760-09-14T00:00:00Z',
        '9999-12-31T23:59:59-00:01', // year 10000 in UTC
        `${y}-01-31T12:00:00Z\n`,
        ` ${y}-01-31T12:00:00Z`,
      ];
      const account = await createServiceAccount();
      for (const value of refused) {
        for (const res of [
          await t
            .http()
            .post('/api/v1/service-accounts')
            .set(adminAuth)
            .send({ name: uniqueName('sa'), token_expires_at: value }),
          await t
            .http()
            .post(`/api/v1/service-accounts/${account.name}/renew-token`)
            .set(adminAuth)
            .send({ token_expires_at: value }),
        ]) {
          expect({ value, status: res.status }).toEqual({ value, status: 400 });
          expect({ value, fields: expectError(res, 400, 'bad_request').invalid_fields }).toEqual({
            value,
            fields: [expect.objectContaining({ name: 'token_expires_at', error: 'invalid_format' })],
          });
        }
      }
    });

    it('lets exactly one of concurrent user and service-account creates of one name win', async () => {
      const name = uniqueName('contested');
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          t
            .http()
            .post(i % 2 ? '/api/v1/users' : '/api/v1/service-accounts')
            .set(adminAuth)
            .send({ name: i % 4 === 1 ? name.toUpperCase() : name }),
        ),
      );
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((s) => s === 201)).toHaveLength(1);
      expect(statuses.filter((s) => s === 409)).toHaveLength(19);
    });

    it('shares one namespace with users', async () => {
      const user = await createUser(t, uniqueName('shared'));
      const clash = await t.http().post('/api/v1/service-accounts').set(adminAuth).send({ name: user.name });
      expectError(clash, 409, 'conflict');
      const account = await createServiceAccount();
      expectError(
        await t.http().post('/api/v1/users').set(adminAuth).send({ name: account.name.toUpperCase() }),
        409,
        'conflict',
      );
    });
  });

  describe('authorization', () => {
    it('lets iam:* on iam:user:* manage users but not groups, memberships or administrators', async () => {
      const sa = await principalWithPolicy([{ effect: 'allow', action: 'iam:*', resource: 'iam:user:*' }]);
      const name = uniqueName('managed');
      expect((await t.http().post('/api/v1/users').set(sa.auth).send({ name })).status).toBe(201);
      expect((await t.http().patch(`/api/v1/users/${name}`).set(sa.auth).send({ display_name: 'M' })).status).toBe(200);
      expect(
        (await t.http().put(`/api/v1/users/${name}/password`).set(sa.auth).send({ password: 'long enough' })).status,
      ).toBe(204);
      const users = await t.http().get('/api/v1/users').set(sa.auth).expect(200);
      expect(users.body.items.map((u: { name: string }) => u.name)).toContain(name);

      // Groups: listing shows nothing, creating is forbidden.
      const groups = await t.http().get('/api/v1/groups').set(sa.auth).expect(200);
      expect(groups.body.items).toEqual([]);
      const createGroupRes = expectError(
        await t
          .http()
          .post('/api/v1/groups')
          .set(sa.auth)
          .send({ name: uniqueName('g') }),
        403,
        'forbidden',
      );
      expect(createGroupRes.title).toContain('iam:CreateGroup');

      // Nobody is put into a group without iam:UpdateGroupMembers on it.
      const res = await t
        .http()
        .put(`/api/v1/users/${name}/groups`)
        .set(sa.auth)
        .send({ add_to_groups: [sa.group] });
      expect(expectError(res, 403, 'forbidden').title).toContain(`iam:group:${sa.group}`);
      const member = await t.http().get(`/api/v1/users/${name}`).set(sa.auth).expect(200);
      expect(member.body.groups).toEqual([]);

      // Administrators are for administrators.
      await createUser(t, rootUser).catch(() => undefined);
      const rootGroups = await t.http().put(`/api/v1/users/${rootUser}/groups`).set(sa.auth).send({ set_groups: [] });
      expectError(rootGroups, 403, 'forbidden');
      const password = await t
        .http()
        .put(`/api/v1/users/${rootUser}/password`)
        .set(sa.auth)
        .send({ password: 'long enough' });
      expectError(password, 403, 'forbidden');
      expectError(await t.http().delete(`/api/v1/users/${rootUser}`).set(sa.auth), 403, 'forbidden');
      // Creating a principal that IAM_ADMINISTRATORS names would create an administrator.
      await t.http().delete(`/api/v1/users/${rootUser}`).set(adminAuth).expect(204);
      expectError(
        await t.http().post('/api/v1/users').set(sa.auth).send({ name: 'ROOT-admin-user' }),
        403,
        'forbidden',
      );
      // And the built-in admin's token is not theirs to renew.
      expectError(await t.http().post('/api/v1/service-accounts/admin/renew-token').set(sa.auth), 403, 'forbidden');
    });

    it('lets a deny on iam:user:root-* beat a broader allow', async () => {
      const sa = await principalWithPolicy([
        { effect: 'allow', action: 'iam:*', resource: '*' },
        { effect: 'deny', action: ['iam:DeleteUser', 'iam:GetUser'], resource: 'iam:user:root-*' },
      ]);
      const root = await createUser(t, uniqueName('root'));
      const other = await createUser(t, uniqueName('other'));
      const denied = expectError(await t.http().delete(`/api/v1/users/${root.name}`).set(sa.auth), 403, 'forbidden');
      expect(denied.title).toContain('iam:DeleteUser');
      expect(denied.title).toContain(`iam:user:${root.name}`);
      // Case does not get around a deny.
      expectError(await t.http().get(`/api/v1/users/${root.name.toUpperCase()}`).set(sa.auth), 403, 'forbidden');
      await t.http().delete(`/api/v1/users/${other.name}`).set(sa.auth).expect(204);
    });

    it('matches wildcards in the middle of names, for routes and for lists', async () => {
      const sa = await principalWithPolicy([
        { effect: 'allow', action: ['iam:GetUser', 'iam:ListUsers'], resource: 'iam:user:ops-*-eu' },
      ]);
      const inside = await createUser(t, `ops-${uniqueName('x')}-eu`);
      const outside = await createUser(t, `ops-${uniqueName('x')}-us`);
      expect((await t.http().get(`/api/v1/users/${inside.name}`).set(sa.auth)).status).toBe(200);
      expectError(await t.http().get(`/api/v1/users/${outside.name}`).set(sa.auth), 403, 'forbidden');
      const list = await t.http().get('/api/v1/users').set(sa.auth).expect(200);
      const names = list.body.items.map((u: { name: string }) => u.name);
      expect(names).toContain(inside.name);
      expect(names).not.toContain(outside.name);
    });

    it('applies a change to a membership, a binding or a role on the very next request', async () => {
      const sa = await principalWithPolicy([{ effect: 'allow', action: 'iam:ListRoles', resource: '*' }]);
      const see = () => t.http().get('/api/v1/roles').set(sa.auth);
      expect((await see()).body.items.length).toBeGreaterThan(0);
      await t.http().patch(`/api/v1/roles/${sa.role}`).set(adminAuth).send({ policy: [] }).expect(200);
      expect((await see()).body.items).toEqual([]);
      await t
        .http()
        .post(`/api/v1/roles/${sa.role}/policy`)
        .set(adminAuth)
        .send({ effect: 'allow', action: 'iam:ListRoles', resource: '*' })
        .expect(200);
      expect((await see()).body.items.length).toBeGreaterThan(0);
      await t.http().patch(`/api/v1/groups/${sa.group}`).set(adminAuth).send({ roles: [] }).expect(200);
      expect((await see()).body.items).toEqual([]);
      await t
        .http()
        .patch(`/api/v1/groups/${sa.group}`)
        .set(adminAuth)
        .send({ roles: [sa.role] })
        .expect(200);
      expect((await see()).body.items.length).toBeGreaterThan(0);
      await t
        .http()
        .put(`/api/v1/service-accounts/${sa.name}/groups`)
        .set(adminAuth)
        .send({ set_groups: [] })
        .expect(200);
      expect((await see()).body.items).toEqual([]);
    });

    it('lets a principal change memberships only of groups it has iam:UpdateGroupMembers on', async () => {
      const target = (await createGroup(t)).name;
      const other = (await createGroup(t)).name;
      const sa = await principalWithPolicy([
        { effect: 'allow', action: ['iam:SetUserGroups', 'iam:GetUser'], resource: 'iam:user:*' },
        { effect: 'allow', action: ['iam:UpdateGroupMembers', 'iam:UpdateGroup'], resource: `iam:group:${target}` },
      ]);
      const user = await createUser(t);
      const ok = await t
        .http()
        .put(`/api/v1/users/${user.name}/groups`)
        .set(sa.auth)
        .send({ add_to_groups: [target] });
      expect(ok.status).toBe(200);
      expect(ok.body.groups.map((g: { name: string }) => g.name)).toEqual([target]);
      const set = await t
        .http()
        .put(`/api/v1/users/${user.name}/groups`)
        .set(sa.auth)
        .send({ set_groups: [other] });
      expectError(set, 403, 'forbidden');
      // The group side needs it too.
      expectError(
        await t
          .http()
          .patch(`/api/v1/groups/${other}`)
          .set(sa.auth)
          .send({ add_members: [user.name] }),
        403,
        'forbidden',
      );
      const viaGroup = await t
        .http()
        .patch(`/api/v1/groups/${target}`)
        .set(sa.auth)
        .send({ add_members: [other] });
      expectError(viaGroup, 404, 'not_found'); // "other" is a group, not a principal
      const newcomer = await createUser(t);
      const added = await t
        .http()
        .patch(`/api/v1/groups/${target}`)
        .set(sa.auth)
        .send({ add_members: [newcomer.name] });
      expect(added.status).toBe(200);
      // Binding roles is iam:UpdateGroupRoles, which this principal does not have.
      expectError(
        await t
          .http()
          .patch(`/api/v1/groups/${target}`)
          .set(sa.auth)
          .send({ roles: [sa.role] }),
        403,
        'forbidden',
      );
    });

    it('leaves a group with an administrator in it for administrators to delete', async () => {
      const sa = await principalWithPolicy([{ effect: 'allow', action: 'iam:DeleteGroup', resource: 'iam:group:*' }]);
      const withAdmin = await createGroup(t, uniqueName('g'), { members: ['admin'] });
      const refused = await t.http().delete(`/api/v1/groups/${withAdmin.name}`).set(sa.auth);
      expect(expectError(refused, 403, 'forbidden').title).toContain('iam:DeleteGroup');
      const still = await t.http().get(`/api/v1/groups/${withAdmin.name}`).set(adminAuth).expect(200);
      expect(still.body.service_accounts.map((m: { name: string }) => m.name)).toEqual(['admin']);
      const plain = await createGroup(t, uniqueName('g'), { members: [(await createUser(t)).name] });
      await t.http().delete(`/api/v1/groups/${plain.name}`).set(sa.auth).expect(204);
      await t.http().delete(`/api/v1/groups/${withAdmin.name}`).set(adminAuth).expect(204);
      expectError(await t.http().delete(`/api/v1/groups/${plain.name}`).set(sa.auth), 404, 'not_found');
    });

    it('needs no policy for self-service', async () => {
      const me = await signedInUser(t);
      expect((await t.http().get('/api/v1/users/me').set('Cookie', me.cookie)).status).toBe(200);
      expect(
        (await t.http().patch(`/api/v1/users/${me.name}/profile`).set('Cookie', me.cookie).send({ full_name: 'Me' }))
          .status,
      ).toBe(200);
      expect(
        (
          await t
            .http()
            .put('/api/v1/users/me/password')
            .set('Cookie', me.cookie)
            .send({ current_password: me.password, new_password: 'another long one' })
        ).status,
      ).toBe(204);
      expectError(await t.http().get(`/api/v1/users/${me.name}`).set('Cookie', me.cookie), 403, 'forbidden');
      const lists = await t.http().get('/api/v1/users').set('Cookie', me.cookie).expect(200);
      expect(lists.body.items).toEqual([]);
    });
  });

  describe('token lifetime policy', () => {
    let limited: TestApp;
    beforeAll(async () => {
      limited = await createTestApp(kind, { auth: { saTokenMaxTtlDays: 30 } });
    });
    afterAll(() => limited.close());

    it('requires an expiry within IAM_SA_TOKEN_MAX_TTL_DAYS', async () => {
      const days = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString();
      const none = await limited
        .http()
        .post('/api/v1/service-accounts')
        .set(adminAuth)
        .send({ name: uniqueName('sa') });
      expect(expectError(none, 400, 'bad_request').invalid_fields?.[0].name).toBe('token_expires_at');
      const far = await limited
        .http()
        .post('/api/v1/service-accounts')
        .set(adminAuth)
        .send({ name: uniqueName('sa'), token_expires_at: days(31) });
      expectError(far, 400, 'bad_request');
      const ok = await limited
        .http()
        .post('/api/v1/service-accounts')
        .set(adminAuth)
        .send({ name: uniqueName('sa'), token_expires_at: days(29) });
      expect(ok.status).toBe(201);
      const renew = await limited
        .http()
        .post(`/api/v1/service-accounts/${ok.body.name}/renew-token`)
        .set(adminAuth)
        .send({});
      expectError(renew, 400, 'bad_request');
    });
  });
});
