import { setTimeout as sleep } from 'node:timers/promises';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource, Logger as TypeOrmLogger } from 'typeorm';
import { PrincipalCache } from '../src/auth/principal-cache.js';
import { IAM_DATA_SOURCE } from '../src/database/iam-data-source.js';
import { Session } from '../src/sessions/entities/session.entity.js';
import request from 'supertest';
import { createTestApp, TEST_DATABASES, type TestApp } from './utils/create-app.js';
import { ensureBuilt, startService, type ServiceProcess } from './utils/service-process.js';
import { adminAuth, callerWithPolicy, createServiceAccount, expectError, signedInUser } from './utils/fixtures.js';

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** A change made on one instance must not work on another past this (the bound). */
const OTHER_INSTANCE_BOUND_MS = 1000;

/** IAM_SESSION_IDLE_MINUTES of the instance in this process. */
const IDLE_MINUTES = 5;

/** How long before its idle deadline the idle-timeout test reads a session into the cache. */
const IDLE_GRACE_MS = 5000;

/** Every SQL statement an app's IAM DataSource runs from now on, until stopped. */
function recordStatements(t: TestApp) {
  const dataSource = t.app.get<DataSource>(getDataSourceToken(IAM_DATA_SOURCE));
  const original = dataSource.logger;
  const statements: string[] = [];
  const recorder: TypeOrmLogger = {
    logQuery: (query) => void statements.push(query),
    logQueryError: () => undefined,
    logQuerySlow: () => undefined,
    logSchemaBuild: () => undefined,
    logMigration: () => undefined,
    log: () => undefined,
  };
  Object.assign(dataSource, { logger: recorder });
  return {
    statements,
    stop: () => Object.assign(dataSource, { logger: original }),
  };
}

/** The statements `send` makes `t` run. */
async function statementsOf(t: TestApp, send: () => Promise<unknown>): Promise<string[]> {
  const recording = recordStatements(t);
  try {
    await send();
    return recording.statements;
  } finally {
    recording.stop();
  }
}

const readsCredentials = (statement: string) => /FROM "(sessions|service_accounts|roles)"/.test(statement);

/** Either instance, as far as sending it requests goes. */
interface Instance {
  http: () => ReturnType<typeof request>;
}

/**
 * Two instances on one database: `a` in this process (its statements can be recorded), `b` the built service in a
 * process of its own (each process has one passport registry, and a real second instance is a process anyway), with
 * every statement it runs in its log.
 */
describe.each(TEST_DATABASES)('principal cache on %s, two instances on one database', (kind) => {
  let a: TestApp;
  let service: ServiceProcess;
  let b: Instance;

  beforeAll(async () => {
    await ensureBuilt();
    a = await createTestApp(kind, { auth: { sessionIdleMinutes: IDLE_MINUTES } });
    service = await startService({ DATABASE_URL: a.database.url, DATABASE_LOGGING: 'true' });
    b = { http: () => request(service.url) };
  });

  afterAll(async () => {
    await service?.kill();
    await a?.close();
  });

  /** The statements `send` makes the service process `b` run (from its log). */
  async function statementsOfB(send: () => Promise<unknown>): Promise<string[]> {
    const from = service.lines.length;
    await send();
    await sleep(100); // its log lines reach this process a moment after the answer
    return service.lines
      .slice(from)
      .filter((line) => line.msg === 'query')
      .map((line) => String(line.query));
  }

  /** A service account in a group whose role allows reading users; its token, warm in both instances' caches. */
  async function readerOnBoth() {
    const { account, role, group } = await callerWithPolicy(a, [
      { effect: 'allow', action: ['iam:GetUser'], resource: ['iam:user:*'] },
    ]);
    const target = (await signedInUser(a)).name;
    for (const t of [a, b]) {
      await t.http().get(`/api/v1/users/${target}`).set(bearer(account.token)).expect(200);
    }
    return { role, account, group, target };
  }

  /**
   * `b` answers `check` from its cache before the change (it may take it a few requests: its poll of the authority
   * version drops what it cached before the setup's own changes), then both refuse it: `a` at once, `b` within the
   * bound.
   */
  async function expectRefusedOnBothAfter(
    change: () => Promise<unknown>,
    check: (t: Instance) => Promise<{ status: number }>,
    refused: number,
  ) {
    let lookups: string[] = [];
    for (let attempt = 0; attempt < 10; attempt++) {
      lookups = (await statementsOfB(() => check(b))).filter(readsCredentials);
      if (lookups.length === 0) {
        break;
      }
      await sleep(100);
    }
    expect(lookups).toEqual([]);
    await change();
    expect((await check(a)).status).toBe(refused);
    await sleep(OTHER_INSTANCE_BOUND_MS);
    expect((await check(b)).status).toBe(refused);
  }

  /**
   * The credential look-ups `send` makes `a` run, once it is answered from memory if it can be: a few tries, since
   * `a`'s poll of the authority version drops, once, what it cached before the setup's changes.
   */
  const lookupsOf = async (send: () => Promise<unknown>) => {
    let lookups: string[] = [];
    for (let attempt = 0; attempt < 10; attempt++) {
      lookups = (await statementsOf(a, send)).filter(readsCredentials);
      if (lookups.length === 0) {
        break;
      }
      await sleep(100);
    }
    return lookups;
  };

  it('answers a repeated request without looking its credential or policy up', async () => {
    const { account, target } = await readerOnBoth();
    const user = await signedInUser(a);
    expect(await lookupsOf(() => a.http().get('/api/v1/users/me').set('Cookie', user.cookie).expect(200))).toEqual([]);
    expect(
      await lookupsOf(() => a.http().get(`/api/v1/users/${target}`).set(bearer(account.token)).expect(200)),
    ).toEqual([]);
    expect(a.app.get(PrincipalCache).size).toBeGreaterThan(0);
  });

  it('refuses a renewed token’s old value at once here and within a second on the other instance', async () => {
    const { account, target } = await readerOnBoth();
    await expectRefusedOnBothAfter(
      () => a.http().post(`/api/v1/service-accounts/${account.name}/renew-token`).set(adminAuth).send({}).expect(200),
      (t) => t.http().get(`/api/v1/users/${target}`).set(bearer(account.token)),
      401,
    );
  });

  it('refuses a deleted account’s token at once here and within a second on the other instance', async () => {
    const { account, target } = await readerOnBoth();
    await expectRefusedOnBothAfter(
      () => a.http().delete(`/api/v1/service-accounts/${account.name}`).set(adminAuth).expect(204),
      (t) => t.http().get(`/api/v1/users/${target}`).set(bearer(account.token)),
      401,
    );
  });

  it('refuses a signed-out session at once here and within a second on the other instance', async () => {
    const user = await signedInUser(a);
    for (const t of [a, b]) {
      await t.http().get('/api/v1/users/me').set('Cookie', user.cookie).expect(200);
    }
    await expectRefusedOnBothAfter(
      () => a.http().delete('/api/v1/users/me/sessions').set('Cookie', user.cookie).expect(204),
      (t) => t.http().get('/api/v1/users/me').set('Cookie', user.cookie),
      401,
    );
  });

  it('refuses a session an administrator ended at once here and within a second on the other instance', async () => {
    const user = await signedInUser(a);
    for (const t of [a, b]) {
      await t.http().get('/api/v1/users/me').set('Cookie', user.cookie).expect(200);
    }
    const [own] = (await a.http().get('/api/v1/users/me/sessions').set('Cookie', user.cookie).expect(200)).body
      .items as { id: string }[];
    await expectRefusedOnBothAfter(
      () => a.http().delete(`/api/v1/users/${user.name}/sessions/${own.id}`).set(adminAuth).expect(204),
      (t) => t.http().get('/api/v1/users/me').set('Cookie', user.cookie),
      401,
    );
  });

  it('answers for a session from memory only until its idle deadline', async () => {
    const sessions = a.app.get<DataSource>(getDataSourceToken(IAM_DATA_SOURCE)).getRepository(Session);
    const user = await signedInUser(a);
    const [session] = await sessions.find({ where: { user: { name: user.name } } });
    const me = () => a.http().get('/api/v1/users/me').set('Cookie', user.cookie);
    // Used once: stamped (this instance stamps it again IDLE_MINUTES / 10 later at the soonest).
    await me().expect(200);
    for (let attempt = 0; attempt < 100; attempt++) {
      if ((await sessions.findOneByOrFail({ id: session.id })).lastSeenAt > session.lastSeenAt) {
        break;
      }
      await sleep(20);
    }
    // Its stamp moved back, as if it had last been used IDLE_MINUTES ago but a few seconds, and every cached
    // principal dropped (a sign-in moves the authority version), so that it is read again with that stamp.
    const deadline = Date.now() + IDLE_GRACE_MS;
    await sessions.update({ id: session.id }, { lastSeenAt: new Date(deadline - IDLE_MINUTES * 60_000) });
    await signedInUser(a);
    await me().expect(200);
    // From memory now ...
    expect((await statementsOf(a, () => me().expect(200))).filter(readsCredentials)).toEqual([]);
    // ... but not past its idle deadline, though nothing has dropped the cache since.
    await sleep(deadline - Date.now() + 100);
    const refused = await me();
    expect(expectError(refused, 401, 'unauthorised').title).toMatch(/without use/);
    expect(await sessions.existsBy({ id: session.id })).toBe(false);
  });

  it('ends the sessions of a user whose password an administrator set, on both instances', async () => {
    const user = await signedInUser(a);
    for (const t of [a, b]) {
      await t.http().get('/api/v1/users/me').set('Cookie', user.cookie).expect(200);
    }
    await expectRefusedOnBothAfter(
      () =>
        a
          .http()
          .put(`/api/v1/users/${user.name}/password`)
          .set(adminAuth)
          .send({ password: 'another one 1' })
          .expect(204),
      (t) => t.http().get('/api/v1/users/me').set('Cookie', user.cookie),
      401,
    );
  });

  it('stops a removed membership at once here and within a second on the other instance', async () => {
    const { account, group, target } = await readerOnBoth();
    await expectRefusedOnBothAfter(
      () =>
        a
          .http()
          .put(`/api/v1/service-accounts/${account.name}/groups`)
          .set(adminAuth)
          .send({ remove_from_groups: [group.name] })
          .expect(200),
      (t) => t.http().get(`/api/v1/users/${target}`).set(bearer(account.token)),
      403,
    );
  });

  it('applies a changed policy at once here and within a second on the other instance', async () => {
    const { role, account, target } = await readerOnBoth();
    await expectRefusedOnBothAfter(
      () =>
        a
          .http()
          .patch(`/api/v1/roles/${role}`)
          .set(adminAuth)
          .send({ policy: [{ effect: 'allow', action: ['iam:GetGroup'], resource: ['iam:group:*'] }] })
          .expect(200),
      (t) => t.http().get(`/api/v1/users/${target}`).set(bearer(account.token)),
      403,
    );
  });

  it('applies an unbound role at once here and within a second on the other instance', async () => {
    const { role, account, group, target } = await readerOnBoth();
    expect(role).toBeTruthy();
    await expectRefusedOnBothAfter(
      () => a.http().patch(`/api/v1/groups/${group.name}`).set(adminAuth).send({ roles: [] }).expect(200),
      (t) => t.http().get(`/api/v1/users/${target}`).set(bearer(account.token)),
      403,
    );
  });

  it('stamps last_seen_at off the request, and at most once a minute per principal', async () => {
    const account = await createServiceAccount(a);
    const first = await statementsOf(a, () => a.http().get('/api/v1/users').set(bearer(account.token)).expect(200));
    expect(first.filter((statement) => /^UPDATE "service_accounts"/.test(statement))).toHaveLength(1);
    let seen: string | null = null;
    for (let attempt = 0; attempt < 50 && seen === null; attempt++) {
      const res = await a.http().get(`/api/v1/service-accounts/${account.name}`).set(adminAuth).expect(200);
      seen = (res.body as { last_seen_at: string | null }).last_seen_at;
      await sleep(20);
    }
    expect(seen).not.toBeNull();
    const again = await statementsOf(a, () => a.http().get('/api/v1/users').set(bearer(account.token)).expect(200));
    expect(again.filter((statement) => /^UPDATE/.test(statement))).toEqual([]);
  });

  it('stamps a session as used off the request, and at most once in a tenth of the idle timeout', async () => {
    const user = await signedInUser(a);
    // The stamps are written after the answer: give them a moment to land among the recorded statements.
    const use = () => async () => {
      await a.http().get('/api/v1/users/me').set('Cookie', user.cookie).expect(200);
      await sleep(200);
    };
    const first = await statementsOf(a, use());
    expect(first.filter((statement) => /^UPDATE "sessions"/.test(statement))).toHaveLength(1);
    expect(first.filter((statement) => /^UPDATE "users"/.test(statement))).toHaveLength(1);
    const again = await statementsOf(a, use());
    expect(again.filter((statement) => /^UPDATE/.test(statement))).toEqual([]);
  });

  it('refuses a wrong token every time, never from memory', async () => {
    const wrong = `iamsa_${'0'.repeat(46)}`;
    for (const t of [a, b, a]) {
      expectError(await t.http().get('/api/v1/users').set(bearer(wrong)), 401, 'unauthorised');
    }
  });
});

describe.each(TEST_DATABASES)('two IAMs in one process on %s, each with its own database', (kind) => {
  let first: TestApp;
  let second: TestApp;
  beforeAll(async () => {
    first = await createTestApp(kind);
    second = await createTestApp(kind);
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  it('checks each credential with its own IAM’s services, also after the other one closed', async () => {
    // Made after `second` started, so that neither instance has them in memory: each is looked up.
    const user = await signedInUser(first);
    const account = await createServiceAccount(first);
    await first.http().get('/api/v1/users/me').set('Cookie', user.cookie).expect(200);
    await first.http().get('/api/v1/users').set(bearer(account.token)).expect(200);
    // The other IAM does not know them: its database is another one.
    expectError(await second.http().get('/api/v1/users/me').set('Cookie', user.cookie), 401, 'unauthorised');
    expectError(await second.http().get('/api/v1/users').set(bearer(account.token)), 401, 'unauthorised');
    await second.close();
    const later = await signedInUser(first);
    await first.http().get('/api/v1/users/me').set('Cookie', later.cookie).expect(200);
    await first.http().get(`/api/v1/users/${later.name}`).set(adminAuth).expect(200);
  });
});
