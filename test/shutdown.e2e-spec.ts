import { connect, type Socket } from 'node:net';
import { ADMIN_TOKEN, createTestDatabase, TEST_DATABASES, type TestDatabase } from './utils/create-app.js';
import { ensureBuilt, type ServiceProcess, startService } from './utils/service-process.js';

/** Building dist/ (when stale) and starting the service: minutes on a slow machine, not seconds. */
const TIMEOUT_MS = 20 * 60_000;
const SHUTDOWN_TIMEOUT_SECONDS = 6;
/** A bound on a hang, not a timing: the process must be gone well before this after SIGTERM. */
const EXIT_BOUND_MS = (SHUTDOWN_TIMEOUT_SECONDS + 60) * 1000;

/**
 * A POST /users over a raw socket that stops half-way through its body. `Expect: 100-continue` makes the
 * server say when it has taken the request up (it answers `100 Continue`), so the request is known to be
 * in flight before the test goes on.
 */
async function halfSentRequest(port: number, name: string) {
  const body = JSON.stringify({ name });
  const socket: Socket = connect(port, '127.0.0.1');
  let received = '';
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
  socket.on('error', () => undefined); // reset by the server at the deadline: seen as 'close'
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(
    `POST /api/v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\n\r\n`,
  );
  while (!received.includes('100 Continue')) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const half = Math.floor(body.length / 2);
  socket.write(body.slice(0, half));
  return {
    sendRest: () => socket.write(body.slice(half)),
    destroy: () => socket.destroy(),
    /** The final status line's code, once the response has arrived (or undefined if the socket closed first). */
    status: async () => {
      while (!/HTTP\/1\.1 [2-5]\d\d /.test(received) && !socket.destroyed) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const match = /HTTP\/1\.1 ([2-5]\d\d) /.exec(received);
      return match ? Number(match[1]) : undefined;
    },
    closed,
  };
}

/** Resolves once nothing accepts connections on the port any more. */
async function refusesConnections(port: number): Promise<void> {
  for (;;) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => resolve(true));
    });
    if (refused) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.each(TEST_DATABASES)('shutdown on SIGTERM (%s)', (kind) => {
  let database: TestDatabase;
  let service: ServiceProcess | undefined;

  beforeAll(async () => {
    await ensureBuilt();
    database = await createTestDatabase(kind);
  }, TIMEOUT_MS);

  afterAll(async () => {
    await service?.kill();
    await database?.drop();
  }, TIMEOUT_MS);

  it(
    'stops accepting, lets a request in flight finish, closes a client stalling mid-body at the deadline, exits 0',
    async () => {
      service = await startService({
        DATABASE_URL: database.url,
        SHUTDOWN_TIMEOUT_SECONDS: String(SHUTDOWN_TIMEOUT_SECONDS),
      });
      const finishing = await halfSentRequest(service.port, 'finishes-after-sigterm');
      const stalling = await halfSentRequest(service.port, 'never-finishes');

      const signalledAt = Date.now();
      service.child.kill('SIGTERM');
      await refusesConnections(service.port);
      const refusingMs = Date.now() - signalledAt;

      finishing.sendRest();
      expect(await finishing.status()).toBe(201);
      const finishedMs = Date.now() - signalledAt;

      let bound: NodeJS.Timeout | undefined;
      const exit = await Promise.race([
        service.exited,
        new Promise<never>((_, reject) => {
          bound = setTimeout(() => reject(new Error('no exit after SIGTERM')), EXIT_BOUND_MS);
        }),
      ]).finally(() => clearTimeout(bound));
      const exitMs = Date.now() - signalledAt;
      await stalling.closed;
      expect(await stalling.status()).toBeUndefined(); // cut off, never answered
      finishing.destroy();
      expect(exit).toEqual({ code: 0, signal: null });
      expect(exitMs).toBeLessThan(EXIT_BOUND_MS);
      console.log(
        `[shutdown ${kind}] SIGTERM → new connections refused after ${refusingMs} ms, request in flight answered ` +
          `201 after ${finishedMs} ms, exit 0 after ${exitMs} ms (SHUTDOWN_TIMEOUT_SECONDS=${SHUTDOWN_TIMEOUT_SECONDS})`,
      );
      const messages = service.lines.map((line) => line.msg);
      expect(messages).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^Shutting down on SIGTERM/),
          expect.stringMatching(/^Shutdown deadline reached/),
        ]),
      );
    },
    TIMEOUT_MS,
  );
});
