import { createTestApp, TEST_DATABASES, type TestApp } from './utils/create-app.js';
import { adminAuth, expectError, sessionCookieOf, signedInUser } from './utils/fixtures.js';

/** Every line the apps of this file log (one pino-http instance per test file: see createTestApp). */
const lines: string[] = [];
const logDestination = { write: (line: string) => void lines.push(line) };

interface LogEntry {
  req: Record<string, unknown>;
  res: Record<string, unknown>;
}

/** The request log line of a response, once pino-http has written it (on the response's end). */
async function requestLine(requestId: string): Promise<{ line: string; entry: LogEntry }> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const line = lines.find((l) => {
      const entry = JSON.parse(l) as { req?: { id?: string }; res?: unknown };
      return entry.req?.id === requestId && entry.res !== undefined;
    });
    if (line) {
      return { line, entry: JSON.parse(line) as LogEntry };
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`no request log line for ${requestId}`);
}

describe.each(TEST_DATABASES)('request log (%s)', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(kind, { app: { logLevel: 'info' }, logDestination });
  });
  afterAll(() => t.close());

  const token = adminAuth.Authorization.slice('Bearer '.length);

  it('logs the path of a request but never its query string, where a token may have been sent', async () => {
    const res = await t.http().get(`/api/v1/users?access_token=${token}&x=1`);
    expectError(res, 401, 'unauthorised');
    const { line, entry } = await requestLine(res.headers['x-request-id']);
    expect(line).not.toContain(token);
    expect(entry.req).toEqual(
      expect.objectContaining({ method: 'GET', url: '/api/v1/users?[Redacted]', id: res.headers['x-request-id'] }),
    );
    expect(entry.res).toEqual({ statusCode: 401 });
  });

  it('logs no credentials from headers: Authorization, Cookie, Set-Cookie', async () => {
    const user = await signedInUser(t);
    const sessionId = user.cookie.split('=')[1];
    const withHeader = await t.http().get('/api/v1/users').set(adminAuth).expect(200);
    const withCookie = await t.http().get('/api/v1/users/me').set('Cookie', user.cookie).expect(200);
    const login = await t.http().post('/api/v1/login').send({ username: user.name, password: user.password });
    const newSessionId = sessionCookieOf(login).split('=')[1];
    for (const res of [withHeader, withCookie, login]) {
      const { line, entry } = await requestLine(res.headers['x-request-id']);
      expect(Object.keys(entry.req).sort()).toEqual(['id', 'method', 'remoteAddress', 'url']);
      expect(entry.res).toEqual({ statusCode: res.status });
      for (const secret of [token, sessionId, newSessionId, user.password]) {
        expect(line).not.toContain(secret);
      }
    }
    // Nor does any other line of the log.
    expect(lines.join('\n')).not.toContain(token);
  });
});
