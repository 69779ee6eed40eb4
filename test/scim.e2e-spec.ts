import { randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import { SsoSignInRefused, SsoSignInService } from '../src/sso/sso-sign-in.service.js';
import { SsoConfig } from '../src/config/sso.config.js';
import { IAM_SSO_CONFIG } from '../src/iam.options.js';
import { createTestApp, TEST_DATABASES, type TestApp } from './utils/create-app.js';
import {
  adminAuth,
  callerWithPolicy,
  createGroup,
  createRole,
  sessionCookieOf,
  signedInUser,
  uniqueName,
} from './utils/fixtures.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

const allow = (action: string | string[], resource: string | string[]) => ({ effect: 'allow', action, resource });

/** A SCIM error answer: status, SCIM's body, and its content type. */
function expectScimError(res: Response, status: number, scimType?: string) {
  expect({ status: res.status, body: res.body as unknown }).toEqual({
    status,
    body: expect.objectContaining({
      schemas: [ERROR],
      status: String(status),
      detail: expect.any(String),
      ...(scimType ? { scimType } : {}),
    }),
  });
  expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
}

/**
 * SCIM 2.0 provisioning, walked as Okta's and Microsoft Entra ID's validators walk it (RFC 7643/7644), plus who may
 * provision what, deactivation end to end, and the filter, sort, paging and attribute parameters.
 */
describe.each(TEST_DATABASES)('SCIM provisioning (%s)', (kind) => {
  let t: TestApp;
  let scim: Record<string, string>;
  let scimAccount: { name: string; id: string };

  beforeAll(async () => {
    t = await createTestApp(kind, { auth: { administrators: ['boss'] } });
    const caller = await callerWithPolicy(t, [allow('iam:ScimProvision', ['iam:user:*', 'iam:group:*'])]);
    scim = caller.headers;
    scimAccount = caller.account;
  }, 60_000);
  afterAll(() => t.close());

  const request = (method: 'get' | 'post' | 'put' | 'patch' | 'delete', path: string, headers = scim) => {
    // One Host for every request (supertest listens on a new port each time): locations and $refs are built from it.
    const call = t.http()[method](`/scim/v2${path}`).set('Host', 'iam.test').set(headers);
    return method === 'get' || method === 'delete' ? call : call.set('Content-Type', 'application/scim+json');
  };
  const get = (path: string, headers = scim) => request('get', path, headers);
  const post = (path: string, body: object, headers = scim) => request('post', path, headers).send(body);
  const put = (path: string, body: object, headers = scim) => request('put', path, headers).send(body);
  const patch = (path: string, operations: object[], headers = scim) =>
    request('patch', path, headers).send({ schemas: [PATCH], Operations: operations });
  const del = (path: string, headers = scim) => request('delete', path, headers);

  /** Okta's "create user" body (its validator sends a password too: ignored here, see the README). */
  const oktaUser = (userName = `${uniqueName('okta')}@example.com`) => ({
    schemas: [USER],
    userName,
    name: { givenName: 'Ada', familyName: 'Lovelace' },
    emails: [{ primary: true, value: userName.includes('@') ? userName : `${userName}@example.com`, type: 'work' }],
    displayName: 'Ada Lovelace',
    locale: 'en-US',
    externalId: uniqueName('00u'),
    groups: [],
    password: '1mz050nq',
    active: true,
  });
  const createScimUser = async (body: object = oktaUser()) => {
    const res = await post('/Users', body);
    expect({ status: res.status, body: res.status === 201 ? undefined : (res.body as unknown) }).toEqual({
      status: 201,
      body: undefined,
    });
    return res.body as Record<string, unknown> & { id: string; userName: string; meta: Record<string, string> };
  };
  const apiUser = async (name: string) =>
    (
      await t
        .http()
        .get(`/api/v1/users/${encodeURIComponent(name)}`)
        .set(adminAuth)
        .expect(200)
    ).body as {
      active: boolean;
      display_name: string;
      profile: { full_name: string | null; email_address: string | null };
      groups: { name: string }[];
    };

  describe('discovery', () => {
    it('describes itself: ServiceProviderConfig, ResourceTypes, Schemas, in application/scim+json', async () => {
      const config = await get('/ServiceProviderConfig').expect(200);
      expect(config.headers['content-type']).toMatch(/^application\/scim\+json/);
      expect(config.body).toMatchObject({
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
        patch: { supported: true },
        bulk: { supported: false },
        filter: { supported: true, maxResults: expect.any(Number) },
        sort: { supported: true },
        etag: { supported: true },
        changePassword: { supported: false },
        authenticationSchemes: [expect.objectContaining({ type: 'oauthbearertoken' })],
      });
      const types = (await get('/ResourceTypes').expect(200)).body;
      expect(types).toMatchObject({ schemas: [LIST], totalResults: 2 });
      expect(types.Resources.map((r: { endpoint: string }) => r.endpoint)).toEqual(['/Users', '/Groups']);
      expect((await get('/ResourceTypes/User').expect(200)).body).toMatchObject({ schema: USER });
      const schemas = (await get('/Schemas').expect(200)).body;
      expect(schemas.Resources.map((s: { id: string }) => s.id)).toEqual([USER, GROUP]);
      expect((await get(`/Schemas/${GROUP}`).expect(200)).body.attributes.map((a: { name: string }) => a.name)).toEqual(
        ['displayName', 'members'],
      );
      expectScimError(await get('/Schemas/urn:nope'), 404, 'noTarget');
    });
  });

  describe('who may provision', () => {
    it('refuses a request without a token: 401 in SCIM’s error body', async () => {
      for (const path of ['/Users', '/Groups', '/ServiceProviderConfig', `/Users/${randomUUID()}`]) {
        expectScimError(await get(path, {}), 401);
      }
      expectScimError(await post('/Users', oktaUser(), {}), 401);
      expectScimError(await get('/Users', { Authorization: 'Bearer not-a-token' }), 401);
    });

    it('refuses a token whose roles do not allow iam:ScimProvision: 403', async () => {
      const other = await callerWithPolicy(t, [
        allow(['iam:ListUsers', 'iam:CreateUser', 'iam:GetUser'], 'iam:user:*'),
      ]);
      expectScimError(await get('/Users', other.headers), 403);
      expectScimError(await post('/Users', oktaUser(), other.headers), 403);
      expectScimError(await get('/ServiceProviderConfig', other.headers), 403);
      // The refusal is in the audit trail, as every 403 is.
      const denied = (
        await t
          .http()
          .get('/api/v1/audit-events')
          .query({ action: 'iam:ScimProvision', outcome: 'denied' })
          .set(adminAuth)
          .expect(200)
      ).body.items as { actor: { name: string }; target: string }[];
      expect(
        denied
          .filter((event) => event.actor.name === other.account.name)
          .map((event) => event.target)
          .sort(),
      ).toEqual(['iam:user:*', 'iam:user:*', 'iam:user:*']);
    });

    it('refuses a user’s session, an administrator’s too: SCIM is for service-account tokens', async () => {
      const user = await signedInUser(t);
      const boss = await signedInUser(t, 'boss');
      for (const cookie of [user.cookie, boss.cookie]) {
        expectScimError(await get('/Users', { Cookie: cookie }), 403);
        expectScimError(await post('/Users', oktaUser(), { Cookie: cookie }), 403);
      }
    });

    it('gives a token no more than it holds: no administrators, no takeover, no group that grants more', async () => {
      // Creating or changing an administrator (IAM_ADMINISTRATORS) is for an administrator's token.
      expectScimError(await post('/Users', { ...oktaUser('boss') }), 403);
      const bossId = (await t.http().get('/api/v1/users/boss').set(adminAuth).expect(200)).body.id as string;
      expectScimError(await patch(`/Users/${bossId}`, [{ op: 'replace', value: { active: false } }]), 403);
      expectScimError(await del(`/Users/${bossId}`), 403);
      expect((await apiUser('boss')).active).toBe(true);
      // A group whose role grants what the token does not hold: nobody joins it through SCIM.
      const powerful = await createGroup(t, uniqueName('g'), { roles: [await createRole(t, [allow('*', '*')])] });
      const powerfulId = (
        await get(`/Groups?filter=${encodeURIComponent(`displayName eq "${powerful.name}"`)}`).expect(200)
      ).body.Resources[0].id as string;
      const user = await createScimUser();
      expectScimError(
        await patch(`/Groups/${powerfulId}`, [{ op: 'add', path: 'members', value: [{ value: user.id }] }]),
        403,
      );
      expect((await apiUser(user.userName)).groups).toEqual([]);
      // A user who holds more than the token (through that group) is not the token's to change.
      await t
        .http()
        .put(`/api/v1/users/${encodeURIComponent(user.userName)}/groups`)
        .set(adminAuth)
        .send({ add_to_groups: [powerful.name] })
        .expect(200);
      expectScimError(await patch(`/Users/${user.id}`, [{ op: 'replace', path: 'active', value: false }]), 403);
      expectScimError(await del(`/Users/${user.id}`), 403);
      expect((await apiUser(user.userName)).active).toBe(true);
    });

    it('shows and provisions only the users and groups the token’s grant names', async () => {
      const prefix = uniqueName('dept');
      const narrow = await callerWithPolicy(t, [
        allow('iam:ScimProvision', ['iam:user:*', 'iam:group:*']),
        { effect: 'deny', action: ['iam:ScimProvision'], resource: [`iam:user:${prefix}-*`] },
      ]);
      const hidden = await createScimUser(oktaUser(`${prefix}-hidden`));
      const filter = encodeURIComponent(`userName eq "${prefix}-hidden"`);
      expect((await get(`/Users?filter=${filter}`, narrow.headers).expect(200)).body.totalResults).toBe(0);
      expectScimError(await get(`/Users/${hidden.id}`, narrow.headers), 404, 'noTarget');
      const all = (await get('/Users?count=200', narrow.headers).expect(200)).body;
      expect(all.totalResults).toBeLessThanOrEqual(200);
      expect(all.Resources.length).toBe(all.totalResults);
      expect(all.Resources.map((r: { id: string }) => r.id)).not.toContain(hidden.id);
      const everyone = (await get('/Users?count=200').expect(200)).body;
      expect(everyone.Resources.map((r: { id: string }) => r.id)).toContain(hidden.id);
      expect(everyone.totalResults).toBe(all.totalResults + 1);
      expectScimError(
        await patch(`/Users/${hidden.id}`, [{ op: 'replace', path: 'active', value: false }], narrow.headers),
        404,
      );
      expectScimError(await post('/Users', oktaUser(`${prefix}-new`), narrow.headers), 403);
    });
  });

  describe('Users, as Okta’s validator walks them', () => {
    it('creates, reads, finds by userName and externalId, replaces, deactivates, reactivates and deletes', async () => {
      const body = oktaUser();
      const res = await post('/Users', body).expect(201);
      const user = res.body;
      expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
      expect(res.headers.location).toBe(user.meta.location);
      expect(res.headers.etag).toBe(user.meta.version);
      expect(user).toEqual({
        schemas: [USER],
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        externalId: body.externalId,
        userName: body.userName,
        displayName: 'Ada Lovelace',
        name: { formatted: 'Ada Lovelace' },
        emails: [{ value: body.userName, type: 'work', primary: true }],
        active: true,
        groups: [],
        meta: {
          resourceType: 'User',
          created: expect.any(String),
          lastModified: expect.any(String),
          location: expect.stringMatching(new RegExp(`/scim/v2/Users/${user.id as string}$`)),
          version: expect.stringMatching(/^W\/".+"$/),
        },
      });
      expect(user).not.toHaveProperty('password');
      // The IAM API shows what SCIM stored.
      expect(await apiUser(body.userName)).toMatchObject({
        display_name: 'Ada Lovelace',
        active: true,
        profile: { full_name: 'Ada Lovelace', email_address: body.userName },
      });

      expect((await get(`/Users/${user.id}`).expect(200)).body).toEqual(user);
      const byName = await get(
        `/Users?filter=${encodeURIComponent(`userName eq "${body.userName.toUpperCase()}"`)}&startIndex=1&count=100`,
      ).expect(200);
      expect(byName.body).toEqual({
        schemas: [LIST],
        totalResults: 1,
        startIndex: 1,
        itemsPerPage: 1,
        Resources: [user],
      });
      const byExternalId = await get(
        `/Users?filter=${encodeURIComponent(`externalId eq "${body.externalId}"`)}`,
      ).expect(200);
      expect(byExternalId.body.Resources.map((r: { id: string }) => r.id)).toEqual([user.id]);
      const none = await get(`/Users?filter=${encodeURIComponent(`userName eq "${uniqueName('nobody')}"`)}`).expect(
        200,
      );
      expect(none.body).toEqual({ schemas: [LIST], totalResults: 0, startIndex: 1, itemsPerPage: 0, Resources: [] });

      expectScimError(await post('/Users', body), 409, 'uniqueness');
      expectScimError(await post('/Users', { ...body, userName: body.userName.toUpperCase() }), 409, 'uniqueness');
      expectScimError(await get(`/Users/${randomUUID()}`), 404, 'noTarget');
      expectScimError(await get('/Users/not-an-id'), 404, 'noTarget');

      const replaced = await put(`/Users/${user.id}`, {
        ...body,
        name: { givenName: 'Augusta', familyName: 'King' },
        displayName: 'Augusta King',
        emails: [{ primary: true, value: 'augusta@example.com', type: 'work' }],
      }).expect(200);
      expect(replaced.body).toMatchObject({
        id: user.id,
        displayName: 'Augusta King',
        name: { formatted: 'Augusta King' },
        emails: [{ value: 'augusta@example.com', primary: true }],
        active: true,
      });
      expect(replaced.body.meta.version).not.toBe(user.meta.version);
      expect(replaced.body.meta.created).toBe(user.meta.created);

      const deactivated = await patch(`/Users/${user.id}`, [{ op: 'replace', value: { active: false } }]).expect(200);
      expect(deactivated.body.active).toBe(false);
      expect((await apiUser(body.userName)).active).toBe(false);
      // Still listed, with active false.
      expect(
        (await get(`/Users?filter=${encodeURIComponent(`userName eq "${body.userName}"`)}`)).body.Resources[0].active,
      ).toBe(false);
      expect(
        (await patch(`/Users/${user.id}`, [{ op: 'replace', value: { active: true } }]).expect(200)).body.active,
      ).toBe(true);

      expectScimError(
        await put(`/Users/${user.id}`, { ...body, userName: `${uniqueName('renamed')}@example.com` }),
        400,
        'mutability',
      );
      await del(`/Users/${user.id}`).expect(204);
      expectScimError(await get(`/Users/${user.id}`), 404, 'noTarget');
      expectScimError(await del(`/Users/${user.id}`), 404, 'noTarget');
      await t
        .http()
        .get(`/api/v1/users/${encodeURIComponent(body.userName)}`)
        .set(adminAuth)
        .expect(404);
    });

    it('honours If-Match: 412 for another version, the current one or * goes through', async () => {
      const user = await createScimUser();
      const stale = user.meta.version;
      const changed = await patch(`/Users/${user.id}`, [{ op: 'replace', path: 'displayName', value: 'First' }])
        .set('If-Match', stale)
        .expect(200);
      expectScimError(
        await patch(`/Users/${user.id}`, [{ op: 'replace', path: 'displayName', value: 'Second' }]).set(
          'If-Match',
          stale,
        ),
        412,
      );
      expect((await get(`/Users/${user.id}`).expect(200)).body.displayName).toBe('First');
      await patch(`/Users/${user.id}`, [{ op: 'replace', path: 'displayName', value: 'Third' }])
        .set('If-Match', changed.body.meta.version)
        .expect(200);
      await patch(`/Users/${user.id}`, [{ op: 'replace', path: 'displayName', value: 'Fourth' }])
        .set('If-Match', '*')
        .expect(200);
      expectScimError(await del(`/Users/${user.id}`).set('If-Match', stale), 412);
      await del(`/Users/${user.id}`)
        .set('If-Match', (await get(`/Users/${user.id}`)).headers.etag)
        .expect(204);
    });

    it('refuses what is not a user: 400 with the scimType, nothing stored', async () => {
      const bad: [object, string][] = [
        [{ schemas: [USER] }, 'invalidValue'],
        [{ schemas: [USER], userName: '' }, 'invalidValue'],
        [{ schemas: [USER], userName: 'has space' }, 'invalidValue'],
        [{ schemas: [USER], userName: 'me' }, 'invalidValue'],
        [{ schemas: [USER], userName: 'x'.repeat(101) }, 'invalidValue'],
        [{ schemas: [USER], userName: uniqueName(), active: 'maybe' }, 'invalidValue'],
        [{ schemas: [USER], userName: uniqueName(), emails: [{ value: 'not-an-email' }] }, 'invalidValue'],
        [{ schemas: [USER], userName: uniqueName(), emails: 'x@example.com' }, 'invalidValue'],
        [{ schemas: [USER], userName: uniqueName(), displayName: 'x'.repeat(151) }, 'invalidValue'],
        [{ schemas: [USER], userName: uniqueName(), name: 'Ada' }, 'invalidValue'],
        [{ schemas: [GROUP], userName: uniqueName() }, 'invalidSyntax'],
        [[{ userName: uniqueName() }], 'invalidSyntax'],
      ];
      for (const [body, scimType] of bad) {
        expectScimError(await post('/Users', body), 400, scimType);
      }
      const admin = await post('/Users', { schemas: [USER], userName: 'admin' });
      expectScimError(admin, 409, 'uniqueness');
      const malformed = await request('post', '/Users').send('{"userName": ');
      expectScimError(malformed, 400);
      const notJson = await t
        .http()
        .post('/scim/v2/Users')
        .set(scim)
        .set('Content-Type', 'text/plain')
        .send('userName=x');
      expectScimError(notJson, 415);
    });

    it('binds a provisioned user at the first single sign-on', async () => {
      const user = await createScimUser();
      const session = await t.app.get(SsoSignInService).signIn({
        method: 'oidc',
        issuer: 'https://idp.example.com',
        subject: uniqueName('sub'),
        username: user.userName,
      });
      expect(session.user).toMatchObject({ id: user.id, name: user.userName, auth_methods: ['oidc'], active: true });
      await t.http().get('/api/v1/users/me').set('Cookie', `session_id=${session.sessionId}`).expect(200);
    });
  });

  describe('deactivation', () => {
    it('ends the sessions at once, refuses password and single sign-on with a 401, and reactivation undoes it', async () => {
      // Provisioned, then bound at a first single sign-on, then given a password: three ways in, two sessions.
      const user = await createScimUser();
      const name = user.userName;
      const sso = t.app.get(SsoSignInService);
      const identity = {
        method: 'oidc' as const,
        issuer: 'https://idp.example.com',
        subject: uniqueName('sub'),
        username: name,
      };
      await sso.signIn(identity);
      const password = 'correct horse battery';
      await t
        .http()
        .put(`/api/v1/users/${encodeURIComponent(name)}/password`)
        .set(adminAuth)
        .send({ password })
        .expect(204);
      const ssoSession = `session_id=${(await sso.signIn(identity)).sessionId}`; // setting the password ended the first
      const cookie = sessionCookieOf(
        await t.http().post('/api/v1/login').send({ username: name, password }).expect(200),
      );
      for (const session of [cookie, ssoSession]) {
        await t.http().get('/api/v1/users/me').set('Cookie', session).expect(200); // cached now
      }
      // Entra's form: a capitalised op and "False".
      await patch(`/Users/${user.id}`, [{ op: 'Replace', path: 'active', value: 'False' }]).expect(200);

      for (const session of [cookie, ssoSession]) {
        const refused = await t.http().get('/api/v1/users/me').set('Cookie', session);
        expect({ status: refused.status, type: refused.body.type }).toEqual({ status: 401, type: 'unauthorised' });
      }
      const login = await t.http().post('/api/v1/login').send({ username: name, password });
      expect({ status: login.status, title: login.body.title }).toEqual({
        status: 401,
        title: expect.stringMatching(/deactivated/),
      });
      const wrong = await t.http().post('/api/v1/login').send({ username: name, password: 'wrong password!' });
      expect({ status: wrong.status, title: wrong.body.title }).toEqual({
        status: 401,
        title: 'Invalid username or password',
      });
      const ssoError = await sso.signIn(identity).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(ssoError).toBeInstanceOf(SsoSignInRefused);
      expect({
        status: (ssoError as SsoSignInRefused).getStatus(),
        reason: (ssoError as SsoSignInRefused).reason,
      }).toEqual({
        status: 401,
        reason: 'deactivated',
      });
      expect(
        (
          await t
            .http()
            .get(`/api/v1/users/${encodeURIComponent(name)}/sessions`)
            .set(adminAuth)
            .expect(200)
        ).body.items,
      ).toEqual([]);
      const events = (
        await t
          .http()
          .get('/api/v1/audit-events')
          .query({ target: `iam:user:${name}` })
          .set(adminAuth)
          .expect(200)
      ).body.items as {
        action: string;
        actor: { name: string };
        outcome: string;
        reason: string | null;
        changes: object;
      }[];
      expect(events.find((e) => e.action === 'iam:UpdateUser')).toMatchObject({
        actor: { name: scimAccount.name },
        changes: { active: { before: true, after: false } },
      });
      expect(events.find((e) => e.action === 'iam:Login' && e.reason === 'deactivated')).toMatchObject({
        outcome: 'failed',
      });
      expect(events.find((e) => e.action === 'iam:CreateUser')).toMatchObject({ actor: { name: scimAccount.name } });

      await patch(`/Users/${user.id}`, [{ op: 'replace', path: 'active', value: true }]).expect(200);
      const again = await t.http().post('/api/v1/login').send({ username: name, password }).expect(200);
      await t.http().get('/api/v1/users/me').set('Cookie', sessionCookieOf(again)).expect(200);
      await t
        .http()
        .get('/api/v1/users/me')
        .set('Cookie', `session_id=${(await sso.signIn(identity)).sessionId}`)
        .expect(200);
    });
  });

  describe('Groups, as Okta’s and Entra’s validators walk them', () => {
    it('creates with members, reads, filters, adds and removes members, replaces, deletes', async () => {
      const [ada, bob] = [await createScimUser(), await createScimUser()];
      const displayName = `Okta Test Group ${uniqueName('')}`;
      const res = await post('/Groups', {
        schemas: [GROUP],
        displayName,
        members: [{ value: ada.id, display: 'Ada' }],
      }).expect(201);
      const group = res.body;
      expect(group).toEqual({
        schemas: [GROUP],
        id: expect.any(String),
        displayName,
        members: [
          { value: ada.id, display: 'Ada Lovelace', type: 'User', $ref: expect.stringContaining(`/Users/${ada.id}`) },
        ],
        meta: expect.objectContaining({ resourceType: 'Group', version: res.headers.etag }),
      });
      // The group's name is made from displayName by the documented rule; the original is its display_name.
      const name = (
        await t.http().get('/api/v1/groups').query({ q: 'okta-test-group' }).set(adminAuth).expect(200)
      ).body.items.find((g: { display_name: string }) => g.display_name === displayName).name as string;
      expect(name).toMatch(/^okta-test-group-[a-z0-9-]+-[0-9a-f]{8}$/);
      expect((await apiUser(ada.userName)).groups.map((g) => g.name)).toEqual([name]);
      expect((await get(`/Users/${ada.id}`)).body.groups).toEqual([
        { value: group.id, display: displayName, $ref: expect.stringContaining(`/Groups/${group.id}`) },
      ]);

      expect((await get(`/Groups/${group.id}`).expect(200)).body).toEqual(group);
      const found = await get(
        `/Groups?filter=${encodeURIComponent(`displayName eq "${displayName}"`)}&excludedAttributes=members`,
      ).expect(200);
      expect(found.body.totalResults).toBe(1);
      expect(found.body.Resources[0]).not.toHaveProperty('members');
      // Read without its members, the group claims no version (its ETag covers the members).
      expect(found.body.Resources[0].meta).not.toHaveProperty('version');
      expectScimError(await post('/Groups', { schemas: [GROUP], displayName }), 409, 'uniqueness');
      expectScimError(await get(`/Groups/${randomUUID()}`), 404, 'noTarget');

      await patch(`/Groups/${group.id}`, [{ op: 'add', path: 'members', value: [{ value: bob.id }] }]).expect(200);
      const members = async () =>
        ((await get(`/Groups/${group.id}`)).body.members as { value: string }[]).map((m) => m.value).sort();
      expect(await members()).toEqual([ada.id, bob.id].sort());
      // Okta removes by a value filter.
      await patch(`/Groups/${group.id}`, [{ op: 'remove', path: `members[value eq "${ada.id}"]` }]).expect(200);
      expect(await members()).toEqual([bob.id]);
      // Entra: a capitalised op, and remove with a value list.
      await patch(`/Groups/${group.id}`, [{ op: 'Add', path: 'members', value: [{ value: ada.id }] }]).expect(200);
      await patch(`/Groups/${group.id}`, [{ op: 'Remove', path: 'members', value: [{ value: bob.id }] }]).expect(200);
      expect(await members()).toEqual([ada.id]);
      // Okta renames with a replace of the whole group: displayName changes, the name stays.
      const renamed = `${displayName} Renamed`;
      await patch(`/Groups/${group.id}`, [{ op: 'replace', value: { id: group.id, displayName: renamed } }]).expect(
        200,
      );
      expect((await t.http().get(`/api/v1/groups/${name}`).set(adminAuth).expect(200)).body.display_name).toBe(renamed);
      const replaced = await put(`/Groups/${group.id}`, {
        schemas: [GROUP],
        displayName: renamed,
        members: [{ value: bob.id }],
      }).expect(200);
      expect(replaced.body.members.map((m: { value: string }) => m.value)).toEqual([bob.id]);
      expectScimError(
        await patch(`/Groups/${group.id}`, [{ op: 'add', path: 'members', value: [{ value: randomUUID() }] }]),
        400,
        'invalidValue',
      );
      expect(await members()).toEqual([bob.id]);
      await del(`/Groups/${group.id}`).expect(204);
      expectScimError(await get(`/Groups/${group.id}`), 404, 'noTarget');
      expect((await apiUser(bob.userName)).groups).toEqual([]);
    });

    it('maps displayNames to group names by a stable rule', async () => {
      const plain = `engineering-${uniqueName('x').toLowerCase()}`;
      const a = (await post('/Groups', { schemas: [GROUP], displayName: plain.toUpperCase() }).expect(201)).body;
      expect((await t.http().get(`/api/v1/groups/${plain}`).set(adminAuth).expect(200)).body).toMatchObject({
        id: a.id,
        display_name: plain.toUpperCase(),
        sso_name: '',
      });
      const accented = `Équipe Été ${uniqueName('')} !`;
      const b = (await post('/Groups', { schemas: [GROUP], displayName: accented }).expect(201)).body;
      const groups = (await t.http().get('/api/v1/groups').query({ q: 'equipe-ete' }).set(adminAuth).expect(200)).body
        .items as {
        id: string;
        name: string;
      }[];
      expect(groups.find((g) => g.id === b.id)?.name).toMatch(/^equipe-ete-[a-z0-9-]+-[0-9a-f]{8}$/);
    });
  });

  describe('filters, sorting, paging, attributes', () => {
    it('filters with every operator and sorts and pages the result', async () => {
      const prefix = uniqueName('list').toLowerCase();
      const made = [];
      for (const [suffix, active] of [
        ['c', true],
        ['a', true],
        ['b', false],
        ['d', true],
      ] as const) {
        made.push(
          await createScimUser({
            ...oktaUser(`${prefix}-${suffix}@example.com`),
            active,
            displayName: `List ${suffix}`,
          }),
        );
      }
      const names = async (filter: string, extra = '') =>
        (
          (await get(`/Users?filter=${encodeURIComponent(filter)}${extra}`).expect(200)).body.Resources as {
            userName: string;
          }[]
        )
          .map((r) => r.userName.slice(prefix.length + 1, prefix.length + 2))
          .sort();
      expect(await names(`userName sw "${prefix}"`)).toEqual(['a', 'b', 'c', 'd']);
      expect(await names(`userName sw "${prefix}" and active eq true`)).toEqual(['a', 'c', 'd']);
      expect(await names(`userName sw "${prefix}" and not (active eq true)`)).toEqual(['b']);
      expect(await names(`userName sw "${prefix}" and (displayName eq "List a" or displayName ew " d")`)).toEqual([
        'a',
        'd',
      ]);
      expect(await names(`userName sw "${prefix}" and displayName gt "List b"`)).toEqual(['c', 'd']);
      expect(await names(`userName sw "${prefix}" and displayName le "List b"`)).toEqual(['a', 'b']);
      expect(await names(`userName sw "${prefix}" and displayName ne "List b"`)).toEqual(['a', 'c', 'd']);
      expect(await names(`userName co "${prefix.slice(2)}-c@"`)).toEqual(['c']);
      expect(await names(`emails[type eq "work" and value sw "${prefix}-d"]`)).toEqual(['d']);
      expect(
        await names(`userName sw "${prefix}" and meta.created ge "2000-01-01T00:00:00Z" and externalId pr`),
      ).toEqual(['a', 'b', 'c', 'd']);
      expect(await names(`userName sw "${prefix}" and meta.lastModified lt "2000-01-01T00:00:00Z"`)).toEqual([]);

      const page = await get(
        `/Users?filter=${encodeURIComponent(`userName sw "${prefix}"`)}&sortBy=userName&sortOrder=descending&startIndex=2&count=2`,
      ).expect(200);
      expect(page.body).toMatchObject({ totalResults: 4, startIndex: 2, itemsPerPage: 2 });
      expect(page.body.Resources.map((r: { userName: string }) => r.userName)).toEqual([
        `${prefix}-c@example.com`,
        `${prefix}-b@example.com`,
      ]);
      const only = await get(
        `/Users?filter=${encodeURIComponent(`userName sw "${prefix}"`)}&sortBy=displayName&attributes=userName,name.formatted&count=1`,
      ).expect(200);
      expect(only.body.Resources).toEqual([
        { schemas: [USER], id: made[1].id, userName: `${prefix}-a@example.com`, name: { formatted: 'Ada Lovelace' } },
      ]);
      const without = await get(`/Users/${made[0].id}?excludedAttributes=emails,groups,meta,id`).expect(200);
      expect(Object.keys(without.body).sort()).toEqual([
        'active',
        'displayName',
        'externalId',
        'id',
        'name',
        'schemas',
        'userName',
      ]);
      expect((await get('/Users?count=0').expect(200)).body).toMatchObject({ itemsPerPage: 0, Resources: [] });
      const unpaged = (await get('/Users?startIndex=-5&count=3').expect(200)).body;
      expect(unpaged).toMatchObject({ startIndex: 1, itemsPerPage: 3 });
    });

    it('answers every malformed filter or parameter with a 400, never a 500', async () => {
      const filters = [
        'userName',
        'userName eq',
        'userName eq bob',
        'userName xx "bob"',
        'userName eq "bob" and',
        '(userName eq "bob"',
        'emails[type eq "work"',
        'userName eq "unterminated',
        'active gt true',
        'meta.created gt "not a date"',
        'urn:nope:userName eq "x"',
        '('.repeat(100) + 'userName eq "x"' + ')'.repeat(100),
        'x'.repeat(5000),
      ];
      for (const filter of filters) {
        for (const resource of ['/Users', '/Groups']) {
          expectScimError(await get(`${resource}?filter=${encodeURIComponent(filter)}`), 400, 'invalidFilter');
        }
      }
      for (const query of [
        'count=many',
        'startIndex=1.5',
        'sortBy=a.b.c',
        'sortOrder=up',
        'attributes=%%%',
        'filter=a%20pr&filter=b%20pr',
        'attributes=a&attributes=b',
      ]) {
        expectScimError(await get(`/Users?${query}`), 400);
      }
      const one = await createScimUser();
      const group = (await post('/Groups', { schemas: [GROUP], displayName: uniqueName('params') }).expect(201)).body;
      for (const query of [
        'attributes=a&attributes=b',
        'excludedAttributes=x&excludedAttributes=y',
        'attributes=a.b.c',
      ]) {
        expectScimError(await get(`/Users/${one.id}?${query}`), 400, 'invalidValue');
        expectScimError(await get(`/Groups/${group.id as string}?${query}`), 400, 'invalidValue');
      }
      // A value no row can hold (NUL) is no match, not a database error.
      const nul = await get(`/Users?filter=${encodeURIComponent('userName eq "a\\u0000b"')}`).expect(200);
      expect(nul.body.totalResults).toBe(0);
      const nulExternal = await get(`/Groups?filter=${encodeURIComponent('externalId eq "\\u0000"')}`).expect(200);
      expect(nulExternal.body.totalResults).toBe(0);
    });

    it('answers malformed PATCH operations with a 400 and changes nothing', async () => {
      const user = await createScimUser();
      const bodies: object[] = [
        {},
        { schemas: [PATCH] },
        { schemas: [PATCH], Operations: [] },
        { schemas: [PATCH], Operations: [{ op: 'move', path: 'active', value: false }] },
        { schemas: [PATCH], Operations: [{ op: 'remove' }] },
        { schemas: [PATCH], Operations: [{ op: 'replace', path: 'active' }] },
        { schemas: [PATCH], Operations: [{ op: 'replace', path: 'emails[type eq', value: 'x' }] },
        { schemas: [PATCH], Operations: [{ op: 'replace', path: 'a.b.c', value: 'x' }] },
        { schemas: [PATCH], Operations: [{ op: 'replace', value: 'not an object' }] },
        { schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: 'perhaps' }] },
        { schemas: [PATCH], Operations: ['replace'] },
        {
          schemas: [PATCH],
          Operations: [
            { op: 'replace', path: 'active', value: false },
            { op: 'replace', path: 'userName', value: 42 },
          ],
        },
      ];
      for (const body of bodies) {
        const res = await request('patch', `/Users/${user.id}`).send(body);
        expectScimError(res, 400);
      }
      expect((await get(`/Users/${user.id}`).expect(200)).body).toEqual(user);
    });

    it('adds a work e-mail as Entra does, and refuses Entra’s quirks when lenient mode is off', async () => {
      const user = await createScimUser({
        schemas: [USER],
        userName: `${uniqueName('entra')}@example.com`,
        externalId: randomUUID(),
      });
      // Entra's ?aadOptscim062020 flag on the tenant URL reaches every request: ignored.
      const found = await get(
        `/Users?aadOptscim062020&filter=${encodeURIComponent(`userName eq "${user.userName}"`)}`,
      ).expect(200);
      expect(found.body.totalResults).toBe(1);
      // A PatchOp without schemas (lenient).
      await request('patch', `/Users/${user.id}?aadOptscim062020`)
        .send({ Operations: [{ op: 'Replace', path: 'externalId', value: 'entra-object-id' }] })
        .expect(200);
      await patch(`/Users/${user.id}`, [
        { op: 'Add', path: 'emails[type eq "work"].value', value: 'entra@example.com' },
        { op: 'Replace', path: 'displayName', value: 'Entra User' },
        { op: 'Add', path: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department', value: 'R&D' },
      ]).expect(200);
      const after = (await get(`/Users/${user.id}`)).body;
      expect(after).toMatchObject({
        externalId: 'entra-object-id',
        displayName: 'Entra User',
        emails: [{ value: 'entra@example.com', type: 'work', primary: true }],
      });

      const config = t.app.get<SsoConfig>(IAM_SSO_CONFIG);
      config.scimLenient = false;
      try {
        expectScimError(
          await patch(`/Users/${user.id}`, [{ op: 'Replace', path: 'active', value: false }]),
          400,
          'invalidSyntax',
        );
        expectScimError(
          await patch(`/Users/${user.id}`, [{ op: 'replace', path: 'active', value: 'False' }]),
          400,
          'invalidValue',
        );
        expectScimError(
          await request('patch', `/Users/${user.id}`).send({
            Operations: [{ op: 'replace', path: 'active', value: true }],
          }),
          400,
          'invalidSyntax',
        );
        const group = (
          await post('/Groups', {
            schemas: [GROUP],
            displayName: uniqueName('strict'),
            members: [{ value: user.id }],
          }).expect(201)
        ).body;
        expectScimError(
          await patch(`/Groups/${group.id}`, [{ op: 'remove', path: 'members', value: [{ value: user.id }] }]),
          400,
          'invalidValue',
        );
        await patch(`/Groups/${group.id}`, [{ op: 'remove', path: `members[value eq "${user.id}"]` }]).expect(200);
        await patch(`/Users/${user.id}`, [{ op: 'replace', path: 'active', value: false }]).expect(200);
      } finally {
        config.scimLenient = true;
      }
    });
  });
});
