import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { ADMIN_TOKEN, createTestDatabase, TEST_DATABASES, type TestDatabase } from './utils/create-app.js';
import { ensureBuilt, freePort } from './utils/service-process.js';

/**
 * The package as a platform gets it: `npm pack` of this repository, installed into a copy of
 * examples/host-app, built there by the example's own strict `tsc`, and started with `node`, on SQLite and on
 * PostgreSQL. Both sides are checked: the IAM under /iam/api/v1, and the host's own routes, untouched.
 *
 * Installing: by default the tarball is unpacked into the copy's node_modules/iam-service and every other
 * package the host and the IAM declare (the host's dependencies and devDependencies, the IAM's dependencies and
 * peerDependencies, nothing more) is linked from this repository's node_modules: seconds, offline, and one copy of
 * @nestjs/* for host and IAM alike, as npm's flat install gives. A package the IAM imports without declaring it
 * is missing there, as it would be in a real install. PACKAGE_TEST_INSTALL=npm runs a real
 * `npm install <tarball>` instead (registry or a warm npm cache; it compiles better-sqlite3 and argon2: about
 * five minutes on a 2-core machine).
 */

const ROOT = process.cwd();
const EXAMPLE = join(ROOT, 'examples', 'host-app');
/** Bounds on hangs, sized for a slow, busy machine (a real npm install compiles native modules). */
const PREPARE_TIMEOUT_MS = 30 * 60_000;
const START_TIMEOUT_MS = 180_000;
const IAM = '/iam/api/v1';

/** Runs a command to its end; resolves with its stdout, rejects with everything it wrote. */
function run(command: string, args: string[], cwd: string): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', fail);
    child.on('close', (code) =>
      code === 0 ? done(stdout) : fail(new Error(`${command} ${args.join(' ')} failed (${code}):\n${output}`)),
    );
  });
}

interface PackageJson {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

/** The tarball unpacked into node_modules/iam-service, and what host and IAM declare linked from ours. */
function linkedInstall(tarball: string, host: string): Promise<string> {
  const modules = join(host, 'node_modules');
  const iam = join(modules, 'iam-service');
  mkdirSync(iam, { recursive: true });
  const hostPackage = readJson<PackageJson>(join(host, 'package.json'));
  const iamPackage = readJson<PackageJson>(join(ROOT, 'package.json'));
  const names = new Set([
    ...Object.keys(hostPackage.dependencies ?? {}),
    ...Object.keys(hostPackage.devDependencies ?? {}),
    ...Object.keys(iamPackage.dependencies ?? {}),
    ...Object.keys(iamPackage.peerDependencies ?? {}),
  ]);
  names.delete('iam-service');
  for (const name of names) {
    const target = join(ROOT, 'node_modules', name);
    if (!existsSync(target)) {
      throw new Error(`${name} is not installed in ${ROOT}/node_modules`);
    }
    mkdirSync(dirname(join(modules, name)), { recursive: true });
    symlinkSync(target, join(modules, name), 'dir');
  }
  return run('tar', ['-xzf', tarball, '-C', iam, '--strip-components=1'], host);
}

function npmInstall(tarball: string, host: string): Promise<string> {
  return run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], host);
}

interface HostProcess {
  url: string;
  /** Its working directory, where its own database, host.sqlite, is. */
  cwd: string;
  child: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

/** `node dist/main.js` in a directory of its own (its host.sqlite lands there), resolved once it listens. */
async function startHost(host: string, databaseUrl: string): Promise<HostProcess> {
  const port = await freePort();
  const cwd = mkdtempSync(join(tmpdir(), 'iam-host-run-'));
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(DATABASE_|IAM_|PORT$|HOST$)/.test(name)),
  );
  const child = spawn(process.execPath, [join(host, 'dist', 'main.js')], {
    cwd,
    env: { ...inherited, PORT: String(port), DATABASE_URL: databaseUrl, IAM_BOOTSTRAP_TOKEN: ADMIN_TOKEN },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
    }
    await exited;
    rmSync(cwd, { recursive: true, force: true });
  };
  await new Promise<void>((done, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`host did not start within ${START_TIMEOUT_MS} ms:\n${output}`)),
      START_TIMEOUT_MS,
    );
    const check = () => {
      if (output.includes('Host app listening on')) {
        clearTimeout(timer);
        done();
      }
    };
    child.stdout.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      fail(new Error(`host exited (${code}) before listening:\n${output}`));
    });
  });
  return { url: `http://127.0.0.1:${port}`, cwd, child, output: () => output, stop };
}

interface Answer {
  status: number;
  body: unknown;
  headers: Headers;
}

interface RequestOptions {
  token?: string;
  json?: unknown;
  /** Sent as is, with `contentType`. */
  raw?: string;
  contentType?: string;
}

async function call(base: string, method: string, path: string, options: RequestOptions = {}): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.token) {
    headers.Authorization = `Bearer ${options.token}`;
  }
  let body: string | undefined;
  if (options.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.raw !== undefined) {
    headers['Content-Type'] = options.contentType ?? 'application/json';
    body = options.raw;
  }
  const response = await fetch(`${base}${path}`, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: kept as text
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

/** The IAM's error body (common/api-error.ts): what every IAM route answers on failure. */
const iamError = (status: number) =>
  expect.objectContaining({
    type: expect.any(String),
    title: expect.any(String),
    status,
    request_id: expect.any(String),
  });

let workDir: string;
let host: string;
let packedFiles: string[];

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'iam-package-'));
  // dist/ as every process test uses it (built once, under a lock); packing must not rebuild it under them.
  await ensureBuilt();
  const packed = JSON.parse(
    await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', workDir], ROOT),
  ) as { filename: string; files: { path: string }[] }[];
  packedFiles = packed[0].files.map((file) => file.path);
  const tarball = join(workDir, packed[0].filename);

  host = join(workDir, 'host-app');
  cpSync(EXAMPLE, host, {
    recursive: true,
    filter: (source) => !/[/\\](node_modules|dist)$|\.sqlite$|\.tgz$/.test(source),
  });
  await (process.env.PACKAGE_TEST_INSTALL === 'npm' ? npmInstall(tarball, host) : linkedInstall(tarball, host));
  await run(process.execPath, [join(host, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], host);
}, PREPARE_TIMEOUT_MS);

afterAll(() => {
  if (workDir) {
    rmSync(workDir, { recursive: true, force: true });
  }
});

describe('the npm package', () => {
  it('holds the built JS and its declarations, not the TypeScript sources or the tests', () => {
    expect(packedFiles).toEqual(
      expect.arrayContaining(['package.json', 'README.md', 'dist/src/public-api.js', 'dist/src/public-api.d.ts']),
    );
    const unexpected = packedFiles.filter(
      (path) => !['package.json', 'README.md'].includes(path) && !/^dist\/src\/.+\.(js|d\.ts)$/.test(path),
    );
    expect(unexpected).toEqual([]);
    expect(packedFiles.filter((path) => /spec\./.test(path) || path.startsWith('test/'))).toEqual([]);
  });

  it('is built by the example with strict: true', () => {
    const tsconfig = readJson<{ compilerOptions: { strict?: boolean } }>(join(host, 'tsconfig.json'));
    expect(tsconfig.compilerOptions.strict).toBe(true);
    expect(existsSync(join(host, 'dist', 'main.js'))).toBe(true);
  });
});

describe.each(TEST_DATABASES)('the example host app with the IAM on %s', (kind) => {
  let database: TestDatabase;
  let app: HostProcess;
  let readerToken: string;
  let oneWidgetToken: string;
  let outsiderToken: string;
  const api = (method: string, path: string, options?: RequestOptions) => call(app.url, method, path, options);
  const admin = (method: string, path: string, json?: unknown) =>
    api(method, `${IAM}${path}`, { token: ADMIN_TOKEN, json });

  async function serviceAccount(name: string, groups: string[]): Promise<string> {
    const created = await admin('POST', '/service-accounts', { name });
    expect(created.status).toBe(201);
    if (groups.length > 0) {
      expect((await admin('PUT', `/service-accounts/${name}/groups`, { add_to_groups: groups })).status).toBe(200);
    }
    return (created.body as { token: string }).token;
  }

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    app = await startHost(host, database.url);
  }, START_TIMEOUT_MS + 60_000);

  afterAll(async () => {
    await app?.stop();
    await database?.drop();
  });

  it('serves the IAM under /iam/api/v1: a user, roles allowing widgets:Read, groups, service accounts', async () => {
    const user = await admin('POST', '/users', { name: 'alice', display_name: 'Alice' });
    expect(user.status).toBe(201);
    expect(user.body).toMatchObject({ name: 'alice', display_name: 'Alice' });
    expect((await admin('GET', '/users/alice')).body).toMatchObject({ name: 'alice' });

    const allWidgets = await admin('POST', '/roles', {
      name: 'widget-readers',
      policy: [{ effect: 'allow', action: 'widgets:Read', resource: 'widgets:widget:*' }],
    });
    expect(allWidgets.status).toBe(201);
    const oneWidget = await admin('POST', '/roles', {
      name: 'widget-1-readers',
      policy: [{ effect: 'allow', action: 'widgets:Read', resource: 'widgets:widget:1' }],
    });
    expect(oneWidget.status).toBe(201);
    expect(
      (await admin('POST', '/groups', { name: 'widget-readers', roles: ['widget-readers'], members: ['alice'] }))
        .status,
    ).toBe(201);
    expect((await admin('POST', '/groups', { name: 'widget-1-readers', roles: ['widget-1-readers'] })).status).toBe(
      201,
    );

    readerToken = await serviceAccount('widget-reader', ['widget-readers']);
    oneWidgetToken = await serviceAccount('widget-1-reader', ['widget-1-readers']);
    outsiderToken = await serviceAccount('outsider', []);

    const group = await admin('GET', '/groups/widget-readers');
    expect(group.status).toBe(200);
    expect(group.body).toMatchObject({ roles: [expect.objectContaining({ name: 'widget-readers' })] });
  });

  it("refuses an action that is neither the IAM's nor one the host registered (400)", async () => {
    const answer = await admin('POST', '/roles', {
      name: 'gadget-readers',
      policy: [{ effect: 'allow', action: 'gadgets:Read', resource: 'gadgets:gadget:*' }],
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual(iamError(400));
  });

  it("answers the IAM's own errors with the IAM's error body", async () => {
    const unauthenticated = await api('GET', `${IAM}/users`);
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.body).toEqual(iamError(401));
    const forbidden = await api('GET', `${IAM}/users/alice`, { token: readerToken });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toEqual(iamError(403));
  });

  it('guards GET /widgets/:id with IamAuthGuard and @RequireAction(widgets:Read, widgets:widget:{id})', async () => {
    expect(await api('GET', '/widgets/1', { token: readerToken })).toMatchObject({
      status: 200,
      body: { id: 1, name: 'Sprocket' },
    });
    expect(await api('GET', '/widgets/3', { token: readerToken })).toMatchObject({
      status: 200,
      body: { id: 3, name: 'Flange' },
    });
    // {id} comes from the route: a grant on widgets:widget:1 reads widget 1 and nothing else.
    expect((await api('GET', '/widgets/1', { token: oneWidgetToken })).status).toBe(200);
    expect((await api('GET', '/widgets/2', { token: oneWidgetToken })).status).toBe(403);
    expect((await api('GET', '/widgets/1', { token: outsiderToken })).status).toBe(403);
    expect((await api('GET', '/widgets/1', { token: 'iamsa_not-a-token' })).status).toBe(401);
    expect((await api('GET', '/widgets/1')).status).toBe(401);
    // The administrator of the IAM may do anything, the host's actions included.
    expect((await api('GET', '/widgets/2', { token: ADMIN_TOKEN })).status).toBe(200);
  });

  it("leaves the host's own routes as they are: public status, its 404 and 422 bodies, its form parsing", async () => {
    expect(await api('GET', '/status')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await api('GET', '/widgets/42', { token: readerToken })).toMatchObject({
      status: 404,
      body: { message: 'Widget 42 not found', error: 'Not Found', statusCode: 404 },
    });
    expect(await api('POST', '/widgets/preview', { json: { name: '' } })).toMatchObject({
      status: 422,
      body: { message: 'name must be a non-empty string', error: 'Unprocessable Entity', statusCode: 422 },
    });
    expect(await api('POST', '/widgets/preview', { json: { name: 'Big Gear' } })).toMatchObject({
      status: 200,
      body: { name: 'Big Gear', slug: 'big-gear' },
    });
    const form = await api('POST', '/widgets/echo-form', {
      raw: 'name=Big+Gear&colour=r%C3%B6d',
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(form).toMatchObject({ status: 200, body: { name: 'Big Gear', colour: 'röd' } });
    // Not a route of either: the host's (Nest's) own 404.
    expect(await api('GET', '/no-such-route')).toMatchObject({
      status: 404,
      body: { message: 'Cannot GET /no-such-route', error: 'Not Found', statusCode: 404 },
    });
  });

  it("parses the IAM's bodies by the IAM's rules, the host's by the host's parsers", async () => {
    const token = ADMIN_TOKEN;
    const iamMalformed = await api('POST', `${IAM}/users`, { token, raw: '{"name":' });
    expect(iamMalformed.status).toBe(400);
    expect(iamMalformed.body).toEqual(iamError(400));
    const tooLarge = { name: 'big', display_name: 'x'.repeat(200_000) };
    const iamTooLarge = await api('POST', `${IAM}/users`, { token, json: tooLarge });
    expect(iamTooLarge.status).toBe(413);
    expect(iamTooLarge.body).toEqual(iamError(413));
    const form = { raw: 'name=bob', contentType: 'application/x-www-form-urlencoded' };
    const iamForm = await api('POST', `${IAM}/users`, { token, ...form });
    expect(iamForm.status).toBe(415);
    expect(iamForm.body).toEqual(iamError(415));
    expect(await api('POST', '/widgets/preview', { raw: '{"name":' })).toMatchObject({
      status: 400,
      body: { error: 'Bad Request', statusCode: 400 },
    });
  });

  it("keeps the host's tables and the IAM's in their own DataSources", async () => {
    const iamTables = await tablesOf(database);
    expect(iamTables).toEqual(
      expect.arrayContaining([expect.stringMatching(/users$/), expect.stringMatching(/groups$/)]),
    );
    expect(iamTables).not.toContain('widgets');
    const hostTables = await tablesOf({ kind: 'sqlite', url: `sqlite:${join(app.cwd, 'host.sqlite')}` });
    expect(hostTables).toContain('widgets');
    expect(hostTables.filter((table) => /users|groups|sessions|migrations/.test(table))).toEqual([]);
  });
});

async function tablesOf(database: Pick<TestDatabase, 'kind' | 'url'>): Promise<string[]> {
  if (database.kind === 'sqlite') {
    const db = new Database(database.url.slice('sqlite:'.length), { readonly: true });
    try {
      return (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[]).map(
        (row) => row.name,
      );
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    const result = await client.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')`,
    );
    return result.rows.map((row) => row.table_name);
  } finally {
    await client.end();
  }
}
