import { randomBytes } from 'node:crypto';
import type { Response } from 'supertest';
import { ADMIN_TOKEN, type TestApp } from './create-app.js';

export const adminAuth = { Authorization: `Bearer ${ADMIN_TOKEN}` };

/** A name no other test uses. */
export function uniqueName(prefix = 'u'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** The `session_id=…` pair from a login response, for a Cookie header. */
export function sessionCookieOf(res: Response): string {
  const cookies = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  const cookie = cookies.find((c) => c.startsWith('session_id='));
  if (!cookie) {
    throw new Error(`no session cookie in response ${res.status}: ${JSON.stringify(res.body)}`);
  }
  return cookie.split(';')[0];
}

export async function createUser(t: TestApp, name = uniqueName(), body: Record<string, unknown> = {}) {
  const res = await t
    .http()
    .post('/api/v1/users')
    .set(adminAuth)
    .send({ name, ...body });
  if (res.status !== 201) {
    throw new Error(`creating user ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return res.body as { name: string; id: string };
}

export async function createGroup(t: TestApp, name = uniqueName('g'), body: Record<string, unknown> = {}) {
  const res = await t
    .http()
    .post('/api/v1/groups')
    .set(adminAuth)
    .send({ name, ...body });
  if (res.status !== 201) {
    throw new Error(`creating group ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return res.body as { name: string; id: string };
}

export async function createServiceAccount(t: TestApp, name = uniqueName('sa'), body: Record<string, unknown> = {}) {
  const res = await t
    .http()
    .post('/api/v1/service-accounts')
    .set(adminAuth)
    .send({ name, ...body });
  if (res.status !== 201) {
    throw new Error(`creating service account ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return res.body as { name: string; id: string; token: string };
}

/** Creates a role with this policy; returns its name. */
export async function createRole(t: TestApp, policy: unknown[], name = uniqueName('r')) {
  const res = await t.http().post('/api/v1/roles').set(adminAuth).send({ name, policy });
  if (res.status !== 201) {
    throw new Error(`creating role ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return name;
}

/**
 * A service account holding exactly this policy: a role of its own, bound to a group of its own that the account is
 * the only member of. Its Authorization header, and the names of the account, the role and the group.
 */
export async function callerWithPolicy(t: TestApp, policy: unknown[]) {
  const account = await createServiceAccount(t);
  const role = await createRole(t, policy);
  const group = await createGroup(t, uniqueName('g'), { roles: [role], members: [account.name] });
  return { headers: { Authorization: `Bearer ${account.token}` }, account, role, group };
}

/** Creates a user with a password and signs in; returns the user's name and session cookie. */
export async function signedInUser(t: TestApp, name = uniqueName(), password = 'correct horse battery') {
  await createUser(t, name);
  const set = await t
    .http()
    .put(`/api/v1/users/${encodeURIComponent(name)}/password`)
    .set(adminAuth)
    .send({ password });
  if (set.status !== 204) {
    throw new Error(`setting password: ${set.status} ${JSON.stringify(set.body)}`);
  }
  const login = await t.http().post('/api/v1/login').send({ username: name, password });
  if (login.status !== 200) {
    throw new Error(`login: ${login.status} ${JSON.stringify(login.body)}`);
  }
  return { name, password, cookie: sessionCookieOf(login) };
}

/** Asserts the project's error body and returns it. */
export function expectError(res: Response, status: number, type: string) {
  expect({ status: res.status, type: res.body?.type }).toEqual({ status, type });
  expect(res.body.status).toBe(status);
  expect(typeof res.body.title).toBe('string');
  expect(res.body.request_id).toBe(res.headers['x-request-id']);
  return res.body as {
    type: string;
    title: string;
    status: number;
    invalid_fields?: { name: string; error: string; title: string }[];
  };
}
