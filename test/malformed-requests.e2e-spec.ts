import { connect, type AddressInfo } from 'node:net';
import { createTestApp, TEST_DATABASES, type TestApp } from './utils/create-app.js';

/** Sends bytes as they are (no HTTP client would send these) and reads the answer until the server closes. */
function sendRaw(
  port: number,
  request: string,
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [head, body = ''] = text.split('\r\n\r\n', 2);
      const [statusLine, ...headerLines] = head.split('\r\n');
      const headers = Object.fromEntries(
        headerLines.map((line) => [
          line.slice(0, line.indexOf(':')).toLowerCase(),
          line.slice(line.indexOf(':') + 1).trim(),
        ]),
      );
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body });
    });
    socket.write(request);
  });
}

describe.each(TEST_DATABASES)('requests the HTTP parser refuses (%s)', (kind) => {
  let t: TestApp;
  let port: number;
  beforeAll(async () => {
    t = await createTestApp(kind);
    await t.app.listen(0, '127.0.0.1');
    port = (t.app.getHttpServer().address() as AddressInfo).port;
  });
  afterAll(() => t.close());

  const expectErrorBody = (res: Awaited<ReturnType<typeof sendRaw>>, status: number, type: string) => {
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = JSON.parse(res.body) as { type: string; status: number; title: string; request_id: string };
    expect({ type: body.type, status: body.status }).toEqual({ type, status });
    expect(typeof body.title).toBe('string');
    expect(body.request_id).toBe(res.headers['x-request-id']);
  };

  it('answers headers over the limit with 431 and the error body (was an empty answer)', async () => {
    const res = await sendRaw(port, `GET /api/v1/users/${'a'.repeat(20_000)} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    expectErrorBody(res, 431, 'request_header_fields_too_large');
  });

  it('answers a malformed request with 400 and the error body (was an empty answer)', async () => {
    expectErrorBody(await sendRaw(port, 'NOT HTTP AT ALL\r\n\r\n'), 400, 'bad_request');
    const smuggled =
      'POST /api/v1/users HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n';
    expectErrorBody(await sendRaw(port, smuggled), 400, 'bad_request');
  });

  it('still answers a well-formed request over the same server', async () => {
    const res = await sendRaw(port, 'GET /api/v1/users HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    expectErrorBody(res, 401, 'unauthorised');
  });
});
