import { createTestApp, TEST_DATABASES, type TestApp } from './utils/create-app.js';
import {
  adminAuth,
  createServiceAccount,
  createUser,
  expectError,
  signedInUser,
  uniqueName,
} from './utils/fixtures.js';

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const allow = (action: string | string[], resource: string) => ({ effect: 'allow', action, resource });
const deny = (action: string, resource: string) => ({ effect: 'deny', action, resource });
const EVERYTHING = [allow('*', '*')];
/** A user named in IAM_ADMINISTRATORS. */
const ROOT = 'root-admin-user';

/**
 * "You can only grant what you hold" (issue 8, problems 1 and 2): binding roles, changing policies and handing over
 * principals, tried as an attacker would. Every scenario builds its own principals, roles and groups.
 */
describe.each(TEST_DATABASES)('no escalation, no takeover (%s)', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(kind, { auth: { administrators: [ROOT] } });
  });
  afterAll(() => t.close());

  async function createRole(policy: unknown[], name = uniqueName('r')) {
    await t.http().post('/api/v1/roles').set(adminAuth).send({ name, policy }).expect(201);
    return name;
  }

  /** A group made by the admin, bound to these roles, with these members. */
  async function groupWith(roles: string[], members: string[] = [], name = uniqueName('g')) {
    await t.http().post('/api/v1/groups').set(adminAuth).send({ name, roles, members }).expect(201);
    return name;
  }

  /** A signed-in user holding exactly this policy (through a role of its own in a group of its own). */
  async function userWithPolicy(policy: unknown[], name = uniqueName('u')) {
    const user = await signedInUser(t, name);
    const role = await createRole(policy);
    await groupWith([role], [user.name]);
    return { ...user, role, auth: { Cookie: user.cookie } };
  }

  /** A service account holding exactly this policy. */
  async function accountWithPolicy(policy: unknown[]) {
    const account = await createServiceAccount(t);
    const role = await createRole(policy);
    await groupWith([role], [account.name]);
    return { ...account, role, auth: bearer(account.token) };
  }

  const groupExists = async (name: string) =>
    (await t.http().get(`/api/v1/groups/${name}`).set(adminAuth)).status === 200;

  describe('binding a role needs its permissions, or iam:BindRole on it', () => {
    it("refuses the issue's attack: a team-group manager binding a superrole to a new group with himself in it", async () => {
      const superrole = await createRole(EVERYTHING);
      const dan = await userWithPolicy([allow('iam:*', 'iam:group:team-*')]);
      const group = `team-${uniqueName('pwn')}`;

      const res = await t
        .http()
        .post('/api/v1/groups')
        .set(dan.auth)
        .send({ name: group, roles: [superrole], members: [dan.name] });
      const body = expectError(res, 403, 'forbidden');
      expect(body.title).toContain(superrole);
      expect(await groupExists(group)).toBe(false);
      // And dan still cannot list users or create anything outside his groups.
      expect((await t.http().get('/api/v1/users').set(dan.auth).expect(200)).body.items).toEqual([]);
      expectError(await t.http().post('/api/v1/users').set(dan.auth).send({ name: uniqueName() }), 403, 'forbidden');
    });

    it('refuses binding it to an existing group (PATCH roles), and leaves the bindings as they were', async () => {
      const superrole = await createRole(EVERYTHING);
      const dan = await userWithPolicy([allow('iam:*', 'iam:group:team-*')]);
      const group = await groupWith([], [dan.name], `team-${uniqueName('g')}`);

      expectError(
        await t
          .http()
          .patch(`/api/v1/groups/${group}`)
          .set(dan.auth)
          .send({ roles: [superrole] }),
        403,
        'forbidden',
      );
      const after = await t.http().get(`/api/v1/groups/${group}`).set(adminAuth).expect(200);
      expect(after.body.roles).toEqual([]);
    });

    it('refuses joining a group whose roles the caller does not hold, from the group side and from the principal side', async () => {
      const superrole = await createRole(EVERYTHING);
      const powerful = await groupWith([superrole], [], `team-${uniqueName('power')}`);
      const dan = await userWithPolicy([allow('iam:*', 'iam:group:team-*'), allow('iam:SetUserGroups', 'iam:user:*')]);
      const victim = await createUser(t);

      for (const members of [[dan.name], [victim.name]]) {
        expectError(
          await t.http().patch(`/api/v1/groups/${powerful}`).set(dan.auth).send({ add_members: members }),
          403,
          'forbidden',
        );
        expectError(
          await t.http().patch(`/api/v1/groups/${powerful}`).set(dan.auth).send({ set_members: members }),
          403,
          'forbidden',
        );
      }
      for (const name of [dan.name, victim.name]) {
        const res = await t
          .http()
          .put(`/api/v1/users/${name}/groups`)
          .set(dan.auth)
          .send({ add_to_groups: [powerful] });
        expect(expectError(res, 403, 'forbidden').title).toContain(superrole);
      }
      const after = await t.http().get(`/api/v1/groups/${powerful}`).set(adminAuth).expect(200);
      expect(after.body.users).toEqual([]);
    });

    it('allows binding a role whose permissions the caller holds, and joining a group of such roles', async () => {
      const dan = await userWithPolicy([allow('iam:*', 'iam:group:team-*'), allow('iam:GetUser', 'iam:user:*')]);
      const readUsers = await createRole([allow('iam:GetUser', 'iam:user:ops-*')]);
      const group = `team-${uniqueName('ok')}`;
      await t
        .http()
        .post('/api/v1/groups')
        .set(dan.auth)
        .send({ name: group, roles: [readUsers, dan.role], members: [dan.name] })
        .expect(201);
      const other = await groupWith([readUsers], [], `team-${uniqueName('g')}`);
      await t
        .http()
        .patch(`/api/v1/groups/${other}`)
        .set(dan.auth)
        .send({ add_members: [dan.name] })
        .expect(200);
    });

    it('allows binding any role with iam:BindRole on it, and that role only', async () => {
      const superrole = await createRole(EVERYTHING);
      const other = await createRole(EVERYTHING);
      const dan = await userWithPolicy([
        allow('iam:*', 'iam:group:team-*'),
        allow('iam:BindRole', `iam:role:${superrole}`),
      ]);
      const group = `team-${uniqueName('g')}`;
      await t
        .http()
        .post('/api/v1/groups')
        .set(dan.auth)
        .send({ name: group, roles: [superrole] })
        .expect(201);
      expectError(
        await t
          .http()
          .post('/api/v1/groups')
          .set(dan.auth)
          .send({ name: `team-${uniqueName('g')}`, roles: [other] }),
        403,
        'forbidden',
      );
    });

    it("counts the caller's denies: a role granting what the caller is denied is refused", async () => {
      const dan = await userWithPolicy([
        allow('iam:*', 'iam:group:team-*'),
        allow('iam:*', 'iam:user:*'),
        deny('iam:DeleteUser', 'iam:user:root-*'),
      ]);
      const wide = await createRole([allow('iam:DeleteUser', 'iam:user:*')]);
      const carved = await createRole([allow('iam:DeleteUser', 'iam:user:*'), deny('*', 'iam:user:root-*')]);
      expectError(
        await t
          .http()
          .post('/api/v1/groups')
          .set(dan.auth)
          .send({ name: `team-${uniqueName('g')}`, roles: [wide] }),
        403,
        'forbidden',
      );
      await t
        .http()
        .post('/api/v1/groups')
        .set(dan.auth)
        .send({ name: `team-${uniqueName('g')}`, roles: [carved] })
        .expect(201);
    });
  });

  describe('changing a policy needs the new policy, or iam:EscalateRole on the role', () => {
    it("refuses the issue's attack: a service account allowed iam:UpdateRole on its own role appends * on *", async () => {
      const role = uniqueName('r');
      const sa = await accountWithPolicy([allow('iam:UpdateRole', `iam:role:${role}`)]);
      // The helper made a role of its own; bind the one named in its policy too, as the issue describes.
      await createRole([allow('iam:UpdateRole', `iam:role:${role}`)], role);
      await groupWith([role], [sa.name]);

      expectError(
        await t.http().post(`/api/v1/roles/${role}/policy`).set(sa.auth).send(allow('*', '*')),
        403,
        'forbidden',
      );
      expectError(
        await t
          .http()
          .patch(`/api/v1/roles/${role}`)
          .set(sa.auth)
          .send({ policy: [allow('iam:UpdateRole', `iam:role:${role}`), allow('iam:*', '*')] }),
        403,
        'forbidden',
      );
      const after = await t.http().get(`/api/v1/roles/${role}`).set(adminAuth).expect(200);
      expect(after.body.policy_length).toBe(1);
      expectError(
        await t
          .http()
          .post('/api/v1/service-accounts')
          .set(sa.auth)
          .send({ name: uniqueName('sa') }),
        403,
        'forbidden',
      );
    });

    it('allows a policy the caller holds, removing a deny only with what the deny took away', async () => {
      const role = uniqueName('r');
      const sa = await accountWithPolicy([
        allow('iam:UpdateRole', `iam:role:${role}`),
        allow('iam:GetUser', 'iam:user:*'),
      ]);
      await createRole([allow('iam:GetUser', 'iam:user:*'), deny('iam:GetUser', 'iam:user:root-*')], role);
      await t
        .http()
        .post(`/api/v1/roles/${role}/policy`)
        .set(sa.auth)
        .send(allow('iam:GetUser', 'iam:user:ops-*'))
        .expect(200);
      // Dropping the deny widens the role to root-* users: the caller holds GetUser on every user, so it may.
      await t
        .http()
        .patch(`/api/v1/roles/${role}`)
        .set(sa.auth)
        .send({ policy: [allow('iam:GetUser', 'iam:user:*')] })
        .expect(200);
      // Display name and description need no containment.
      await t.http().patch(`/api/v1/roles/${role}`).set(sa.auth).send({ description: 'readers' }).expect(200);
    });

    it('a deny the caller holds is not removed from a role by the caller', async () => {
      const role = uniqueName('r');
      const sa = await accountWithPolicy([
        allow('iam:UpdateRole', `iam:role:${role}`),
        allow('iam:GetUser', 'iam:user:*'),
        deny('iam:GetUser', 'iam:user:root-*'),
      ]);
      await createRole([allow('iam:GetUser', 'iam:user:*'), deny('iam:GetUser', 'iam:user:root-*')], role);
      expectError(
        await t
          .http()
          .patch(`/api/v1/roles/${role}`)
          .set(sa.auth)
          .send({ policy: [allow('iam:GetUser', 'iam:user:*')] }),
        403,
        'forbidden',
      );
    });

    it('allows any policy with iam:EscalateRole on the role; creating roles follows the same rule', async () => {
      const role = uniqueName('r');
      const sa = await accountWithPolicy([
        allow('iam:UpdateRole', `iam:role:${role}`),
        allow('iam:EscalateRole', `iam:role:${role}`),
        allow('iam:CreateRole', 'iam:role:*'),
      ]);
      await createRole([], role);
      await t.http().post(`/api/v1/roles/${role}/policy`).set(sa.auth).send(allow('*', '*')).expect(200);
      expectError(
        await t
          .http()
          .post('/api/v1/roles')
          .set(sa.auth)
          .send({ name: uniqueName('r'), policy: EVERYTHING }),
        403,
        'forbidden',
      );
      await t
        .http()
        .post('/api/v1/roles')
        .set(sa.auth)
        .send({ name: uniqueName('r'), policy: [allow('iam:CreateRole', 'iam:role:x-*')] })
        .expect(201);
    });
  });

  describe('lifting a deny needs what it denies, or iam:BindRole on its role', () => {
    /** erin manages users and team groups, but a role bound to her team group denies her deleting root users. */
    async function restrictedErin() {
      const noRootDelete = await createRole([deny('iam:DeleteUser', 'iam:user:root-*')], `no-root-${uniqueName('r')}`);
      const erin = await userWithPolicy([
        allow('iam:*', 'iam:user:*'),
        allow('iam:*', 'iam:group:team-*'),
        allow('iam:UpdateRole', `iam:role:${noRootDelete}`),
        allow('iam:DeleteRole', `iam:role:${noRootDelete}`),
      ]);
      const team = await groupWith([noRootDelete], [erin.name], `team-${uniqueName('g')}`);
      return { erin, team, noRootDelete };
    }

    it('refuses every way of shedding the deny: leaving the group, unbinding, deleting the group or the role, emptying the policy', async () => {
      const { erin, team, noRootDelete } = await restrictedErin();
      const attempts = [
        t
          .http()
          .patch(`/api/v1/groups/${team}`)
          .set(erin.auth)
          .send({ remove_members: [erin.name] }),
        t.http().patch(`/api/v1/groups/${team}`).set(erin.auth).send({ set_members: [] }),
        t
          .http()
          .put(`/api/v1/users/${erin.name}/groups`)
          .set(erin.auth)
          .send({ remove_from_groups: [team] }),
        t.http().patch(`/api/v1/groups/${team}`).set(erin.auth).send({ roles: [] }),
        t.http().delete(`/api/v1/groups/${team}`).set(erin.auth),
        t.http().patch(`/api/v1/roles/${noRootDelete}`).set(erin.auth).send({ policy: [] }),
        t.http().delete(`/api/v1/roles/${noRootDelete}`).set(erin.auth),
      ];
      for (const res of await Promise.all(attempts)) {
        expect(expectError(res, 403, 'forbidden').title).toContain(noRootDelete);
      }
      const root = await createUser(t, `root-${uniqueName('u')}`);
      expectError(await t.http().delete(`/api/v1/users/${root.name}`).set(erin.auth), 403, 'forbidden');
      const after = await t.http().get(`/api/v1/groups/${team}`).set(adminAuth).expect(200);
      expect(after.body.users.map((u: { name: string }) => u.name)).toEqual([erin.name]);
      expect(after.body.roles.map((r: { name: string }) => r.name)).toEqual([noRootDelete]);
    });

    it('allows it to whoever holds what the deny takes away', async () => {
      const { erin, team } = await restrictedErin();
      // Holds all erin holds (so may act on her), without her deny, and without iam:BindRole.
      const manager = await userWithPolicy([
        allow('iam:*', 'iam:user:*'),
        allow('iam:*', 'iam:group:team-*'),
        allow(['iam:UpdateRole', 'iam:DeleteRole'], 'iam:role:*'),
      ]);
      await t
        .http()
        .patch(`/api/v1/groups/${team}`)
        .set(manager.auth)
        .send({ remove_members: [erin.name] })
        .expect(200);
    });
  });

  describe('handing over a principal needs everything it holds', () => {
    const userManagers = [allow('iam:*', 'iam:user:*'), deny('iam:DeleteUser', 'iam:user:root-*')];

    it("refuses the issue's takeover: a user manager setting the password of a user in a * group", async () => {
      const erin = await userWithPolicy(userManagers);
      const frank = await signedInUser(t);
      await groupWith([await createRole(EVERYTHING)], [frank.name]);

      const res = await t
        .http()
        .put(`/api/v1/users/${frank.name}/password`)
        .set(erin.auth)
        .send({ password: 'erin-owns-you-now' });
      expect(expectError(res, 403, 'forbidden').title).toContain(frank.name);
      // frank's password is unchanged: erin cannot sign in as him, frank still can.
      expectError(
        await t.http().post('/api/v1/login').send({ username: frank.name, password: 'erin-owns-you-now' }),
        401,
        'unauthorised',
      );
      await t.http().post('/api/v1/login').send({ username: frank.name, password: frank.password }).expect(200);
    });

    it('refuses every other way to act on that user: groups, delete, rename, e-mail', async () => {
      const erin = await userWithPolicy(userManagers);
      const frank = await createUser(t);
      const powerGroup = await groupWith([await createRole(EVERYTHING)], [frank.name]);

      const attempts = [
        t
          .http()
          .put(`/api/v1/users/${frank.name}/groups`)
          .set(erin.auth)
          .send({ remove_from_groups: [powerGroup] }),
        t.http().delete(`/api/v1/users/${frank.name}`).set(erin.auth),
        t.http().patch(`/api/v1/users/${frank.name}`).set(erin.auth).send({ display_name: 'Mallory' }),
        t
          .http()
          .patch(`/api/v1/users/${frank.name}/profile`)
          .set(erin.auth)
          .send({ email_address: 'erin@evil.example' }),
      ];
      for (const res of await Promise.all(attempts)) {
        expectError(res, 403, 'forbidden');
      }
      const after = await t.http().get(`/api/v1/users/${frank.name}`).set(adminAuth).expect(200);
      expect(after.body.display_name).toBe(frank.name);
      expect(after.body.groups.map((g: { name: string }) => g.name)).toEqual([powerGroup]);
    });

    it('allows acting on principals whose permissions the caller holds: none, some, or the same as the caller', async () => {
      const erin = await userWithPolicy(userManagers);
      const plain = await createUser(t);
      const reader = await createUser(t);
      await groupWith([await createRole([allow('iam:GetUser', 'iam:user:ops-*')])], [reader.name]);
      const peer = await createUser(t);
      await groupWith([erin.role], [peer.name]);

      for (const name of [plain.name, reader.name, peer.name]) {
        await t
          .http()
          .put(`/api/v1/users/${name}/password`)
          .set(erin.auth)
          .send({ password: 'a new password' })
          .expect(204);
        await t.http().patch(`/api/v1/users/${name}`).set(erin.auth).send({ display_name: 'Renamed' }).expect(200);
      }
      // Her own profile, always.
      await t.http().patch('/api/v1/users/me/profile').set(erin.auth).send({ full_name: 'Erin' }).expect(200);
    });

    it('refuses renaming an administrator, changing its e-mail, groups or password (problem 9)', async () => {
      const erin = await userWithPolicy(userManagers);
      await createUser(t, ROOT);
      const group = await groupWith([]);
      const attempts = [
        t.http().patch(`/api/v1/users/${ROOT}`).set(erin.auth).send({ display_name: 'Not root' }),
        t.http().patch(`/api/v1/users/${ROOT}/profile`).set(erin.auth).send({ email_address: 'erin@evil.example' }),
        t
          .http()
          .put(`/api/v1/users/${ROOT}/groups`)
          .set(erin.auth)
          .send({ add_to_groups: [group] }),
        t.http().put(`/api/v1/users/${ROOT}/password`).set(erin.auth).send({ password: 'erin-owns-you-now' }),
      ];
      for (const res of await Promise.all(attempts)) {
        expect(expectError(res, 403, 'forbidden').title).toContain('administrator');
      }
      const after = await t.http().get(`/api/v1/users/${ROOT}`).set(adminAuth).expect(200);
      expect(after.body).toMatchObject({ display_name: ROOT, is_admin: true, groups: [] });
      expect(after.body.profile.email_address).toBeNull();
    });

    it('refuses renewing, deleting, regrouping or renaming a more powerful service account', async () => {
      const sa = await accountWithPolicy([allow('iam:*', 'iam:service-account:*')]);
      const strong = await createServiceAccount(t);
      const group = await groupWith([await createRole(EVERYTHING)], [strong.name]);

      const attempts = [
        t.http().post(`/api/v1/service-accounts/${strong.name}/renew-token`).set(sa.auth),
        t.http().delete(`/api/v1/service-accounts/${strong.name}`).set(sa.auth),
        t
          .http()
          .put(`/api/v1/service-accounts/${strong.name}/groups`)
          .set(sa.auth)
          .send({ remove_from_groups: [group] }),
        t.http().patch(`/api/v1/service-accounts/${strong.name}`).set(sa.auth).send({ display_name: 'x' }),
      ];
      for (const res of await Promise.all(attempts)) {
        expectError(res, 403, 'forbidden');
      }
      // Its token still works.
      await t.http().get('/api/v1/users').set(bearer(strong.token)).expect(200);
      // A weaker one, and itself, it may renew.
      const weak = await createServiceAccount(t);
      await t.http().post(`/api/v1/service-accounts/${weak.name}/renew-token`).set(sa.auth).expect(200);
      const renewed = await t.http().post(`/api/v1/service-accounts/${sa.name}/renew-token`).set(sa.auth).expect(200);
      expect(renewed.body.token).toMatch(/^iamsa_/);
    });

    it('refuses deleting a group with a more powerful member in it', async () => {
      const dan = await userWithPolicy([allow('iam:*', 'iam:group:team-*')]);
      const frank = await createUser(t);
      await groupWith([await createRole(EVERYTHING)], [frank.name]);
      const team = await groupWith([], [frank.name], `team-${uniqueName('g')}`);
      expectError(await t.http().delete(`/api/v1/groups/${team}`).set(dan.auth), 403, 'forbidden');
      expect(await groupExists(team)).toBe(true);
      const empty = await groupWith([], [], `team-${uniqueName('g')}`);
      await t.http().delete(`/api/v1/groups/${empty}`).set(dan.auth).expect(204);
    });
  });
});
