/**
 * `npm run bench`: the framework ceiling, then this service on SQLite (and on PostgreSQL with BENCH_DATABASE_URL),
 * each pinned to one core, loaded by autocannon from the other; prints one table, the SQL statements per request
 * kind, and a verdict per target of issue 10. See the README's "Benchmark" section.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { BenchDatabase, createPostgresDatabase, type DatabaseKind } from './database.js';
import { type LoadOptions, type LoadRequest, type LoadResult, measureOnly, warmUp } from './load.js';
import { machineDescription } from './machine.js';
import { freePort, hasTaskset, killAllServers, ServerProcess } from './server-process.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CEILING = fileURLToPath(new URL('./ceiling.js', import.meta.url));

const env = process.env;
const SETTINGS = {
  seconds: Number(env.BENCH_SECONDS ?? 10),
  warmupSeconds: Number(env.BENCH_WARMUP_SECONDS ?? 3),
  connections: Number(env.BENCH_CONNECTIONS ?? 50),
  serverCpu: (env.BENCH_SERVER_CPU ?? '1') as string | undefined,
  clientCpu: env.BENCH_CLIENT_CPU ?? '0',
  sqlSamples: Number(env.BENCH_SQL_SAMPLES ?? 5),
  postgresServerUrl: env.BENCH_DATABASE_URL,
  writeResults: env.BENCH_WRITE_RESULTS === '1',
};

const USERS = 10_000;
const LIST_SMALL_USERS = 1_000;
const LIST_BIG_USERS = 100_000;
const GROUPS = 200;
const SERVICE_ACCOUNTS = 1_000;
const ROLES = 20;
const SEED_CONCURRENCY = 16;

const ADMIN_TOKEN = `bench-bootstrap-${randomBytes(16).toString('hex')}`;
const READER = 'bench-reader';
const READER_PASSWORD = 'bench reader password';
const READER_GROUPS = [groupName(5), groupName(72), groupName(139)];
const SA_ONE = 'bench-sa-one-statement';
const SA_HUNDRED = 'bench-sa-hundred-statements';

function groupName(index: number): string {
  return `bench-g-${String(index).padStart(3, '0')}`;
}

// ---------------------------------------------------------------------------------------------------- output

const output: string[] = [];
function print(line = ''): void {
  output.push(line);
  console.log(line);
}
const benchStarted = Date.now();
function progress(line: string): void {
  process.stderr.write(`· ${((Date.now() - benchStarted) / 1000).toFixed(0).padStart(4)} s  ${line}\n`);
}

// ---------------------------------------------------------------------------------------------------- rows

type ReadKind = 'name' | 'me';

interface Row {
  database: 'ceiling' | 'SQLite' | 'PostgreSQL';
  label: string;
  result: LoadResult;
  rssMb: number;
  loopMaxMs: number;
  gcMaxMs: number;
  liveHeapMb: number;
  /** For reads: which ceiling read it is compared with. */
  read?: ReadKind;
  ratio?: number;
}

const rows: Row[] = [];
const ceilingRows: Partial<Record<ReadKind, Row>> = {};

/** Warm-up, then the measured window with the server's event-loop monitor reset in between. */
async function row(
  server: ServerProcess,
  database: Row['database'],
  label: string,
  request: LoadRequest,
  options: Partial<LoadOptions> = {},
  read?: ReadKind,
): Promise<Row> {
  progress(`${database}: ${label}`);
  const load: LoadOptions = {
    baseUrl: server.baseUrl,
    connections: SETTINGS.connections,
    seconds: SETTINGS.seconds,
    warmupSeconds: SETTINGS.warmupSeconds,
    ...options,
  };
  await warmUp(request, load);
  await server.resetLoop();
  const result = await measureOnly(request, load);
  const report = await server.report();
  const measured: Row = {
    database,
    label,
    result,
    rssMb: report.rssBytes / 2 ** 20,
    loopMaxMs: report.loopMaxMs,
    gcMaxMs: report.gcMaxMs,
    liveHeapMb: report.liveHeapBytes / 2 ** 20,
    read,
  };
  if (read && database !== 'ceiling') {
    const ceiling = ceilingRows[read];
    measured.ratio = ceiling ? result.requestsPerSecond / ceiling.result.requestsPerSecond : undefined;
  }
  rows.push(measured);
  return measured;
}

// ---------------------------------------------------------------------------------------------------- HTTP seeding

interface ApiAnswer<T> {
  status: number;
  body: T;
  headers: Headers;
}

async function api<T = unknown>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = { Authorization: `Bearer ${ADMIN_TOKEN}` },
): Promise<ApiAnswer<T>> {
  const response = await fetch(base + path, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T, headers: response.headers };
}

/** `api`, failing on anything but a 2xx: seeding must not go on after a refused request. */
async function apiOk<T = unknown>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const answer = await api<T>(base, method, path, body);
  if (answer.status < 200 || answer.status >= 300) {
    throw new Error(`${method} ${path} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  }
  return answer.body;
}

/** Runs `task` over `items`, `concurrency` at a time. */
async function pool<T>(items: T[], concurrency: number, task: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        await task(items[next++]);
      }
    }),
  );
}

const range = (count: number, from = 0) => Array.from({ length: count }, (_, i) => from + i);

interface Credentials {
  oneStatementToken: string;
  hundredStatementsToken: string;
  readerCookie: string;
}

/**
 * Roles, groups, service accounts and the reader, through the API. Role 0 (one statement, iam:GetUser on every
 * user) and role 1 (99 statements that do not match, then that one) are bound to groups 0 and 1 (and every
 * 20th group after them); the two non-admin service accounts are in groups 0 and 1.
 */
async function seedPrincipals(base: string): Promise<Credentials> {
  const started = Date.now();
  const roles = range(ROLES).map((i) => {
    if (i === 0) {
      return { name: 'bench-r-00', policy: [{ effect: 'allow', action: 'iam:GetUser', resource: 'iam:user:*' }] };
    }
    if (i === 1) {
      const misses = range(99).map((n) => ({
        effect: 'allow',
        action: 'iam:GetUser',
        resource: `iam:user:nobody-${n}-*`,
      }));
      return {
        name: 'bench-r-01',
        policy: [...misses, { effect: 'allow', action: 'iam:GetUser', resource: 'iam:user:*' }],
      };
    }
    const name = `bench-r-${String(i).padStart(2, '0')}`;
    return { name, policy: [{ effect: 'allow', action: 'iam:GetGroup', resource: `iam:group:bench-g-${i}*` }] };
  });
  await pool(roles, SEED_CONCURRENCY, (role) => apiOk(base, 'POST', '/api/v1/roles', role));
  await pool(range(GROUPS), SEED_CONCURRENCY, (i) =>
    apiOk(base, 'POST', '/api/v1/groups', { name: groupName(i), roles: [roles[i % ROLES].name] }),
  );
  await pool(range(SERVICE_ACCOUNTS), SEED_CONCURRENCY, (i) =>
    apiOk(base, 'POST', '/api/v1/service-accounts', { name: `bench-sa-${String(i).padStart(4, '0')}` }),
  );
  const tokenOf = async (name: string, group: string) => {
    const account = await apiOk<{ token: string }>(base, 'POST', '/api/v1/service-accounts', { name });
    await apiOk(base, 'PUT', `/api/v1/service-accounts/${name}/groups`, { add_to_groups: [group] });
    return account.token;
  };
  const oneStatementToken = await tokenOf(SA_ONE, groupName(0));
  const hundredStatementsToken = await tokenOf(SA_HUNDRED, groupName(1));
  await apiOk(base, 'POST', '/api/v1/users', {
    name: READER,
    display_name: 'Bench Reader',
    metadata: { team: 'bench' },
  });
  await apiOk(base, 'PUT', `/api/v1/users/${READER}/groups`, { set_groups: READER_GROUPS });
  await apiOk(base, 'PUT', `/api/v1/users/${READER}/password`, { password: READER_PASSWORD });
  const login = await api(base, 'POST', '/api/v1/login', { username: READER, password: READER_PASSWORD }, {});
  const cookie = login.headers.getSetCookie().find((c) => c.startsWith('session_id='));
  if (login.status !== 200 || !cookie) {
    throw new Error(`sign-in as ${READER} answered ${login.status} without a session cookie`);
  }
  progress(`seeded ${ROLES} roles, ${GROUPS} groups, ${SERVICE_ACCOUNTS + 2} service accounts in ${elapsed(started)}`);
  return { oneStatementToken, hundredStatementsToken, readerCookie: cookie.split(';')[0] };
}

/**
 * Creates the users, each in 3 groups as every user of the run ends up (so that the list at 1,000 users reads pages
 * as heavy as the list at 100,000: a user's groups are most of its JSON and of the statements' rows).
 */
async function createUsers(base: string, names: string[]): Promise<void> {
  const started = Date.now();
  await pool(names, SEED_CONCURRENCY, async (name) => {
    await apiOk(base, 'POST', '/api/v1/users', { name });
    const index = names.indexOf(name);
    const groups = [0, 67, 134].map((offset) => groupName((index + offset) % GROUPS));
    await apiOk(base, 'PUT', `/api/v1/users/${name}/groups`, { set_groups: groups });
  });
  progress(`created ${names.length} users (3 groups each) through the API in ${elapsed(started)}`);
}

const elapsed = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

// ---------------------------------------------------------------------------------------------------- the ceiling

/** A user as the service answers GET /users/{name} (UserDto), for the ceiling to return from memory. */
function ceilingUserBody(): Record<string, unknown> {
  const createdAt = new Date().toISOString();
  return {
    name: READER,
    display_name: 'Bench Reader',
    lrn: `iam:user:${READER}`,
    id: randomUUID(),
    created_at: createdAt,
    groups: READER_GROUPS.map((name) => ({
      name,
      display_name: name,
      lrn: `iam:group:${name}`,
      id: randomUUID(),
      created_at: createdAt,
      description: '',
      sso_name: name,
      user_count: 150,
      sa_count: 0,
      role_count: 1,
      metadata: {},
    })),
    last_seen_at: createdAt,
    profile: { full_name: null, email_address: null },
    is_admin: false,
    metadata: { team: 'bench' },
    locked_until: null,
  };
}

const CEILING_SESSION = randomBytes(24).toString('base64url');
const ceilingBody = ceilingUserBody();

async function runCeiling(workDir: string): Promise<void> {
  const fixture = join(workDir, 'ceiling-fixture.json');
  writeFileSync(
    fixture,
    JSON.stringify({
      tokens: { [ADMIN_TOKEN]: 'admin' },
      sessions: { [CEILING_SESSION]: READER },
      users: { [READER]: ceilingBody },
    }),
  );
  const port = await freePort();
  const server = await ServerProcess.start({
    label: 'the ceiling app',
    args: [CEILING],
    env: { ...baseEnv(), CEILING_PORT: String(port), CEILING_FIXTURE: fixture },
    port,
    readyPath: '/api/v1/users/me',
    cpu: SETTINGS.serverCpu,
    logFile: join(workDir, 'ceiling.log'),
    cwd: workDir,
  });
  try {
    ceilingRows.name = await row(
      server,
      'ceiling',
      'GET /users/{name}',
      { path: `/api/v1/users/${READER}`, headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } },
      {},
      'name',
    );
    ceilingRows.me = await row(
      server,
      'ceiling',
      'GET /users/me',
      { path: '/api/v1/users/me', headers: { Cookie: `session_id=${CEILING_SESSION}` } },
      {},
      'me',
    );
  } finally {
    await server.stop();
  }
}

// ---------------------------------------------------------------------------------------------------- the service

function baseEnv(): NodeJS.ProcessEnv {
  // The servers' own settings only: no database, Redis or logging setting of the caller's leaks in.
  const inherited = { ...process.env };
  for (const name of ['REDIS_URL', 'DATABASE_URL', 'DATABASE_LOGGING']) {
    delete inherited[name];
  }
  return { ...inherited, NODE_ENV: 'production' };
}

function serviceEnv(port: number, databaseUrl: string, sqlLogging = false): NodeJS.ProcessEnv {
  return {
    ...baseEnv(),
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    DATABASE_LOGGING: String(sqlLogging),
    IAM_BOOTSTRAP_TOKEN: ADMIN_TOKEN,
    IAM_LOGIN_RATE_LIMIT: '1000000',
    IAM_AUTH_FAILURE_LIMIT: '1000000',
    IAM_SWAGGER: 'false',
    LOG_LEVEL: sqlLogging ? 'info' : 'warn',
  };
}

interface ServiceRun {
  label: Row['database'];
  kind: DatabaseKind;
  databaseUrl: string;
  workDir: string;
  starts: number;
}

async function startService(run: ServiceRun, sqlLogging = false): Promise<ServerProcess> {
  const port = await freePort();
  run.starts++;
  return ServerProcess.start({
    label: `the service on ${run.label}`,
    args: [join(ROOT, 'dist', 'src', 'main.js')],
    env: serviceEnv(port, run.databaseUrl, sqlLogging),
    port,
    readyPath: '/health',
    cpu: SETTINGS.serverCpu,
    logFile: join(run.workDir, `service-${run.kind}-${run.starts}.log`),
    cwd: run.workDir,
  });
}

interface ListSupport {
  supported: boolean;
  path: string;
}

/** Whether this checkout pages lists (`limit`, `{ items, next_page_token? }`), asked with limit=1. */
async function listSupport(base: string): Promise<ListSupport> {
  const answer = await api<{ items?: unknown[] }>(base, 'GET', '/api/v1/users?limit=1');
  const supported = answer.status === 200 && answer.body.items?.length === 1;
  return { supported, path: supported || answer.status === 200 ? '/api/v1/users?limit=1000' : '/api/v1/users' };
}

interface Findings {
  database: Row['database'];
  list: ListSupport;
  commit: { usersAcknowledged: number; usersFound: number; putsAcknowledged: number; putsMatching: number };
  shape: string;
  statements: { kind: string; first: number; repeat: number[] }[];
  background: number;
  rows: Partial<Record<'admin' | 'one' | 'hundred' | 'me' | 'post' | 'put' | 'listSmall' | 'listBig', Row>>;
}

async function runService(label: 'SQLite' | 'PostgreSQL', workDir: string): Promise<Findings> {
  const kind: DatabaseKind = label === 'SQLite' ? 'sqlite' : 'postgres';
  let dropDatabase: () => Promise<void> = () => Promise.resolve();
  let databaseUrl = `sqlite:${join(workDir, 'bench.sqlite')}`;
  if (kind === 'postgres') {
    const created = await createPostgresDatabase(SETTINGS.postgresServerUrl!);
    databaseUrl = created.url;
    dropDatabase = created.drop;
    cleanups.push(dropDatabase);
  }
  const run: ServiceRun = { label, kind, databaseUrl, workDir, starts: 0 };
  const findings: Findings = {
    database: label,
    list: { supported: false, path: '' },
    commit: { usersAcknowledged: 0, usersFound: 0, putsAcknowledged: 0, putsMatching: 0 },
    shape: '',
    statements: [],
    background: 0,
    rows: {},
  };
  const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };
  const json = { ...admin, 'Content-Type': 'application/json' };
  try {
    // 1. Seed through the API; the list at ~1,000 users; the write rows, which create most of the users.
    let server = await startService(run);
    const credentials = await seedPrincipals(server.baseUrl);
    const seedNames = range(LIST_SMALL_USERS - 1).map((i) => `bench-seed-${String(i).padStart(5, '0')}`);
    await createUsers(server.baseUrl, seedNames);
    findings.list = await listSupport(server.baseUrl);
    findings.rows.listSmall = await row(server, label, `GET /users?limit=1000 at ${LIST_SMALL_USERS} users`, {
      path: findings.list.path,
      headers: admin,
    });

    const created = new Set<string>();
    let postCounter = 0;
    findings.rows.post = await row(server, label, 'POST /users', {
      method: 'POST',
      path: '/api/v1/users',
      headers: json,
      next: () => ({
        path: '/api/v1/users',
        body: JSON.stringify({ name: `bench-post-${String(postCounter++).padStart(6, '0')}` }),
      }),
      onSuccess: (body) => created.add((JSON.parse(body) as { name: string }).name),
    });
    const allUsers = [...seedNames, ...[...created].sort()];
    // Up to 10,000 users: those the POST row did not create are inserted directly (the server stopped meanwhile,
    // so that nothing it holds in memory can miss them), as copies of a seeded user.
    const missing = USERS - 1 - allUsers.length;
    if (missing > 0) {
      await server.stop();
      const database = await BenchDatabase.open(databaseUrl);
      try {
        await database.insertUsersLike(seedNames[0], 'bench-more-', missing);
      } finally {
        await database.close();
      }
      allUsers.push(...range(missing, 1).map((i) => `bench-more-${String(i).padStart(6, '0')}`));
      progress(`${missing} users inserted directly`);
      server = await startService(run);
    }

    const acknowledgedGroups = new Map<string, string[]>();
    let putCounter = 0;
    findings.rows.put = await row(server, label, 'PUT /users/{name}/groups', {
      method: 'PUT',
      path: '/api/v1/users/x/groups',
      headers: json,
      next: () => {
        const n = putCounter++;
        const user = n % allUsers.length;
        const pass = Math.floor(n / allUsers.length);
        const groups = [0, 67, 134].map((offset) => groupName((user + offset + pass * 7) % GROUPS));
        return {
          path: `/api/v1/users/${allUsers[user]}/groups`,
          body: JSON.stringify({ set_groups: groups }),
        };
      },
      onSuccess: (body) => {
        const user = JSON.parse(body) as { name: string; groups: { name: string }[] };
        acknowledgedGroups.set(user.name, user.groups.map((g) => g.name).sort());
      },
    });

    // 2. Every acknowledged write is in the database (read by another connection while the server runs).
    const database = await BenchDatabase.open(databaseUrl);
    try {
      findings.commit.usersAcknowledged = created.size;
      findings.commit.usersFound = await database.countUsersNamed([...created]);
      const stored = await database.groupsOf([...acknowledgedGroups.keys()]);
      findings.commit.putsAcknowledged = acknowledgedGroups.size;
      findings.commit.putsMatching = [...acknowledgedGroups].filter(
        ([name, groups]) => stored.get(name)?.join(',') === groups.join(','),
      ).length;
      await server.stop();
      // Users the PUT row did not reach join three groups each, directly (the server is stopped, so that no
      // cache of it can miss the change).
      const joined = await database.addUsersWithoutGroupsToGroups(GROUPS);
      await database.analyze();
      progress(`${joined} memberships added directly; ${await database.countUsers()} users`);
    } finally {
      await database.close();
    }

    // 3. The reads, at 10,000 users.
    server = await startService(run);
    findings.shape = await compareShape(server.baseUrl);
    findings.rows.admin = await row(
      server,
      label,
      'GET /users/{name} admin token',
      { path: `/api/v1/users/${READER}`, headers: admin },
      {},
      'name',
    );
    findings.rows.one = await row(
      server,
      label,
      'GET /users/{name} non-admin, 1 statement',
      { path: `/api/v1/users/${READER}`, headers: { Authorization: `Bearer ${credentials.oneStatementToken}` } },
      {},
      'name',
    );
    findings.rows.hundred = await row(
      server,
      label,
      'GET /users/{name} non-admin, 100 statements',
      {
        path: `/api/v1/users/${READER}`,
        headers: { Authorization: `Bearer ${credentials.hundredStatementsToken}` },
      },
      {},
      'name',
    );
    findings.rows.me = await row(
      server,
      label,
      'GET /users/me session cookie',
      { path: '/api/v1/users/me', headers: { Cookie: credentials.readerCookie } },
      {},
      'me',
    );
    await server.stop();

    // 4. The list at 100,000 users, inserted directly.
    const bulk = await BenchDatabase.open(databaseUrl);
    try {
      const before = await bulk.countUsers();
      const started = Date.now();
      await bulk.insertUsersLike(seedNames[0], 'bench-bulk-', LIST_BIG_USERS - before);
      await bulk.addUsersWithoutGroupsToGroups(GROUPS);
      await bulk.analyze();
      progress(`${await bulk.countUsers()} users after a direct insert (${elapsed(started)})`);
    } finally {
      await bulk.close();
    }
    server = await startService(run);
    findings.rows.listBig = await row(
      server,
      label,
      findings.list.supported
        ? `GET /users?limit=1000 at ${LIST_BIG_USERS} users`
        : `GET /users at ${LIST_BIG_USERS} users (whole list: limit not supported; 1 connection, 1 request)`,
      { path: findings.list.path, headers: admin },
      findings.list.supported ? {} : { connections: 1, amount: 1, timeoutSeconds: 600, warmupSeconds: 0 },
    );
    await server.stop();

    // 5. SQL statements per request kind, one request at a time, with DATABASE_LOGGING on.
    server = await startService(run, true);
    await countStatements(server, credentials, findings, allUsers);
    await server.stop();
    return findings;
  } finally {
    const index = cleanups.indexOf(dropDatabase);
    if (index >= 0) {
      cleanups.splice(index, 1);
    }
    await dropDatabase();
  }
}

/** The service's real body for the read, against the ceiling's: same keys (recursively), and their sizes. */
async function compareShape(base: string): Promise<string> {
  const answer = await api<Record<string, unknown>>(base, 'GET', `/api/v1/users/${READER}`);
  const keys = (value: unknown, prefix = ''): string[] => {
    if (Array.isArray(value)) {
      return value.length > 0 ? keys(value[0], `${prefix}[]`) : [`${prefix}[]`];
    }
    if (value !== null && typeof value === 'object') {
      return Object.entries(value).flatMap(([k, v]) => [`${prefix}.${k}`, ...keys(v, `${prefix}.${k}`)]);
    }
    return [];
  };
  const service = keys(answer.body).sort().join(' ');
  const ceiling = keys(ceilingBody).sort().join(' ');
  const sizes = `service ${JSON.stringify(answer.body).length} bytes, ceiling ${JSON.stringify(ceilingBody).length} bytes`;
  return service === ceiling
    ? `same fields (${sizes})`
    : `FIELDS DIFFER (${sizes}): service ${service} / ceiling ${ceiling}`;
}

async function countStatements(
  server: ServerProcess,
  credentials: Credentials,
  findings: Findings,
  users: string[],
): Promise<void> {
  const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };
  let user = 0;
  let post = 0;
  const kinds: { kind: string; send: (id: string) => Promise<number> }[] = [
    { kind: 'GET /users/{name} admin token', send: (id) => get(`/api/v1/users/${READER}`, admin, id) },
    {
      kind: 'GET /users/{name} non-admin, 1 statement',
      send: (id) => get(`/api/v1/users/${READER}`, { Authorization: `Bearer ${credentials.oneStatementToken}` }, id),
    },
    {
      kind: 'GET /users/{name} non-admin, 100 statements',
      send: (id) =>
        get(`/api/v1/users/${READER}`, { Authorization: `Bearer ${credentials.hundredStatementsToken}` }, id),
    },
    {
      kind: 'GET /users/me session cookie',
      send: (id) => get('/api/v1/users/me', { Cookie: credentials.readerCookie }, id),
    },
    {
      kind: 'POST /users',
      send: (id) => send('POST', '/api/v1/users', { name: `bench-sql-${String(post++).padStart(3, '0')}` }, id),
    },
    {
      kind: 'PUT /users/{name}/groups',
      send: (id) =>
        send('PUT', `/api/v1/users/${users[user++]}/groups`, { set_groups: [groupName(10), groupName(11)] }, id),
    },
  ];
  if (findings.list.supported) {
    kinds.push({ kind: 'GET /users?limit=1000 (100,000 users)', send: (id) => get(findings.list.path, admin, id) });
  }
  async function get(path: string, headers: Record<string, string>, id: string): Promise<number> {
    const response = await fetch(server.baseUrl + path, { headers: { ...headers, 'X-Request-Id': id } });
    await response.arrayBuffer();
    return response.status;
  }
  async function send(method: string, path: string, body: unknown, id: string): Promise<number> {
    const response = await fetch(server.baseUrl + path, {
      method,
      headers: { ...admin, 'Content-Type': 'application/json', 'X-Request-Id': id },
      body: JSON.stringify(body),
    });
    await response.arrayBuffer();
    return response.status;
  }
  progress(`${findings.database}: counting SQL statements`);
  const ids = new Map<string, string[]>();
  for (const [k, { kind, send: request }] of kinds.entries()) {
    const sent: string[] = [];
    for (let i = 0; i <= SETTINGS.sqlSamples; i++) {
      const id = `bench-sql-${k}-${i}`;
      const status = await request(id);
      if (status >= 300) {
        throw new Error(`${kind} answered ${status} in the SQL count`);
      }
      sent.push(id);
    }
    ids.set(kind, sent);
  }
  await sleep(1500); // statements a request leaves running after its answer (off the request's path) land too
  await server.stop();
  const perRequest = new Map<string, number>();
  // Statements outside any request are counted from the first request on (not those of the start-up).
  let background: number | undefined;
  for (const line of readFileSync(server.options.logFile, 'utf8').split('\n')) {
    if (!line.startsWith('{')) {
      continue;
    }
    const entry = JSON.parse(line) as { msg?: string; req?: { id?: string } };
    const id = entry.req?.id;
    if (id?.startsWith('bench-sql-')) {
      background ??= 0;
      if (entry.msg === 'query') {
        perRequest.set(id, (perRequest.get(id) ?? 0) + 1);
      }
    } else if (entry.msg === 'query' && background !== undefined) {
      background++;
    }
  }
  findings.background = background ?? 0;
  findings.statements = [...ids].map(([kind, sent]) => ({
    kind,
    first: perRequest.get(sent[0]) ?? 0,
    repeat: sent.slice(1).map((id) => perRequest.get(id) ?? 0),
  }));
}

// ---------------------------------------------------------------------------------------------------- report

const fmt = (value: number | undefined, digits = 0) =>
  value === undefined || !Number.isFinite(value)
    ? '–'
    : value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function printTable(): void {
  print(
    '| server | row | req/s | p50 ms | p99 ms | ms/request | RSS MB | live heap MB | loop max ms | GC max ms | non-2xx + errors | × ceiling |',
  );
  print('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    print(
      `| ${r.database} | ${r.label} | ${fmt(r.result.requestsPerSecond, r.result.requestsPerSecond < 10 ? 2 : 0)} | ${fmt(r.result.p50Ms, 1)} | ${fmt(r.result.p99Ms, 1)} | ` +
        `${fmt(1000 / r.result.requestsPerSecond, 2)} | ${fmt(r.rssMb)} | ${fmt(r.liveHeapMb)} | ${fmt(r.loopMaxMs, 1)} | ` +
        `${fmt(r.gcMaxMs, 1)} | ${r.result.failures} | ` +
        `${r.ratio === undefined ? (r.database === 'ceiling' ? '1' : '') : fmt(r.ratio, 2)} |`,
    );
  }
}

function verdicts(findings: Findings): void {
  const { rows: f, database } = findings;
  const floor = database === 'SQLite' ? 0.6 : 0.4;
  const verdict = (met: boolean | undefined, text: string) =>
    print(`- ${met === undefined ? 'NOT MEASURED' : met ? 'met' : 'NOT MET'}: ${text}`);
  print(`### Targets on ${database}`);
  print();
  for (const r of [f.admin, f.one, f.me]) {
    if (!r?.read) {
      continue;
    }
    const ceiling = ceilingRows[r.read]!;
    verdict((r.ratio ?? 0) >= floor, `${r.label}: ${fmt(r.ratio, 2)} × the ceiling (target ≥ ${floor})`);
    const p99Ratio = r.result.p99Ms / ceiling.result.p99Ms;
    verdict(
      p99Ratio <= 3,
      `${r.label}: p99 ${fmt(r.result.p99Ms, 1)} ms = ${fmt(p99Ratio, 2)} × the ceiling's ${fmt(ceiling.result.p99Ms, 1)} ms (target ≤ 3)`,
    );
  }
  if (f.admin && f.one && f.hundred) {
    const policyCost = f.admin.result.requestsPerSecond / f.one.result.requestsPerSecond - 1;
    verdict(
      policyCost <= 0.1,
      `policy evaluation adds ${fmt(policyCost * 100, 1)} % to a read (1 statement against the admin token; target ≤ 10 %)`,
    );
    const hundredCost = f.one.result.requestsPerSecond / f.hundred.result.requestsPerSecond;
    verdict(
      hundredCost <= 2,
      `a caller with 100 statements costs ${fmt(hundredCost, 2)} × a caller with 1 (target ≤ 2)`,
    );
  }
  for (const r of [f.post, f.put]) {
    if (r) {
      const text = `${r.label}: ${fmt(r.result.requestsPerSecond)} req/s (target ≥ 1,500 on SQLite, one core)`;
      if (database === 'SQLite') {
        verdict(r.result.requestsPerSecond >= 1500, text);
      } else {
        print(`- (no target on PostgreSQL) ${text}`);
      }
    }
  }
  const c = findings.commit;
  verdict(
    c.usersFound === c.usersAcknowledged && c.putsMatching === c.putsAcknowledged,
    `every write committed: ${c.usersFound} of ${c.usersAcknowledged} acknowledged POST /users in the database; ` +
      `${c.putsMatching} of ${c.putsAcknowledged} users acknowledged by PUT …/groups have exactly the groups answered`,
  );
  const rss = (list: (Row | undefined)[]) => Math.max(...list.map((r) => r?.rssMb ?? 0));
  const live = (list: (Row | undefined)[]) => Math.max(...list.map((r) => r?.liveHeapMb ?? 0));
  const readRss = rss([f.admin, f.one, f.hundred, f.me]);
  const writeRss = rss([f.post, f.put]);
  verdict(
    Math.max(readRss, writeRss) <= 200,
    `server RSS under the read and write load: at most ${fmt(readRss)} MB after a read row, ${fmt(writeRss)} MB ` +
      `after a write row (target ≤ 200 MB; the list rows, not part of this target: ${fmt(rss([f.listSmall, f.listBig]))} MB); ` +
      `the live heap after a full collection at the end of those rows: at most ${fmt(live([f.admin, f.one, f.hundred, f.me, f.post, f.put]))} MB`,
  );
  if (!findings.list.supported) {
    print(
      '- NOT MEASURED: GET /users?limit=1000: this checkout does not support `limit` (GET /users?limit=1 answered ' +
        'more than one user); the list rows above read the WHOLE list instead',
    );
  }
  if (f.listBig) {
    const loopText =
      `event loop's longest delay during the list at ${LIST_BIG_USERS.toLocaleString('en-US')} users: ` +
      `${fmt(f.listBig.loopMaxMs, 1)} ms (target ≤ 50 ms); the garbage collector's longest pause meanwhile: ${fmt(f.listBig.gcMaxMs, 1)} ms`;
    verdict(f.listBig.loopMaxMs <= 50, loopText);
  }
  if (f.listSmall && f.listBig) {
    const small = 1000 / f.listSmall.result.requestsPerSecond;
    const big = 1000 / f.listBig.result.requestsPerSecond;
    verdict(
      findings.list.supported ? big <= 2 * small : undefined,
      `GET /users?limit=1000: ${fmt(big, 1)} ms per request at ${LIST_BIG_USERS.toLocaleString('en-US')} users, ` +
        `${fmt(small, 1)} ms at ${LIST_SMALL_USERS.toLocaleString('en-US')} (${fmt(big / small, 2)} ×; target ≤ 2 ×)`,
    );
  }
  print();
  print(`Body of GET /users/{name}: ${findings.shape}.`);
  print();
}

function printStatements(all: Findings[]): void {
  print(
    `### SQL statements per request (one request at a time, DATABASE_LOGGING=true; first request, then the next ${SETTINGS.sqlSamples})`,
  );
  print();
  print(`| request | ${all.map((f) => `${f.database} first | ${f.database} repeat`).join(' | ')} |`);
  print(`|---|${all.map(() => '---:|---:').join('|')}|`);
  for (const [i, { kind }] of all[0].statements.entries()) {
    const cells = all.map((f) => {
      const s = f.statements[i];
      const min = Math.min(...s.repeat);
      const max = Math.max(...s.repeat);
      return `${s.first} | ${min === max ? min : `${min}–${max}`}`;
    });
    print(`| ${kind} | ${cells.join(' | ')} |`);
  }
  print();
  print(
    `Statements outside any request during the count (after the first request): ${all.map((f) => `${f.database} ${f.background}`).join(', ')}.`,
  );
  print();
}

// ---------------------------------------------------------------------------------------------------- main

const cleanups: (() => Promise<void> | void)[] = [];
let cleaning = false;
async function cleanUp(): Promise<void> {
  if (cleaning) {
    return;
  }
  cleaning = true;
  killAllServers();
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch (error) {
      console.error('clean-up failed:', error);
    }
  }
}
process.on('exit', killAllServers);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping the servers and removing the bench's files`);
    void cleanUp().finally(() => process.exit(130));
  });
}

async function main(): Promise<void> {
  const started = Date.now();
  const cores = cpus().length;
  let pinning: string;
  if (hasTaskset && cores >= 2) {
    spawnSync('taskset', ['-a', '-cp', SETTINGS.clientCpu, String(process.pid)], { stdio: 'ignore' });
    pinning = `servers pinned to CPU ${SETTINGS.serverCpu}, load generator to CPU ${SETTINGS.clientCpu} (taskset)`;
  } else {
    SETTINGS.serverCpu = undefined;
    pinning = `NOT pinned (${hasTaskset ? `${cores} core` : 'no taskset'}): figures are not comparable with pinned runs`;
  }
  const workDir = mkdtempSync(join(tmpdir(), 'iam-bench-'));
  cleanups.push(() => rmSync(workDir, { recursive: true, force: true }));

  const machine = await machineDescription(SETTINGS.postgresServerUrl, ROOT);
  print(`## npm run bench, ${new Date().toISOString()}`);
  print();
  for (const line of machine) {
    print(`- ${line}`);
  }
  print(`- ${pinning}`);
  print(
    `- autocannon, ${SETTINGS.connections} connections, ${SETTINGS.warmupSeconds} s warm-up then ${SETTINGS.seconds} s measured per row; ` +
      `${USERS.toLocaleString('en-US')} users (3 groups each), ${GROUPS} groups, ${SERVICE_ACCOUNTS.toLocaleString('en-US')} service accounts, ${ROLES} roles`,
  );
  print();

  await runCeiling(workDir);
  const findings: Findings[] = [await runService('SQLite', workDir)];
  if (SETTINGS.postgresServerUrl) {
    findings.push(await runService('PostgreSQL', workDir));
  }

  print('### Rows');
  print();
  printTable();
  print();
  print(
    "req/s counts 2xx answers; ms/request is 1000 / req/s, the server's time per request on its one core; " +
      "RSS and the event loop's longest delay are the server's, over the measured window (RSS at its end); " +
      'GC max is the longest garbage-collection pause in that window; live heap is the heap in use after a full ' +
      'collection at its end (what RSS holds beyond it is mostly garbage V8 has not yet collected, and the young ' +
      'generation).',
  );
  print();
  for (const f of findings) {
    verdicts(f);
  }
  printStatements(findings);
  print(`Run time: ${elapsed(started)}.`);

  if (SETTINGS.writeResults) {
    const file = join(ROOT, 'bench', 'RESULTS.md');
    writeFileSync(
      file,
      `# Benchmark results\n\nThe last output of \`BENCH_WRITE_RESULTS=1 npm run bench\`` +
        `${SETTINGS.postgresServerUrl ? ' (with BENCH_DATABASE_URL)' : ''}.\n\n${output.join('\n')}\n`,
    );
    console.error(`written to ${file}`);
  }
}

main()
  .then(cleanUp)
  .catch(async (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    await cleanUp();
    process.exit(1);
  });
