import Database from 'better-sqlite3';
import { createTestDatabase, type TestDatabase } from './utils/create-app.js';
import { createPostgresCluster, type PostgresCluster } from './utils/postgres-cluster.js';
import {
  adminHeaders,
  ensureBuilt,
  freePort,
  type LogLine,
  runServiceToExit,
  type ServiceProcess,
  startService,
} from './utils/service-process.js';

/** Building dist/ (when stale), initdb, starting servers: minutes on a slow machine, not seconds. */
const TIMEOUT_MS = 20 * 60_000;
/** No request may take longer than this, whatever the database does: a bound on a hang, not a timing. */
const HANG_BOUND_MS = 60_000;

interface Answer {
  status: number;
  retryAfter: string | null;
  requestId: string;
  body: { type?: string; status?: number; failed_checks?: string[] };
  ms: number;
}

async function call(service: ServiceProcess, method: string, path: string, body?: unknown): Promise<Answer> {
  const started = Date.now();
  const res = await fetch(`${service.url}${path}`, {
    method,
    headers: adminHeaders,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(HANG_BOUND_MS),
  });
  return {
    status: res.status,
    retryAfter: res.headers.get('retry-after'),
    requestId: res.headers.get('x-request-id') ?? '',
    body: (await res.json()) as Answer['body'],
    ms: Date.now() - started,
  };
}

/** A 503 with the error body and Retry-After, as every request gets while the database is unavailable. */
function expectUnavailable(answer: Answer): void {
  expect({ status: answer.status, type: answer.body.type, bodyStatus: answer.body.status }).toEqual({
    status: 503,
    type: 'service_unavailable',
    bodyStatus: 503,
  });
  expect(Number(answer.retryAfter)).toBeGreaterThan(0);
  expect(answer.ms).toBeLessThan(HANG_BOUND_MS);
}

/** Polls `attempt` until it answers `status`; every other answer must be a proper 503. */
async function until(status: number, attempt: () => Promise<Answer>): Promise<Answer> {
  const started = Date.now();
  for (;;) {
    const answer = await attempt();
    if (answer.status === status) {
      return answer;
    }
    expectUnavailable(answer);
    if (Date.now() - started > HANG_BOUND_MS * 2) {
      throw new Error(`still ${answer.status} after ${Date.now() - started} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Runs `assertion` until it passes: the service's log lines reach the test through a pipe, after the responses. */
async function eventually(assertion: () => void, boundMs = 30_000): Promise<void> {
  const started = Date.now();
  for (;;) {
    try {
      assertion();
      return;
    } catch (error) {
      if (Date.now() - started > boundMs) {
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** The log must hold no error-level line and no stack: an outage is logged as warnings, once per request. */
function expectQuietLog(lines: LogLine[]): void {
  expect(lines.filter((line) => line.level >= 50)).toEqual([]);
  expect(lines.filter((line) => JSON.stringify(line).includes('"stack"'))).toEqual([]);
}

/** Each 503 for the database is logged once, by its request id. */
function expectLoggedOnce(lines: LogLine[], answers: Answer[]): void {
  const logged = lines.filter((line) => line.msg === 'Database unavailable: answered 503');
  for (const answer of answers.filter((a) => a.status === 503)) {
    expect(logged.filter((line) => line.request_id === answer.requestId)).toHaveLength(1);
  }
}

describe('start-up against a database that is down', () => {
  beforeAll(() => ensureBuilt(), TIMEOUT_MS);

  it(
    'logs one JSON line per attempt with its number and reason, without a stack, then exits 1',
    async () => {
      const port = await freePort(); // nothing listens there
      const result = await runServiceToExit({
        DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/postgres`,
        DATABASE_STARTUP_ATTEMPTS: '3',
        DATABASE_STARTUP_RETRY_MS: '200',
      });
      expect({ code: result.code, signal: result.signal }).toEqual({ code: 1, signal: null });
      expect(result.lines.filter((line) => line.notJson === true)).toEqual([]);
      expect(result.stderr).toBe('');
      const attempts = result.lines.filter((line) => line.context === 'Database' && typeof line.attempt === 'number');
      expect(attempts.map((line) => line.attempt)).toEqual([1, 2, 3]);
      for (const line of attempts) {
        expect(line.reason).toEqual(expect.objectContaining({ code: 'ECONNREFUSED' }));
        expect(JSON.stringify(line)).not.toContain('"stack"');
      }
      expect(attempts.map((line) => line.level)).toEqual([40, 40, 60]); // the last one says it gives up
    },
    TIMEOUT_MS,
  );
});

describe('SQLite locked by another process', () => {
  let database: TestDatabase;
  let service: ServiceProcess | undefined;
  let other: Database.Database | undefined;

  beforeAll(async () => {
    await ensureBuilt();
    database = await createTestDatabase('sqlite');
  }, TIMEOUT_MS);

  afterAll(async () => {
    other?.close();
    await service?.kill();
    await database?.drop();
  }, TIMEOUT_MS);

  it(
    'answers 503 with Retry-After after the busy timeout, and writes again once the lock is released',
    async () => {
      service = await startService({ DATABASE_URL: database.url, DATABASE_BUSY_TIMEOUT_MS: '300' });
      expect((await call(service, 'POST', '/api/v1/users', { name: 'before-lock' })).status).toBe(201);

      other = new Database(database.url.slice('sqlite:'.length));
      other.exec('BEGIN IMMEDIATE'); // holds the write lock
      const blocked = await call(service, 'POST', '/api/v1/users', { name: 'while-locked' });
      expectUnavailable(blocked);
      // Reads go on (WAL): an authenticated read writes nothing on its way (last_seen_at is stamped after the answer,
      // at most once a minute, and this caller's was stamped before the lock); /health only reads.
      const read = await call(service, 'GET', '/api/v1/users/before-lock');
      expect(read.status).toBe(200);
      expect((await call(service, 'GET', '/health')).status).toBe(200);
      other.exec('COMMIT');

      expect((await call(service, 'POST', '/api/v1/users', { name: 'after-lock' })).status).toBe(201);
      console.log(
        `[database-outage sqlite] a write blocked by another process's lock answered 503 in ${blocked.ms} ms`,
      );
      const lines = service.lines;
      await eventually(() => expectLoggedOnce(lines, [blocked]));
      expectQuietLog(service.lines);
    },
    TIMEOUT_MS,
  );
});

// A PostgreSQL of the test's own (never the shared one): defined when PostgreSQL is under test at all.
if (process.env.TEST_DATABASE_URL) {
  describe('PostgreSQL stopped, started, frozen and thawed under a running service', () => {
    let cluster: PostgresCluster | undefined;
    let service: ServiceProcess | undefined;

    beforeAll(async () => {
      await ensureBuilt();
      cluster = await createPostgresCluster();
      await cluster.start();
    }, TIMEOUT_MS);

    afterAll(async () => {
      await service?.kill();
      await cluster?.destroy();
    }, TIMEOUT_MS);

    it(
      'answers 503 with Retry-After while it is down or frozen, names it in /health, and recovers without a restart',
      async () => {
        const db = cluster!;
        service = await startService({
          DATABASE_URL: db.url,
          DATABASE_CONNECT_TIMEOUT_MS: '2000',
          DATABASE_STATEMENT_TIMEOUT_MS: '2000',
        });
        const s = service;
        const answers: Answer[] = [];
        const track = async (answer: Promise<Answer>) => {
          const a = await answer;
          answers.push(a);
          return a;
        };
        let n = 0;
        const createUser = () => track(call(s, 'POST', '/api/v1/users', { name: `outage-${n++}` }));
        expect((await createUser()).status).toBe(201);
        expect((await call(s, 'GET', '/health')).status).toBe(200);

        // Stopped (immediate: every connection dropped).
        await db.stop();
        const stoppedAt = Date.now();
        const whileStopped = [await createUser(), await track(call(s, 'GET', '/api/v1/users')), await createUser()];
        const stoppedTo503Ms = Date.now() - stoppedAt;
        whileStopped.forEach(expectUnavailable);
        for (let i = 0; i < 3; i++) {
          const health = await call(s, 'GET', '/health');
          expectUnavailable(health);
          expect(health.body.failed_checks).toEqual(['database']);
        }

        // Started again: the same service process answers again.
        await db.start();
        const startedAt = Date.now();
        await until(201, createUser);
        const recoveryMs = Date.now() - startedAt;
        expect((await call(s, 'GET', '/health')).status).toBe(200);

        // Frozen: connections stay open, nothing answers. A burst larger than the pool (10) waits for it too.
        db.freeze();
        const frozenAt = Date.now();
        const whileFrozen = await Promise.all([
          ...Array.from({ length: 12 }, () => createUser()),
          track(call(s, 'GET', '/api/v1/users')),
        ]);
        const frozenTo503Ms = Date.now() - frozenAt;
        whileFrozen.forEach(expectUnavailable);
        const frozenHealth = await call(s, 'GET', '/health');
        expectUnavailable(frozenHealth);
        expect(frozenHealth.body.failed_checks).toEqual(['database']);
        expectUnavailable(await createUser()); // and again, with the burst's connections gone

        db.thaw();
        const thawedAt = Date.now();
        await until(201, createUser);
        const thawRecoveryMs = Date.now() - thawedAt;
        expect((await call(s, 'GET', '/health')).status).toBe(200);

        console.log(
          `[database-outage postgres] stopped: 3 requests answered 503 in ${stoppedTo503Ms} ms (slowest ` +
            `${Math.max(...whileStopped.map((a) => a.ms))} ms); started again: first 201 after ${recoveryMs} ms; ` +
            `frozen: 13 concurrent requests all answered 503 within ${frozenTo503Ms} ms (slowest ` +
            `${Math.max(...whileFrozen.map((a) => a.ms))} ms, timeouts 2000 ms); thawed: first 201 after ${thawRecoveryMs} ms`,
        );
        // /health logs each change of state once: down and up again, twice.
        await eventually(() => {
          expect(s.lines.filter((line) => line.context === 'Health').map((line) => line.msg)).toEqual([
            'Unhealthy: database',
            'Healthy again: every check passes',
            'Unhealthy: database',
            'Healthy again: every check passes',
          ]);
          expectLoggedOnce(s.lines, answers);
        });
        expectQuietLog(s.lines);
      },
      TIMEOUT_MS,
    );
  });
}
