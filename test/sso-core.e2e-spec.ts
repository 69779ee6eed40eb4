import { SsoSignInRefused, SsoSignInService } from '../src/sso/sso-sign-in.service.js';
import type { SsoIdentity } from '../src/sso/sso-identity.js';
import { createTestApp, TEST_DATABASES, type TestApp } from './utils/create-app.js';
import {
  adminAuth,
  callerWithPolicy,
  createGroup,
  createRole,
  createUser,
  expectError,
  signedInUser,
  uniqueName,
} from './utils/fixtures.js';

const ISSUER = 'https://idp.example.com';

/** The single sign-on core, driven as a protocol module drives it: with identities it has verified. */
describe.each(TEST_DATABASES)('single sign-on core (%s)', (kind) => {
  let t: TestApp;
  let sso: SsoSignInService;
  beforeAll(async () => {
    t = await createTestApp(kind, { auth: { administrators: ['boss', 'chief'] } });
    sso = t.app.get(SsoSignInService);
  });
  afterAll(() => t.close());

  const identity = (overrides: Partial<SsoIdentity> = {}): SsoIdentity => ({
    method: 'oidc',
    issuer: ISSUER,
    subject: uniqueName('sub'),
    username: uniqueName('sso'),
    ...overrides,
  });

  /** The refusal of a sign-in: its status and reason code. */
  const refusal = async (attempt: Promise<unknown>) => {
    const error = await attempt.then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(SsoSignInRefused);
    return { status: (error as SsoSignInRefused).getStatus(), reason: (error as SsoSignInRefused).reason };
  };

  const me = (sessionId: string) => t.http().get('/api/v1/users/me').set('Cookie', `session_id=${sessionId}`);

  const loginEvents = async (name: string) =>
    (
      await t
        .http()
        .get('/api/v1/audit-events')
        .query({ action: 'iam:Login', target: `iam:user:${name}` })
        .set(adminAuth)
        .expect(200)
    ).body.items as { outcome: string; reason: string | null; changes: Record<string, { after: unknown }> }[];

  it('creates the user on first sign-in (just in time), with profile, groups and a working session', async () => {
    const ops = await createGroup(t, uniqueName('g'), { sso_name: uniqueName('Ops Team') });
    const devs = await createGroup(t, uniqueName('g'), { sso_name: uniqueName('devs') });
    // No sso_name: a provider group of the same name does not put anyone in it.
    const local = await createGroup(t, uniqueName('g'));
    const ssoName = async (name: string) =>
      (await t.http().get(`/api/v1/groups/${name}`).set(adminAuth).expect(200)).body.sso_name as string;
    expect(await ssoName(local.name)).toBe('');
    const who = identity({
      fullName: 'Mary Jane Watson',
      email: 'mj@example.com',
      displayName: 'MJ',
      groups: [await ssoName(ops.name), await ssoName(devs.name), local.name, 'not-a-group-here', ''],
    });
    const session = await sso.signIn(who, { address: '10.0.0.1', userAgent: 'test' });
    expect(session.user).toMatchObject({
      name: who.username,
      display_name: 'MJ',
      profile: { full_name: 'Mary Jane Watson', email_address: 'mj@example.com' },
      auth_methods: ['oidc'],
      is_admin: false,
    });
    expect(session.user.groups.map((g) => g.name).sort()).toEqual([ops.name, devs.name].sort());
    expect(session.user.groups.map((g) => g.name)).not.toContain(local.name);
    const body = (await me(session.sessionId).expect(200)).body;
    expect(body.name).toBe(who.username);
    expect(body.auth_methods).toEqual(['oidc']);
    const [event] = await loginEvents(who.username);
    expect(event).toMatchObject({ outcome: 'success', changes: { auth_method: { after: 'oidc' } } });
  });

  it('refreshes the profile and sets the groups at every sign-in; ends the session it was given', async () => {
    const a = await createGroup(t, uniqueName('g'), { sso_name: uniqueName('A') });
    const b = await createGroup(t, uniqueName('g'), { sso_name: uniqueName('B') });
    const mapped = await createGroup(t, uniqueName('g'), { sso_name: uniqueName('C') });
    const unmanagedByProvider = await createGroup(t);
    const ssoName = async (name: string) =>
      (await t.http().get(`/api/v1/groups/${name}`).set(adminAuth).expect(200)).body.sso_name as string;
    const who = identity({ fullName: 'Old Name', email: 'old@example.com', groups: [await ssoName(a.name)] });
    const first = await sso.signIn(who);
    // An administrator adds the user to two more groups: the provider decides about the one with an sso_name only.
    await t
      .http()
      .put(`/api/v1/users/${who.username}/groups`)
      .set(adminAuth)
      .send({ add_to_groups: [unmanagedByProvider.name, mapped.name] })
      .expect(200);
    const second = await sso.signIn(
      {
        ...who,
        fullName: 'New Name',
        email: 'new@example.com',
        displayName: 'Newbie',
        groups: [await ssoName(b.name), unmanagedByProvider.name],
      },
      {},
      first.sessionId,
    );
    expect(second.user.id).toBe(first.user.id);
    expect(second.user).toMatchObject({
      display_name: 'Newbie',
      profile: { full_name: 'New Name', email_address: 'new@example.com' },
    });
    const names = (user: { groups: { name: string }[] }) => user.groups.map((g) => g.name).sort();
    expect(names(second.user)).toEqual([b.name, unmanagedByProvider.name].sort());
    await me(first.sessionId).expect(401);
    await me(second.sessionId).expect(200);
    // A provider that sends no groups leaves the memberships alone.
    const third = await sso.signIn({ ...who, groups: undefined });
    expect(names(third.user)).toEqual([b.name, unmanagedByProvider.name].sort());
    // The name the provider sends later does not move the identity to another user.
    const renamed = await sso.signIn({ ...who, username: uniqueName('renamed') });
    expect(renamed.user.name).toBe(who.username);
  });

  it('refuses a provider user name that is not a valid user name here (400), or is taken (409)', async () => {
    for (const username of ['', 'me', 'has space', 'a/b', 'x'.repeat(101)]) {
      expect(await refusal(sso.signIn(identity({ username })))).toEqual({
        status: 400,
        reason: 'sso_invalid_username',
      });
    }
    expect(await refusal(sso.signIn(identity({ username: 'ADMIN' })))).toEqual({
      status: 409,
      reason: 'sso_name_taken',
    });
    const account = uniqueName('sa');
    await t.http().post('/api/v1/service-accounts').set(adminAuth).send({ name: account }).expect(201);
    expect(await refusal(sso.signIn(identity({ username: account })))).toEqual({
      status: 409,
      reason: 'sso_name_taken',
    });
  });

  it('refuses takeovers: a password user, an administrator, a user bound to another identity', async () => {
    const local = await signedInUser(t);
    expect(await refusal(sso.signIn(identity({ username: local.name })))).toEqual({
      status: 403,
      reason: 'sso_account_conflict',
    });
    const events = await loginEvents(local.name);
    expect(events[0]).toMatchObject({ outcome: 'failed', reason: 'sso_account_conflict' });
    // The password still works, and the user is not bound.
    await t.http().post('/api/v1/login').send({ username: local.name, password: local.password }).expect(200);

    // An administrator, existing without a password, or not existing yet.
    await createUser(t, 'boss');
    expect(await refusal(sso.signIn(identity({ username: 'Boss' })))).toEqual({
      status: 403,
      reason: 'sso_account_conflict',
    });
    expect(await refusal(sso.signIn(identity({ username: 'chief' })))).toEqual({
      status: 403,
      reason: 'sso_account_conflict',
    });

    // Another subject with the name of a user already bound.
    const bound = identity();
    await sso.signIn(bound);
    expect(await refusal(sso.signIn(identity({ username: bound.username })))).toEqual({
      status: 403,
      reason: 'sso_account_conflict',
    });
    // The same subject at another issuer is another identity.
    expect(await refusal(sso.signIn({ ...bound, issuer: 'https://other.example.com' }))).toEqual({
      status: 403,
      reason: 'sso_account_conflict',
    });
  });

  it('binds a user provisioned without a password at the first sign-in', async () => {
    const provisioned = await createUser(t);
    const session = await sso.signIn(identity({ username: provisioned.name }));
    expect(session.user.id).toBe(provisioned.id);
    expect(session.user.auth_methods).toEqual(['oidc']);
  });

  it('says how each user signs in (auth_methods), without secrets', async () => {
    const local = await signedInUser(t);
    const plain = await createUser(t);
    const one = (await t.http().get(`/api/v1/users/${local.name}`).set(adminAuth).expect(200)).body;
    expect(one.auth_methods).toEqual(['password']);
    expect(JSON.stringify(one)).not.toMatch(/hash|argon/i);
    const list = (await t.http().get('/api/v1/users').query({ limit: 200 }).set(adminAuth).expect(200)).body.items as {
      name: string;
      auth_methods: string[];
    }[];
    expect(list.find((u) => u.name === local.name)?.auth_methods).toEqual(['password']);
    expect(list.find((u) => u.name === plain.name)?.auth_methods).toEqual([]);
  });

  it('tells a sign-in page which methods are open (public)', async () => {
    const res = await t.http().get('/api/v1/login/methods').expect(200);
    expect(res.body).toEqual({ password: 'all', oidc: false, saml: false });
  });

  it('lets only who may change a group’s members map a provider group to it (sso_name), and clears it with ""', async () => {
    const groupsPolicy = (actions: string[]) => [{ effect: 'allow', action: actions, resource: ['iam:group:*'] }];
    const editor = await callerWithPolicy(t, groupsPolicy(['iam:CreateGroup', 'iam:UpdateGroup', 'iam:GetGroup']));
    const name = uniqueName('g');
    // Creating a group is allowed, but not one the provider fills: that is adding members.
    const refused = await t.http().post('/api/v1/groups').set(editor.headers).send({ name, sso_name: 'Staff' });
    expectError(refused, 403, 'forbidden');
    await t.http().post('/api/v1/groups').set(editor.headers).send({ name }).expect(201);
    expectError(
      await t.http().patch(`/api/v1/groups/${name}`).set(editor.headers).send({ sso_name: 'Staff' }),
      403,
      'forbidden',
    );
    // With iam:UpdateGroupMembers, but the group grants a role beyond the caller's own: still refused.
    const powerful = await createRole(t, [{ effect: 'allow', action: ['iam:*'], resource: ['*'] }]);
    const rich = await createGroup(t, uniqueName('g'), { roles: [powerful] });
    const members = await callerWithPolicy(
      t,
      groupsPolicy(['iam:UpdateGroup', 'iam:UpdateGroupMembers', 'iam:GetGroup']),
    );
    expectError(
      await t.http().patch(`/api/v1/groups/${rich.name}`).set(members.headers).send({ sso_name: 'Staff' }),
      403,
      'forbidden',
    );
    const ssoName = async (group: string) =>
      (await t.http().get(`/api/v1/groups/${group}`).set(adminAuth).expect(200)).body.sso_name as string;
    expect(await ssoName(rich.name)).toBe('');
    // A group granting nothing beyond the caller's: mapped, then unmapped.
    const mapped = uniqueName('Staff');
    await t.http().patch(`/api/v1/groups/${name}`).set(members.headers).send({ sso_name: mapped }).expect(200);
    expect(await ssoName(name)).toBe(mapped);
    const joined = await sso.signIn(identity({ groups: [mapped] }));
    expect(joined.user.groups.map((g) => g.name)).toEqual([name]);
    await t.http().patch(`/api/v1/groups/${name}`).set(adminAuth).send({ sso_name: '' }).expect(200);
    expect(await ssoName(name)).toBe('');
    const events = (
      await t
        .http()
        .get('/api/v1/audit-events')
        .query({ action: 'iam:UpdateGroup', target: `iam:group:${name}` })
        .set(adminAuth)
        .expect(200)
    ).body.items as { changes: Record<string, { before: unknown; after: unknown }> }[];
    expect(events.map((event) => event.changes.sso_name)).toEqual([
      { before: mapped, after: '' },
      { before: '', after: mapped },
    ]);
  });
});

describe.each(TEST_DATABASES)('single sign-on settings (%s)', (kind) => {
  let t: TestApp;
  let sso: SsoSignInService;
  beforeAll(async () => {
    t = await createTestApp(kind, {
      auth: { administrators: ['root-user'] },
      sso: { passwordLogin: 'admins-only', groupSync: false, linkExistingUsers: true },
    });
    sso = t.app.get(SsoSignInService);
  });
  afterAll(() => t.close());

  const setPassword = (name: string, password: string) =>
    t.http().put(`/api/v1/users/${name}/password`).set(adminAuth).send({ password }).expect(204);

  it('IAM_PASSWORD_LOGIN=admins-only: a 403 for other users with the right password, recorded; 401 for a wrong one', async () => {
    const user = await createUser(t);
    await setPassword(user.name, 'correct horse battery');
    const refused = await t
      .http()
      .post('/api/v1/login')
      .send({ username: user.name, password: 'correct horse battery' });
    expectError(refused, 403, 'forbidden');
    expect(refused.headers['set-cookie']).toBeUndefined();
    expectError(
      await t.http().post('/api/v1/login').send({ username: user.name, password: 'wrong password!' }),
      401,
      'unauthorised',
    );
    const events = (
      await t
        .http()
        .get('/api/v1/audit-events')
        .query({ action: 'iam:Login', target: `iam:user:${user.name}`, outcome: 'failed' })
        .set(adminAuth)
        .expect(200)
    ).body.items as { reason: string }[];
    expect(events.map((e) => e.reason)).toContain('password_login_disabled');

    await createUser(t, 'root-user');
    await setPassword('root-user', 'correct horse battery');
    await t.http().post('/api/v1/login').send({ username: 'root-user', password: 'correct horse battery' }).expect(200);
    expect((await t.http().get('/api/v1/login/methods').expect(200)).body).toEqual({
      password: 'admins-only',
      oidc: false,
      saml: false,
    });
  });

  it('IAM_SSO_LINK_EXISTING_USERS links a password user; IAM_SSO_GROUP_SYNC=false leaves groups alone', async () => {
    const user = await createUser(t);
    await setPassword(user.name, 'correct horse battery');
    const group = await createGroup(t, uniqueName('g'), { sso_name: uniqueName('mapped') });
    const session = await sso.signIn({
      method: 'oidc',
      issuer: ISSUER,
      subject: uniqueName('sub'),
      username: user.name,
      groups: [(await t.http().get(`/api/v1/groups/${group.name}`).set(adminAuth).expect(200)).body.sso_name],
    });
    expect(session.user.id).toBe(user.id);
    expect(session.user.auth_methods).toEqual(['password', 'oidc']);
    expect(session.user.groups).toEqual([]);
  });
});
