import { createTestDatabase, TEST_DATABASES, type TestDatabase } from './utils/create-app.js';
import { adminHeaders, ensureBuilt, type ServiceProcess, startService } from './utils/service-process.js';

/** Building dist/ (when stale) and starting the service twice: minutes on a slow machine, not seconds. */
const TIMEOUT_MS = 20 * 60_000;

/** Concurrent writers, and how many acknowledged writes to wait for before the kill. */
const WRITERS = 4;
const ACKNOWLEDGED_BEFORE_KILL = 40;

describe.each(TEST_DATABASES)('acknowledged writes survive a SIGKILL (%s)', (kind) => {
  let database: TestDatabase;
  const services: ServiceProcess[] = [];

  beforeAll(async () => {
    await ensureBuilt();
    database = await createTestDatabase(kind);
  }, TIMEOUT_MS);

  afterAll(async () => {
    for (const service of services) {
      await service.kill();
    }
    await database?.drop();
  }, TIMEOUT_MS);

  it(
    'finds every user it answered 201 for after a restart on the same database',
    async () => {
      const first = await startService({ DATABASE_URL: database.url });
      services.push(first);

      const acknowledged: string[] = [];
      const unexpected: string[] = [];
      let inFlightAtKill = 0;
      let stop = false;
      const writer = async (id: number) => {
        for (let i = 0; !stop; i++) {
          const name = `w${id}-${i}`;
          try {
            const res = await fetch(`${first.url}/api/v1/users`, {
              method: 'POST',
              headers: adminHeaders,
              body: JSON.stringify({ name, metadata: { writer: String(id) } }),
            });
            if (res.status === 201) {
              acknowledged.push(name);
            } else {
              unexpected.push(`${name}: ${res.status} ${await res.text()}`);
              return;
            }
          } catch {
            // The connection died with the process: this write was never acknowledged.
            inFlightAtKill++;
            return;
          }
        }
      };
      let running = WRITERS;
      const writers = Array.from({ length: WRITERS }, (_, id) => writer(id).finally(() => running--));
      while (acknowledged.length < ACKNOWLEDGED_BEFORE_KILL && unexpected.length === 0 && running > 0) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      first.child.kill('SIGKILL'); // in the middle of the stream: the writers have requests in flight
      const { signal } = await first.exited;
      stop = true;
      await Promise.all(writers);
      expect(unexpected).toEqual([]);
      expect(signal).toBe('SIGKILL');

      const restartedAt = Date.now();
      const second = await startService({ DATABASE_URL: database.url });
      services.push(second);
      const restartMs = Date.now() - restartedAt;

      const res = await fetch(`${second.url}/api/v1/users`, { headers: adminHeaders });
      expect(res.status).toBe(200);
      const stored = new Set(((await res.json()) as { items: { name: string }[] }).items.map((user) => user.name));
      const lost = acknowledged.filter((name) => !stored.has(name));
      console.log(
        `[crash-recovery ${kind}] ${acknowledged.length} writes acknowledged before SIGKILL, ${inFlightAtKill} in flight ` +
          `at the kill; restart on the same database took ${restartMs} ms; ${lost.length} acknowledged writes missing`,
      );
      expect(acknowledged.length).toBeGreaterThanOrEqual(ACKNOWLEDGED_BEFORE_KILL);
      expect(lost).toEqual([]);
    },
    TIMEOUT_MS,
  );
});
