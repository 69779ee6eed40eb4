import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ApiErrorBody, createIamClient, type IamClient, type User } from '../client/index.js';
import { ADMIN_TOKEN, createTestApp, TEST_DATABASES, type TestApp } from './utils/create-app.js';
import { uniqueName } from './utils/fixtures.js';

describe.each(TEST_DATABASES)('typed client (%s)', (kind) => {
  let t: TestApp;
  let client: IamClient;
  beforeAll(async () => {
    t = await createTestApp(kind);
    await t.app.listen(0, '127.0.0.1');
    client = createIamClient(await t.app.getUrl(), { token: ADMIN_TOKEN });
  });
  afterAll(() => t.close());

  it('creates a user and reads it back, typed', async () => {
    const name = uniqueName('client');
    const created = await client.POST('/api/v1/users', {
      body: { name, display_name: 'Client User', metadata: { team: 'platform' } },
    });
    expect(created.response.status).toBe(201);
    const user: User | undefined = created.data;
    expect(user).toMatchObject({ name, display_name: 'Client User', metadata: { team: 'platform' }, groups: [] });

    const read = await client.GET('/api/v1/users/{name}', { params: { path: { name: name.toUpperCase() } } });
    expect(read.response.status).toBe(200);
    expect(read.error).toBeUndefined();
    expect(read.data).toEqual(user);
    // Typed: the compiler knows the fields of a user.
    expect(read.data?.lrn).toBe(`iam:user:${name}`);
  });

  it('gives a duplicate create a 409 whose error is the error body', async () => {
    const name = uniqueName('client-dup');
    expect((await client.POST('/api/v1/users', { body: { name } })).response.status).toBe(201);

    const duplicate = await client.POST('/api/v1/users', { body: { name } });
    expect(duplicate.response.status).toBe(409);
    expect(duplicate.data).toBeUndefined();
    const error: ApiErrorBody | undefined = duplicate.error;
    expect(error).toMatchObject({ type: 'conflict', status: 409, title: expect.any(String) });
    expect(error?.request_id).toBe(duplicate.response.headers.get('x-request-id'));
  });

  it('is refused without a token, with the error body', async () => {
    const anonymous = createIamClient(await t.app.getUrl());
    const { error, response } = await anonymous.GET('/api/v1/users');
    expect(response.status).toBe(401);
    expect(error).toMatchObject({ type: 'unauthorised', status: 401 });
  });
});

describe('client/schema.d.ts', () => {
  it('is what `npm run client:generate` makes of openapi.json', () => {
    const root = join(import.meta.dirname, '..');
    if (!existsSync(join(root, 'openapi.json'))) {
      throw new Error('openapi.json is missing: write it with `npm run openapi`');
    }
    const dir = mkdtempSync(join(tmpdir(), 'iam-client-'));
    try {
      const generated = join(dir, 'schema.d.ts');
      execFileSync(
        process.execPath,
        [join(root, 'node_modules/openapi-typescript/bin/cli.js'), 'openapi.json', '--output', generated],
        { cwd: root, stdio: 'pipe' },
      );
      // When this fails: `npm run client:generate`, and commit client/schema.d.ts with openapi.json.
      expect(readFileSync(join(root, 'client/schema.d.ts'), 'utf8')).toBe(readFileSync(generated, 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
