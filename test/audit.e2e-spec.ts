import { getDataSourceToken } from '@nestjs/typeorm';
import type { Test } from 'supertest';
import type { DataSource } from 'typeorm';
import { AuditRetentionService } from '../src/audit/audit-retention.service.js';
import { uuidv7 } from '../src/audit/audit.service.js';
import { AuditEvent } from '../src/audit/entities/audit-event.entity.js';
import { hashSecret } from '../src/auth/tokens.js';
import { resolveSamlSettings } from '../src/config/saml-settings.js';
import { IAM_DATA_SOURCE } from '../src/database/iam-data-source.js';
import { ADMIN_TOKEN, createTestApp, TEST_DATABASES, type TestApp } from './utils/create-app.js';
import {
  adminAuth,
  callerWithPolicy,
  createGroup,
  createRole,
  createServiceAccount,
  createUser,
  expectError,
  sessionCookieOf,
  signedInUser,
  uniqueName,
} from './utils/fixtures.js';
import { iamRoutes } from './utils/routes.js';
import { SAML_ACS_URL, SAML_IDP_SSO_URL, SAML_SP_ENTITY_ID, TestSamlIdp } from './utils/saml-idp.js';

/** Every line the apps of this file log (one pino-http instance per test file: see createTestApp). */
const lines: string[] = [];
const logDestination = { write: (line: string) => void lines.push(line) };

const LOCKOUT_THRESHOLD = 3;
const USER_AGENT = 'audit-test/1.0 (table)';

interface ApiEvent {
  id: string;
  time: string;
  actor: { kind: string; name: string; id: string } | 'anonymous';
  action: string;
  target: string;
  outcome: string;
  reason: string | null;
  request_id: string | null;
  client_address: string | null;
  user_agent: string | null;
  changes: Record<string, { before: unknown; after: unknown }>;
}

/** A mutating route's case: what it needs, the request (not sent yet), and what its one event must say. */
interface RouteCase {
  action: string;
  status: number;
  prepare: () => Promise<{
    request: Test;
    target: string;
    /** The acting user, when not the `admin` service account. */
    actor?: { kind: 'user'; name: string };
    /** The fields the event's `changes` must hold, exactly. */
    changes: string[];
  }>;
}

describe.each(TEST_DATABASES)('audit trail (%s)', (kind) => {
  let t: TestApp;
  let dataSource: DataSource;
  let admin: { kind: string; name: string; id: string };
  /** Every secret sent or received by this file's requests: none may appear in any event. */
  const secrets = new Set<string>([ADMIN_TOKEN, hashSecret(ADMIN_TOKEN)]);

  let samlIdp: TestSamlIdp;

  beforeAll(async () => {
    samlIdp = await TestSamlIdp.create();
    const saml = resolveSamlSettings({
      entityId: SAML_SP_ENTITY_ID,
      acsUrl: SAML_ACS_URL,
      idpSsoUrl: SAML_IDP_SSO_URL,
      idpCert: samlIdp.key.cert,
    }).config;
    t = await createTestApp(kind, {
      app: { logLevel: 'info' },
      logDestination,
      auth: { lockoutThreshold: LOCKOUT_THRESHOLD },
      audit: { log: true },
      sso: { saml },
    });
    dataSource = t.app.get<DataSource>(getDataSourceToken(IAM_DATA_SOURCE));
    const found = await t.http().get('/api/v1/service-accounts/admin').set(adminAuth).expect(200);
    admin = { kind: 'service_account', name: 'admin', id: found.body.id as string };
  });
  afterAll(() => t.close());

  const api = (path: string) => `/api/v1${path}`;
  const rowsOf = (requestId: string) => dataSource.getRepository(AuditEvent).find({ where: { requestId } });
  const eventOf = async (id: string) =>
    (
      await t
        .http()
        .get(api(`/audit-events/${id}`))
        .set(adminAuth)
        .expect(200)
    ).body as ApiEvent;
  /** The one event of a request, through the API. */
  const onlyEventOf = async (requestId: string) => {
    const rows = await rowsOf(requestId);
    expect({ requestId, events: rows.length }).toEqual({ requestId, events: 1 });
    return eventOf(rows[0].id);
  };
  const list = async (query: Record<string, string | number>, headers: Record<string, string> = adminAuth) =>
    (await t.http().get(api('/audit-events')).query(query).set(headers).expect(200)).body as {
      items: ApiEvent[];
      next_page_token?: string;
    };
  /** Password hashes and token digests in the database now (they must never reach an event either). */
  const collectStoredSecrets = async () => {
    const rows: { secret: string | null }[] = [
      ...(await dataSource.query('SELECT password_hash AS secret FROM users')),
      ...(await dataSource.query('SELECT token_hash AS secret FROM service_accounts')),
      ...(await dataSource.query('SELECT token_hash AS secret FROM sessions')),
    ];
    rows.forEach((row) => row.secret && secrets.add(row.secret));
  };
  const rememberToken = (token: string) => {
    secrets.add(token);
    secrets.add(hashSecret(token));
  };
  const rememberCookie = (cookie: string) => rememberToken(cookie.split('=')[1]);
  const signedIn = async (password = `pw ${uniqueName('secret')}`) => {
    secrets.add(password);
    const user = await signedInUser(t, uniqueName(), password);
    rememberCookie(user.cookie);
    return user;
  };
  /** The public id of the session a cookie carries (GET /users/me/sessions: the one marked current). */
  const sessionIdOf = async (cookie: string): Promise<string> => {
    const res = await t.http().get(api('/users/me/sessions')).set('Cookie', cookie).expect(200);
    return (res.body.items as { id: string; current: boolean }[]).find((session) => session.current)!.id;
  };
  const lockedUser = async () => {
    const user = await signedIn();
    for (let i = 0; i < LOCKOUT_THRESHOLD; i++) {
      await t.http().post(api('/login')).send({ username: user.name, password: 'wrong password!' }).expect(401);
    }
    return user;
  };

  const SCIM_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
  const SCIM_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
  const SCIM_PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
  const scim = (method: 'post' | 'put' | 'patch' | 'delete', path: string) =>
    t.http()[method](`/scim/v2${path}`).set(adminAuth).set('Content-Type', 'application/scim+json');
  const scimUser = async () => {
    const userName = uniqueName();
    const res = await scim('post', '/Users')
      .send({ schemas: [SCIM_USER], userName })
      .expect(201);
    return { id: res.body.id as string, userName };
  };
  /** A group made through SCIM, with a displayName that is its name. */
  const scimGroup = async () => {
    const name = uniqueName('g');
    const res = await scim('post', '/Groups')
      .send({ schemas: [SCIM_GROUP], displayName: name })
      .expect(201);
    return { id: res.body.id as string, name };
  };

  // ----------------------------------------------------------------------------------------------------------
  // Every mutating route, by "METHOD /path" as the controllers declare it.

  /** A SAML sign-in started for `name`, and the provider's answer POSTed to the ACS (not sent yet). */
  const samlAnswer = async (name: string): Promise<{ request: Test }> => {
    const started = await t.http().get(api('/login/saml')).expect(302);
    const flow = ([] as string[])
      .concat(started.headers['set-cookie'] ?? [])
      .find((cookie) => cookie.startsWith('iam_saml_flow='))!
      .split(';')[0];
    const requestId = TestSamlIdp.requestIdOf(new URL(started.headers.location));
    const { samlResponse } = samlIdp.respond({ nameId: name, inResponseTo: requestId });
    return {
      request: t
        .http()
        .post(api('/login/saml/acs'))
        .set('Cookie', flow)
        .type('form')
        .send({ SAMLResponse: samlResponse }),
    };
  };

  const table: Record<string, RouteCase> = {
    'POST /users': {
      action: 'iam:CreateUser',
      status: 201,
      prepare: () => {
        const name = uniqueName();
        return Promise.resolve({
          request: t.http().post(api('/users')).set(adminAuth).send({ name, display_name: 'New' }),
          target: `iam:user:${name}`,
          changes: ['display_name', 'metadata', 'name'],
        });
      },
    },
    'PATCH /users/:name': {
      action: 'iam:UpdateUser',
      status: 200,
      prepare: async () => {
        const { name } = await createUser(t);
        return {
          request: t
            .http()
            .patch(api(`/users/${name}`))
            .set(adminAuth)
            .send({ display_name: 'Changed' }),
          target: `iam:user:${name}`,
          changes: ['display_name'],
        };
      },
    },
    'DELETE /users/:name': {
      action: 'iam:DeleteUser',
      status: 204,
      prepare: async () => {
        const { name } = await createUser(t);
        return {
          request: t
            .http()
            .delete(api(`/users/${name}`))
            .set(adminAuth),
          target: `iam:user:${name}`,
          changes: ['display_name', 'metadata', 'name'],
        };
      },
    },
    'DELETE /users/:name/lockout': {
      action: 'iam:UnlockUser',
      status: 204,
      prepare: async () => {
        const { name } = await lockedUser();
        return {
          request: t
            .http()
            .delete(api(`/users/${name}/lockout`))
            .set(adminAuth),
          target: `iam:user:${name}`,
          changes: ['locked_until'],
        };
      },
    },
    'PUT /users/:name/groups': {
      action: 'iam:SetUserGroups',
      status: 200,
      prepare: async () => {
        const { name } = await createUser(t);
        const group = await createGroup(t);
        return {
          request: t
            .http()
            .put(api(`/users/${name}/groups`))
            .set(adminAuth)
            .send({ add_to_groups: [group.name] }),
          target: `iam:user:${name}`,
          changes: ['groups'],
        };
      },
    },
    'PATCH /users/:name/profile': {
      action: 'iam:UpdateUserProfile',
      status: 200,
      prepare: async () => {
        const { name } = await createUser(t);
        return {
          request: t
            .http()
            .patch(api(`/users/${name}/profile`))
            .set(adminAuth)
            .send({ full_name: 'Full Name' }),
          target: `iam:user:${name}`,
          changes: ['full_name'],
        };
      },
    },
    'PUT /users/:name/password': {
      action: 'iam:SetUserPassword',
      status: 204,
      prepare: async () => {
        const { name } = await createUser(t);
        const password = `set ${uniqueName('secret')}`;
        secrets.add(password);
        return {
          request: t
            .http()
            .put(api(`/users/${name}/password`))
            .set(adminAuth)
            .send({ password }),
          target: `iam:user:${name}`,
          changes: ['password'],
        };
      },
    },
    'PUT /users/me/password': {
      action: 'iam:ChangePassword',
      status: 204,
      prepare: async () => {
        const user = await signedIn();
        const password = `changed ${uniqueName('secret')}`;
        secrets.add(password);
        return {
          request: t
            .http()
            .put(api('/users/me/password'))
            .set('Cookie', user.cookie)
            .send({ current_password: user.password, new_password: password }),
          target: `iam:user:${user.name}`,
          actor: { kind: 'user', name: user.name },
          changes: ['password'],
        };
      },
    },
    'PATCH /users/me/settings': {
      action: 'iam:UpdateUserSettings',
      status: 200,
      prepare: async () => {
        const user = await signedIn();
        return {
          request: t.http().patch(api('/users/me/settings')).set('Cookie', user.cookie).send({ theme: 'dark' }),
          target: `iam:user:${user.name}`,
          actor: { kind: 'user', name: user.name },
          changes: ['theme'],
        };
      },
    },
    'POST /login': {
      action: 'iam:Login',
      status: 200,
      prepare: async () => {
        const user = await signedIn();
        return {
          request: t.http().post(api('/login')).send({ username: user.name, password: user.password }),
          target: `iam:user:${user.name}`,
          actor: { kind: 'user', name: user.name },
          changes: [],
        };
      },
    },
    'POST /login/saml/acs': {
      action: 'iam:Login',
      status: 303,
      prepare: async () => {
        const name = uniqueName('saml');
        // The first sign-in creates the user (iam:CreateUser too); the case is the next one: one iam:Login.
        const first = await samlAnswer(name);
        expect((await first.request).status).toBe(303);
        return {
          request: (await samlAnswer(name)).request,
          target: `iam:user:${name}`,
          actor: { kind: 'user', name },
          changes: ['auth_method'],
        };
      },
    },
    'POST /logout': {
      action: 'iam:Logout',
      status: 204,
      prepare: async () => {
        const user = await signedIn();
        return {
          request: t.http().post(api('/logout')).set('Cookie', user.cookie),
          target: `iam:user:${user.name}`,
          actor: { kind: 'user', name: user.name },
          changes: [],
        };
      },
    },
    'DELETE /users/me/sessions': {
      action: 'iam:EndUserSessions',
      status: 204,
      prepare: async () => {
        const user = await signedIn();
        return {
          request: t.http().delete(api('/users/me/sessions')).set('Cookie', user.cookie),
          target: `iam:user:${user.name}`,
          actor: { kind: 'user', name: user.name },
          changes: ['sessions'],
        };
      },
    },
    'DELETE /users/me/sessions/:id': {
      action: 'iam:EndUserSessions',
      status: 204,
      prepare: async () => {
        const user = await signedIn();
        const id = await sessionIdOf(user.cookie);
        return {
          request: t
            .http()
            .delete(api(`/users/me/sessions/${id}`))
            .set('Cookie', user.cookie),
          target: `iam:user:${user.name}`,
          actor: { kind: 'user', name: user.name },
          changes: ['session'],
        };
      },
    },
    'DELETE /users/:name/sessions': {
      action: 'iam:EndUserSessions',
      status: 204,
      prepare: async () => {
        const user = await signedIn();
        return {
          request: t
            .http()
            .delete(api(`/users/${user.name}/sessions`))
            .set(adminAuth),
          target: `iam:user:${user.name}`,
          changes: ['sessions'],
        };
      },
    },
    'DELETE /users/:name/sessions/:id': {
      action: 'iam:EndUserSessions',
      status: 204,
      prepare: async () => {
        const user = await signedIn();
        const id = await sessionIdOf(user.cookie);
        return {
          request: t
            .http()
            .delete(api(`/users/${user.name}/sessions/${id}`))
            .set(adminAuth),
          target: `iam:user:${user.name}`,
          changes: ['session'],
        };
      },
    },
    'POST /groups': {
      action: 'iam:CreateGroup',
      status: 201,
      prepare: async () => {
        const name = uniqueName('g');
        const member = await createUser(t);
        const role = await createRole(t, []);
        return {
          request: t
            .http()
            .post(api('/groups'))
            .set(adminAuth)
            .send({ name, members: [member.name], roles: [role] }),
          target: `iam:group:${name}`,
          changes: ['description', 'display_name', 'members', 'metadata', 'name', 'roles', 'sso_name'],
        };
      },
    },
    'PATCH /groups/:name': {
      action: 'iam:UpdateGroup',
      status: 200,
      prepare: async () => {
        const group = await createGroup(t);
        const member = await createUser(t);
        return {
          request: t
            .http()
            .patch(api(`/groups/${group.name}`))
            .set(adminAuth)
            .send({ description: 'changed', add_members: [member.name] }),
          target: `iam:group:${group.name}`,
          changes: ['description', 'members'],
        };
      },
    },
    'DELETE /groups/:name': {
      action: 'iam:DeleteGroup',
      status: 204,
      prepare: async () => {
        const group = await createGroup(t);
        return {
          request: t
            .http()
            .delete(api(`/groups/${group.name}`))
            .set(adminAuth),
          target: `iam:group:${group.name}`,
          changes: ['description', 'display_name', 'name'],
        };
      },
    },
    'POST /scim/v2/Users': {
      action: 'iam:CreateUser',
      status: 201,
      prepare: () => {
        const name = uniqueName();
        return Promise.resolve({
          request: scim('post', '/Users').send({
            schemas: [SCIM_USER],
            userName: name,
            externalId: 'ext-1',
            name: { formatted: 'Full Name' },
          }),
          target: `iam:user:${name}`,
          changes: ['active', 'display_name', 'external_id', 'full_name', 'name'],
        });
      },
    },
    'PUT /scim/v2/Users/:id': {
      action: 'iam:UpdateUser',
      status: 200,
      prepare: async () => {
        const user = await scimUser();
        return {
          request: scim('put', `/Users/${user.id}`).send({
            schemas: [SCIM_USER],
            userName: user.userName,
            displayName: 'Put',
          }),
          target: `iam:user:${user.userName}`,
          changes: ['display_name'],
        };
      },
    },
    'PATCH /scim/v2/Users/:id': {
      action: 'iam:UpdateUser',
      status: 200,
      prepare: async () => {
        const user = await scimUser();
        return {
          request: scim('patch', `/Users/${user.id}`).send({
            schemas: [SCIM_PATCH],
            Operations: [{ op: 'replace', value: { active: false, externalId: 'ext-2' } }],
          }),
          target: `iam:user:${user.userName}`,
          changes: ['active', 'external_id'],
        };
      },
    },
    'DELETE /scim/v2/Users/:id': {
      action: 'iam:DeleteUser',
      status: 204,
      prepare: async () => {
        const user = await scimUser();
        return {
          request: scim('delete', `/Users/${user.id}`),
          target: `iam:user:${user.userName}`,
          changes: ['display_name', 'name'],
        };
      },
    },
    'POST /scim/v2/Groups': {
      action: 'iam:CreateGroup',
      status: 201,
      prepare: async () => {
        const name = uniqueName('g');
        const user = await scimUser();
        return {
          request: scim('post', '/Groups').send({
            schemas: [SCIM_GROUP],
            displayName: name,
            members: [{ value: user.id }],
          }),
          target: `iam:group:${name}`,
          changes: ['display_name', 'members', 'name'],
        };
      },
    },
    'PUT /scim/v2/Groups/:id': {
      action: 'iam:UpdateGroup',
      status: 200,
      prepare: async () => {
        const group = await scimGroup();
        return {
          request: scim('put', `/Groups/${group.id}`).send({
            schemas: [SCIM_GROUP],
            displayName: 'Renamed',
            externalId: 'e',
          }),
          target: `iam:group:${group.name}`,
          changes: ['display_name', 'external_id'],
        };
      },
    },
    'PATCH /scim/v2/Groups/:id': {
      action: 'iam:UpdateGroup',
      status: 200,
      prepare: async () => {
        const group = await scimGroup();
        const user = await scimUser();
        return {
          request: scim('patch', `/Groups/${group.id}`).send({
            schemas: [SCIM_PATCH],
            Operations: [{ op: 'add', path: 'members', value: [{ value: user.id }] }],
          }),
          target: `iam:group:${group.name}`,
          changes: ['members'],
        };
      },
    },
    'DELETE /scim/v2/Groups/:id': {
      action: 'iam:DeleteGroup',
      status: 204,
      prepare: async () => {
        const group = await scimGroup();
        return {
          request: scim('delete', `/Groups/${group.id}`),
          target: `iam:group:${group.name}`,
          changes: ['display_name', 'name'],
        };
      },
    },
    'POST /roles': {
      action: 'iam:CreateRole',
      status: 201,
      prepare: () => {
        const name = uniqueName('r');
        return Promise.resolve({
          request: t
            .http()
            .post(api('/roles'))
            .set(adminAuth)
            .send({ name, policy: [{ effect: 'allow', action: 'iam:GetUser', resource: 'iam:user:*' }] }),
          target: `iam:role:${name}`,
          changes: ['description', 'display_name', 'metadata', 'name', 'policy'],
        });
      },
    },
    'PATCH /roles/:name': {
      action: 'iam:UpdateRole',
      status: 200,
      prepare: async () => {
        const role = await createRole(t, []);
        return {
          request: t
            .http()
            .patch(api(`/roles/${role}`))
            .set(adminAuth)
            .send({ policy: [{ effect: 'deny', action: 'iam:DeleteUser', resource: 'iam:user:*' }] }),
          target: `iam:role:${role}`,
          changes: ['policy'],
        };
      },
    },
    'POST /roles/:name/policy': {
      action: 'iam:UpdateRole',
      status: 200,
      prepare: async () => {
        const role = await createRole(t, []);
        return {
          request: t
            .http()
            .post(api(`/roles/${role}/policy`))
            .set(adminAuth)
            .send({ effect: 'allow', action: 'iam:GetGroup', resource: 'iam:group:*' }),
          target: `iam:role:${role}`,
          changes: ['policy'],
        };
      },
    },
    'DELETE /roles/:name': {
      action: 'iam:DeleteRole',
      status: 204,
      prepare: async () => {
        const role = await createRole(t, [{ effect: 'allow', action: 'iam:GetUser', resource: '*' }]);
        return {
          request: t
            .http()
            .delete(api(`/roles/${role}`))
            .set(adminAuth),
          target: `iam:role:${role}`,
          changes: ['description', 'display_name', 'metadata', 'name', 'policy'],
        };
      },
    },
    'POST /service-accounts': {
      action: 'iam:CreateServiceAccount',
      status: 201,
      prepare: () => {
        const name = uniqueName('sa');
        return Promise.resolve({
          request: t
            .http()
            .post(api('/service-accounts'))
            .set(adminAuth)
            .send({ name, token_expires_at: '2099-01-01T00:00:00Z' }),
          target: `iam:service-account:${name}`,
          changes: ['description', 'display_name', 'metadata', 'name', 'token', 'token_expires_at'],
        });
      },
    },
    'PATCH /service-accounts/:name': {
      action: 'iam:UpdateServiceAccount',
      status: 200,
      prepare: async () => {
        const account = await createServiceAccount(t);
        rememberToken(account.token);
        return {
          request: t
            .http()
            .patch(api(`/service-accounts/${account.name}`))
            .set(adminAuth)
            .send({ description: 'changed', metadata: { team: 'ops' } }),
          target: `iam:service-account:${account.name}`,
          changes: ['description', 'metadata'],
        };
      },
    },
    'DELETE /service-accounts/:name': {
      action: 'iam:DeleteServiceAccount',
      status: 204,
      prepare: async () => {
        const account = await createServiceAccount(t);
        rememberToken(account.token);
        return {
          request: t
            .http()
            .delete(api(`/service-accounts/${account.name}`))
            .set(adminAuth),
          target: `iam:service-account:${account.name}`,
          changes: ['description', 'display_name', 'metadata', 'name'],
        };
      },
    },
    'PUT /service-accounts/:name/groups': {
      action: 'iam:SetServiceAccountGroups',
      status: 200,
      prepare: async () => {
        const account = await createServiceAccount(t);
        rememberToken(account.token);
        const group = await createGroup(t);
        return {
          request: t
            .http()
            .put(api(`/service-accounts/${account.name}/groups`))
            .set(adminAuth)
            .send({ set_groups: [group.name] }),
          target: `iam:service-account:${account.name}`,
          changes: ['groups'],
        };
      },
    },
    'POST /service-accounts/:name/renew-token': {
      action: 'iam:RenewServiceAccountToken',
      status: 200,
      prepare: async () => {
        const account = await createServiceAccount(t);
        rememberToken(account.token);
        return {
          request: t
            .http()
            .post(api(`/service-accounts/${account.name}/renew-token`))
            .set(adminAuth)
            .send({ token_expires_at: '2098-01-01T00:00:00Z' }),
          target: `iam:service-account:${account.name}`,
          changes: ['token', 'token_expires_at'],
        };
      },
    },
  };

  it('has a case for every mutating route of the IAM, and for nothing else', () => {
    const mutating = iamRoutes()
      .filter((route) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(route.method))
      .map((route) => `${route.method} ${route.path}`)
      .sort();
    expect(mutating.length).toBeGreaterThan(20);
    expect(Object.keys(table).sort()).toEqual(mutating);
  });

  it.each(Object.keys(table))('records %s as exactly one event, with the right fields', async (route) => {
    const routeCase = table[route];
    const { request, target, actor, changes } = await routeCase.prepare();
    const requestId = `audit-table-${uniqueName('req')}`;
    const res = await request.set('X-Request-Id', requestId).set('User-Agent', USER_AGENT);
    expect({ route, status: res.status, body: res.status >= 400 ? res.body : undefined }).toEqual({
      route,
      status: routeCase.status,
      body: undefined,
    });
    if (typeof res.body?.token === 'string') {
      rememberToken(res.body.token as string);
    }
    if (res.headers['set-cookie'] && route === 'POST /login') {
      rememberCookie(sessionCookieOf(res));
    }
    const event = await onlyEventOf(requestId);
    const actorName = actor?.name;
    expect(event).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      time: expect.any(String),
      actor: actorName
        ? { kind: 'user', name: actorName, id: expect.any(String) }
        : { kind: admin.kind, name: admin.name, id: admin.id },
      action: routeCase.action,
      target: target.toLowerCase(),
      outcome: 'success',
      reason: null,
      request_id: requestId,
      client_address: expect.stringMatching(/127\.0\.0\.1|::1/),
      user_agent: USER_AGENT,
      changes: expect.any(Object),
    });
    expect(Math.abs(new Date(event.time).getTime() - Date.now())).toBeLessThan(60_000);
    expect({ route, changes: Object.keys(event.changes).sort() }).toEqual({ route, changes: changes.sort() });
    for (const [field, change] of Object.entries(event.changes)) {
      expect({ route, field, keys: Object.keys(change).sort() }).toEqual({ route, field, keys: ['after', 'before'] });
      if (/password|token$/.test(field)) {
        expect({ route, field, change }).toEqual({
          route,
          field,
          change: { before: '[redacted]', after: '[redacted]' },
        });
      }
    }
    await collectStoredSecrets();
  });

  it('shows what changed, before and after', async () => {
    const { name } = await createUser(t, uniqueName(), { display_name: 'Before', metadata: { a: '1', b: '2' } });
    const res = await t
      .http()
      .patch(api(`/users/${name}`))
      .set(adminAuth)
      .send({ display_name: 'After', metadata: { b: null, c: '3' } })
      .expect(200);
    const event = await onlyEventOf(res.headers['x-request-id']);
    expect(event.changes).toEqual({
      display_name: { before: 'Before', after: 'After' },
      metadata: { before: { a: '1', b: '2' }, after: { a: '1', c: '3' } },
    });

    const group = await createGroup(t);
    const joined = await t
      .http()
      .put(api(`/users/${name}/groups`))
      .set(adminAuth)
      .send({ add_to_groups: [group.name] })
      .expect(200);
    expect((await onlyEventOf(joined.headers['x-request-id'])).changes).toEqual({
      groups: { before: [], after: [group.name] },
    });
    const left = await t
      .http()
      .put(api(`/users/${name}/groups`))
      .set(adminAuth)
      .send({ set_groups: [] })
      .expect(200);
    expect((await onlyEventOf(left.headers['x-request-id'])).changes).toEqual({
      groups: { before: [group.name], after: [] },
    });
    // A request that changes nothing is still one event, with nothing in `changes`.
    const same = await t
      .http()
      .patch(api(`/users/${name}`))
      .set(adminAuth)
      .send({ display_name: 'After' });
    expect((await onlyEventOf(same.headers['x-request-id'])).changes).toEqual({});
  });

  it('keeps neither the change nor its event when the transaction fails after the change', async () => {
    // A trigger that refuses the audit event of chosen requests: the change's own statements have run by then.
    if (kind === 'sqlite') {
      await dataSource.query(
        `CREATE TRIGGER audit_fail BEFORE INSERT ON audit_events WHEN NEW.request_id LIKE 'fail-%' ` +
          `BEGIN SELECT RAISE(ABORT, 'forced failure'); END`,
      );
    } else {
      await dataSource.query(
        `CREATE FUNCTION audit_fail() RETURNS trigger AS $$ BEGIN IF NEW.request_id LIKE 'fail-%' THEN ` +
          `RAISE EXCEPTION 'forced failure'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`,
      );
      await dataSource.query(
        'CREATE TRIGGER audit_fail BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_fail()',
      );
    }
    try {
      const user = await createUser(t, uniqueName(), { display_name: 'Kept' });
      const member = await createUser(t);
      const group = uniqueName('g');
      const failing = [
        t
          .http()
          .patch(api(`/users/${user.name}`))
          .send({ display_name: 'Lost' }),
        t
          .http()
          .post(api('/groups'))
          .send({ name: group, members: [member.name] }),
        t.http().delete(api(`/users/${member.name}`)),
      ];
      for (const [index, request] of failing.entries()) {
        const requestId = `fail-${index}-${uniqueName('req')}`;
        const res = await request.set(adminAuth).set('X-Request-Id', requestId);
        expectError(res, 500, 'internal');
        expect(await rowsOf(requestId)).toEqual([]);
        // Nor was it written to the log: only committed events are.
        expect(lines.filter((line) => line.includes('"audit_event"') && line.includes(requestId))).toEqual([]);
      }
      expect(
        (
          await t
            .http()
            .get(api(`/users/${user.name}`))
            .set(adminAuth)
            .expect(200)
        ).body.display_name,
      ).toBe('Kept');
      await t
        .http()
        .get(api(`/groups/${group}`))
        .set(adminAuth)
        .expect(404);
      const kept = await t
        .http()
        .get(api(`/users/${member.name}`))
        .set(adminAuth)
        .expect(200);
      expect(kept.body.groups).toEqual([]);
    } finally {
      await dataSource.query(kind === 'sqlite' ? 'DROP TRIGGER audit_fail' : 'DROP TRIGGER audit_fail ON audit_events');
      if (kind === 'postgres') {
        await dataSource.query('DROP FUNCTION audit_fail()');
      }
    }
  });

  it('writes each committed event to the log as one JSON line (IAM_AUDIT_LOG)', async () => {
    const res = await t.http().post(api('/users')).set(adminAuth).send({ name: uniqueName() }).expect(201);
    const event = await onlyEventOf(res.headers['x-request-id']);
    let line: string | undefined;
    for (let attempt = 0; attempt < 100 && !line; attempt++) {
      line = lines.find((l) => l.includes(event.id) && l.includes('"audit_event"'));
      if (!line) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    expect(line).toBeDefined();
    expect(line!.trim().split('\n')).toHaveLength(1);
    expect((JSON.parse(line!) as { audit_event: ApiEvent }).audit_event).toEqual(event);
  });

  it('records sign-ins: success with the user as actor, failures with their reason and no password', async () => {
    const user = await signedIn();
    const ok = await t.http().post(api('/login')).send({ username: user.name, password: user.password }).expect(200);
    rememberCookie(sessionCookieOf(ok));
    expect(await onlyEventOf(ok.headers['x-request-id'])).toMatchObject({
      action: 'iam:Login',
      target: `iam:user:${user.name}`,
      outcome: 'success',
      actor: { kind: 'user', name: user.name },
      reason: null,
    });

    const failures: [Record<string, string>, string][] = [
      [{ username: user.name, password: 'not the password 1' }, 'invalid_credentials'],
      [{ username: uniqueName('nobody'), password: 'not the password 2' }, 'unknown_user'],
    ];
    for (const [body, reason] of failures) {
      secrets.add(body.password);
      const res = await t.http().post(api('/login')).send(body);
      expectError(res, 401, 'unauthorised');
      expect(await onlyEventOf(res.headers['x-request-id'])).toMatchObject({
        action: 'iam:Login',
        target: `iam:user:${body.username}`,
        outcome: 'failed',
        actor: 'anonymous',
        reason,
        changes: {},
      });
    }

    const locked = await lockedUser();
    const refused = await t.http().post(api('/login')).send({ username: locked.name, password: locked.password });
    expectError(refused, 401, 'unauthorised');
    expect(await onlyEventOf(refused.headers['x-request-id'])).toMatchObject({
      outcome: 'failed',
      reason: 'locked',
    });

    // A wrong current password is a failed password change, by the signed-in user.
    const change = await t
      .http()
      .put(api('/users/me/password'))
      .set('Cookie', user.cookie)
      .send({ current_password: 'not the password 3', new_password: 'whatever it would be' });
    secrets.add('not the password 3');
    secrets.add('whatever it would be');
    expectError(change, 400, 'bad_request');
    expect(await onlyEventOf(change.headers['x-request-id'])).toMatchObject({
      action: 'iam:ChangePassword',
      outcome: 'failed',
      reason: 'invalid_credentials',
      actor: { kind: 'user', name: user.name },
    });
  });

  it('records every 403 once, as denied, with the route’s action and target and the refusal as reason', async () => {
    const caller = await callerWithPolicy(t, [{ effect: 'allow', action: 'iam:GetUser', resource: 'iam:user:*' }]);
    rememberToken(caller.headers.Authorization.slice('Bearer '.length));
    const victim = await createUser(t);

    // Refused by the guard.
    const guard = await t
      .http()
      .delete(api(`/users/${victim.name}`))
      .set(caller.headers);
    expectError(guard, 403, 'forbidden');
    const denied = await onlyEventOf(guard.headers['x-request-id']);
    expect(denied).toMatchObject({
      action: 'iam:DeleteUser',
      target: `iam:user:${victim.name}`,
      outcome: 'denied',
      actor: { kind: 'service_account', name: caller.account.name, id: caller.account.id },
      reason: expect.stringContaining('Not allowed: iam:DeleteUser'),
      changes: {},
    });

    // Refused by a self-service route (a service account has no /users/me).
    const self = await t.http().patch(api('/users/me/settings')).set(caller.headers).send({ theme: 'dark' });
    expectError(self, 403, 'forbidden');
    expect(await onlyEventOf(self.headers['x-request-id'])).toMatchObject({
      action: 'iam:UpdateUserSettings',
      target: 'iam:user:me',
      outcome: 'denied',
    });

    // Refused by the service inside the transaction, after the change's first statement: only the refusal stays.
    const manager = await callerWithPolicy(t, [
      { effect: 'allow', action: ['iam:UpdateGroup', 'iam:UpdateGroupMembers'], resource: 'iam:group:*' },
    ]);
    rememberToken(manager.headers.Authorization.slice('Bearer '.length));
    const group = await createGroup(t, uniqueName('g'), { description: 'before' });
    const powerful = await callerWithPolicy(t, [{ effect: 'allow', action: '*', resource: '*' }]);
    rememberToken(powerful.headers.Authorization.slice('Bearer '.length));
    const takeover = await t
      .http()
      .patch(api(`/groups/${group.name}`))
      .set(manager.headers)
      .send({ description: 'after', add_members: [powerful.account.name] });
    expectError(takeover, 403, 'forbidden');
    expect(await onlyEventOf(takeover.headers['x-request-id'])).toMatchObject({
      action: 'iam:UpdateGroup',
      target: `iam:group:${group.name}`,
      outcome: 'denied',
      actor: { name: manager.account.name },
      reason: expect.stringContaining(powerful.account.name),
    });
    expect(
      (
        await t
          .http()
          .get(api(`/groups/${group.name}`))
          .set(adminAuth)
          .expect(200)
      ).body.description,
    ).toBe('before');
  });

  it('lists events newest first, a page at a time, with every filter', async () => {
    const caller = await callerWithPolicy(t, [{ effect: 'allow', action: 'iam:CreateUser', resource: 'iam:user:*' }]);
    rememberToken(caller.headers.Authorization.slice('Bearer '.length));
    const actor = caller.account.name;
    const created: string[] = [];
    for (let i = 0; i < 5; i++) {
      const name = uniqueName('listed');
      await t.http().post(api('/users')).set(caller.headers).send({ name }).expect(201);
      created.push(name);
      await new Promise((resolve) => setTimeout(resolve, 5)); // distinct milliseconds, for since/until below
    }
    await t
      .http()
      .delete(api(`/users/${created[0]}`))
      .set(caller.headers)
      .expect(403);

    // Pages of 2: newest first, each event once, the token carried from page to page.
    const seen: ApiEvent[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await list({ actor, action: 'iam:CreateUser', limit: 2, ...(token ? { page_token: token } : {}) });
      expect(page.items.length).toBe(page.next_page_token ? 2 : 1);
      seen.push(...page.items);
      token = page.next_page_token;
      pages++;
    } while (token);
    expect(pages).toBe(3);
    expect(seen.map((event) => event.target)).toEqual(created.map((name) => `iam:user:${name}`).reverse());
    const times = seen.map((event) => event.time);
    expect([...times].sort().reverse()).toEqual(times);

    // Each filter, and the comparisons without regard to case.
    expect((await list({ actor: actor.toUpperCase() })).items.map((event) => event.outcome).sort()).toEqual([
      'denied',
      'success',
      'success',
      'success',
      'success',
      'success',
    ]);
    expect((await list({ actor, outcome: 'denied' })).items).toEqual([
      expect.objectContaining({ action: 'iam:DeleteUser', target: `iam:user:${created[0]}` }),
    ]);
    expect((await list({ target: `IAM:USER:${created[2].toUpperCase()}` })).items).toEqual([
      expect.objectContaining({ action: 'iam:CreateUser', actor: expect.objectContaining({ name: actor }) }),
    ]);
    expect((await list({ actor, action: 'IAM:CREATEUSER' })).items).toHaveLength(5);
    const [newest, , middle] = seen;
    const since = await list({ actor, action: 'iam:CreateUser', since: middle.time });
    expect(since.items.map((event) => event.id)).toEqual(seen.slice(0, 3).map((event) => event.id));
    const until = await list({ actor, action: 'iam:CreateUser', until: middle.time });
    expect(until.items.map((event) => event.id)).toEqual(seen.slice(3).map((event) => event.id));
    const both = await list({ actor, since: middle.time, until: newest.time });
    expect(both.items.map((event) => event.id)).toEqual(seen.slice(1, 3).map((event) => event.id));
    expect((await list({ actor: 'nobody-at-all' })).items).toEqual([]);
    expect((await list({ actor: 'anonymous', limit: 1000 })).items.every((e) => e.actor === 'anonymous')).toBe(true);

    // A token is good only with the filters it was issued for.
    const first = await list({ actor, limit: 1 });
    const other = await t
      .http()
      .get(api('/audit-events'))
      .query({ actor, outcome: 'success', page_token: first.next_page_token! })
      .set(adminAuth);
    expect(expectError(other, 400, 'bad_request').invalid_fields).toEqual([
      expect.objectContaining({ name: 'page_token' }),
    ]);
  });

  it('answers 400 for bad filters, naming them', async () => {
    const bad: [Record<string, string>, string][] = [
      [{ since: 'yesterday' }, 'since'],
      [{ until: '2026-01-01' }, 'until'],
      [{ since: '2026-02-30T00:00:00Z' }, 'since'],
      [{ since: '2026-01-02T00:00:00Z', until: '2026-01-01T00:00:00Z' }, 'until'],
      [{ outcome: 'maybe' }, 'outcome'],
      [{ limit: '0' }, 'limit'],
      [{ page_token: 'forged.token' }, 'page_token'],
      [{ actor: '' }, 'actor'],
      [{ q: 'text' }, 'q'],
    ];
    for (const [query, field] of bad) {
      const res = await t.http().get(api('/audit-events')).query(query).set(adminAuth);
      const body = expectError(res, 400, 'bad_request');
      expect({ query, fields: body.invalid_fields?.map((f) => f.name) }).toEqual({ query, fields: [field] });
    }
  });

  it('reads one event by id: 404 for an unknown one, 400 for what is not an id', async () => {
    const res = await t
      .http()
      .post(api('/roles'))
      .set(adminAuth)
      .send({ name: uniqueName('r') })
      .expect(201);
    const [row] = await rowsOf(res.headers['x-request-id']);
    expect(await eventOf(row.id.toUpperCase())).toMatchObject({ id: row.id, action: 'iam:CreateRole' });
    expectError(
      await t
        .http()
        .get(api(`/audit-events/${uuidv7(new Date())}`))
        .set(adminAuth),
      404,
      'not_found',
    );
    const bad = expectError(await t.http().get(api('/audit-events/not-an-id')).set(adminAuth), 400, 'bad_request');
    expect(bad.invalid_fields).toEqual([expect.objectContaining({ name: 'id', error: 'invalid_format' })]);
  });

  it('is for iam:ListAuditEvents on iam:audit:* only, and cannot be changed through the API', async () => {
    const user = await signedIn();
    const outsider = await callerWithPolicy(t, [{ effect: 'allow', action: 'iam:*', resource: 'iam:user:*' }]);
    rememberToken(outsider.headers.Authorization.slice('Bearer '.length));
    const [someEvent] = (await list({ limit: 1 })).items;
    for (const headers of [outsider.headers, { Cookie: user.cookie }]) {
      const refused = await t.http().get(api('/audit-events')).set(headers);
      expectError(refused, 403, 'forbidden');
      expectError(
        await t
          .http()
          .get(api(`/audit-events/${someEvent.id}`))
          .set(headers),
        403,
        'forbidden',
      );
      // The refusal is in the trail too.
      expect(await onlyEventOf(refused.headers['x-request-id'])).toMatchObject({
        action: 'iam:ListAuditEvents',
        target: 'iam:audit:*',
        outcome: 'denied',
      });
    }
    const auditor = await callerWithPolicy(t, [
      { effect: 'allow', action: 'iam:ListAuditEvents', resource: 'iam:audit:*' },
    ]);
    rememberToken(auditor.headers.Authorization.slice('Bearer '.length));
    expect((await list({ limit: 1 }, auditor.headers)).items).toHaveLength(1);
    await t
      .http()
      .get(api(`/audit-events/${someEvent.id}`))
      .set(auditor.headers)
      .expect(200);

    for (const method of ['post', 'put', 'patch', 'delete'] as const) {
      expectError(await t.http()[method](api('/audit-events')).set(adminAuth), 405, 'method_not_allowed');
      expectError(
        await t
          .http()
          [method](api(`/audit-events/${someEvent.id}`))
          .set(adminAuth),
        405,
        'method_not_allowed',
      );
    }
    expect(await eventOf(someEvent.id)).toEqual(someEvent);
  });

  it('deletes events past the retention, and only those', async () => {
    const repository = dataSource.getRepository(AuditEvent);
    const day = 24 * 60 * 60 * 1000;
    const at = (daysAgo: number) => new Date(Date.now() - daysAgo * day);
    const old = { ...(await repository.findOneByOrFail({ action: 'iam:CreateRole' })) };
    const aged = (daysAgo: number) => ({ ...old, id: uuidv7(at(daysAgo)), time: at(daysAgo), reason: 'aged' });
    const expired = [aged(400), aged(366)];
    const kept = aged(364);
    await repository.save([...expired, kept]);

    const pruned = await t.app.get(AuditRetentionService).prune();
    expect(pruned).toBe(2);
    expect((await repository.findBy({ reason: 'aged' })).map((event) => event.id)).toEqual([kept.id]);
    // Run again (another instance, the next day): nothing more to do.
    expect(await t.app.get(AuditRetentionService).prune()).toBe(0);
  });

  it('never holds a secret: no password, token, cookie or hash in any event or audit log line', async () => {
    await collectStoredSecrets();
    const events: Record<string, unknown>[] = await dataSource.query('SELECT * FROM audit_events');
    expect(events.length).toBeGreaterThan(50);
    const texts = [...events.map((event) => JSON.stringify(event)), ...lines.filter((l) => l.includes('audit_event'))];
    const leaks = [...secrets].filter((secret) => texts.some((text) => text.includes(secret)));
    expect(leaks).toEqual([]);
    expect(secrets.size).toBeGreaterThan(40);
  });
});

describe.each(TEST_DATABASES)('audit trail of rate-limited sign-ins (%s)', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(kind, { app: { logLevel: 'info' }, logDestination, auth: { loginRateLimit: 2 } });
  });
  afterAll(() => t.close());

  it('records a sign-in refused by the rate limit as failed, rate_limited', async () => {
    const name = uniqueName();
    const answers: number[] = [];
    let limited: string | undefined;
    for (let i = 0; i < 3; i++) {
      const res = await t.http().post('/api/v1/login').send({ username: name, password: 'some password' });
      answers.push(res.status);
      if (res.status === 429) {
        limited = res.headers['x-request-id'];
      }
    }
    expect(answers).toEqual([401, 401, 429]);
    const dataSource = t.app.get<DataSource>(getDataSourceToken(IAM_DATA_SOURCE));
    const rows = await dataSource.getRepository(AuditEvent).find({ where: { requestId: limited } });
    expect(rows).toEqual([
      expect.objectContaining({
        action: 'iam:Login',
        target: `iam:user:${name}`,
        outcome: 'failed',
        reason: 'rate_limited',
        actorKind: 'anonymous',
      }),
    ]);
  });

  it('records a flood of rate-limited sign-ins from one address as one event a minute, not one each', async () => {
    const name = uniqueName();
    const answers: number[] = [];
    for (let i = 0; i < 8; i++) {
      const res = await t.http().post('/api/v1/login').send({ username: name, password: 'some password' });
      answers.push(res.status);
    }
    // The address was limited by the test above already: every one is refused.
    expect(answers).toEqual(Array(8).fill(429));
    const dataSource = t.app.get<DataSource>(getDataSourceToken(IAM_DATA_SOURCE));
    // None of the eight is recorded: the address had its event of the minute in the test above (this app's database
    // is its own), and the next one will carry their number.
    expect(await dataSource.getRepository(AuditEvent).countBy({ target: `iam:user:${name}` })).toBe(0);
    const limited = await dataSource.getRepository(AuditEvent).findBy({ action: 'iam:Login', outcome: 'failed' });
    expect(limited.filter((row) => row.reason?.startsWith('rate_limited'))).toHaveLength(1);
  });
});
