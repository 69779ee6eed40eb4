import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { getDataSourceToken } from '@nestjs/typeorm';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { hashSecret } from '../src/auth/tokens.js';
import { IAM_DATA_SOURCE } from '../src/database/iam-data-source.js';
import { postgresMigrations } from '../src/database/migrations/postgres/postgres-migrations.js';
import { sqliteMigrations } from '../src/database/migrations/sqlite/sqlite-migrations.js';
import {
  ADMIN_TOKEN,
  createTestApp,
  createTestDatabase,
  TEST_DATABASES,
  type TestApp,
  type TestDatabase,
} from './utils/create-app.js';
import { adminAuth, createGroup, createUser, signedInUser, uniqueName } from './utils/fixtures.js';
import { ensureBuilt } from './utils/service-process.js';

/**
 * The admin CLI as an operator runs it: the built `dist/src/cli/main.js` (`npm run iam -- …`) as a child process, on
 * the database of a test app started beside it, whose HTTP API then shows what the command did (and whose principal
 * cache has to learn of it from another process).
 */

const CLI = join(process.cwd(), 'dist', 'src', 'cli', 'main.js');
/** Bounds a hang of one CLI run (a Nest start-up on a busy machine), not a measure of anything. */
const RUN_TIMEOUT_MS = 120_000;
const TEST_TIMEOUT_MS = 10 * 60_000;
const TOKEN_LINE = /^iamsa_[0-9A-Za-z]{46}\n$/;
/** The migrations of each database, oldest first, by name. */
const MIGRATIONS = {
  sqlite: sqliteMigrations.map((migration) => new migration().name),
  postgres: postgresMigrations.map((migration) => new migration().name),
};

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The CLI's environment: the service's variables for this database, cheap password hashes (NODE_ENV=test allows
 * them), and none of the test runner's IAM_ or DATABASE_ variables, nor IAM_BOOTSTRAP_TOKEN: the CLI must not need
 * the service's token, nor touch it when it is missing.
 */
function cliEnvironment(env: Record<string, string>): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(DATABASE_|IAM_|REDIS_|LOG_LEVEL$|NODE_ENV$)/.test(name)),
  );
  return {
    ...inherited,
    NODE_ENV: 'test',
    IAM_PASSWORD_HASH_MEMORY_KIB: '1024',
    IAM_PASSWORD_HASH_TIME_COST: '1',
    IAM_PASSWORD_HASH_PARALLELISM: '1',
    ...env,
  };
}

/** Runs `command args…` to its end in an empty directory (no .env is read), `input` on its stdin. */
function runProcess(command: string, args: string[], env: NodeJS.ProcessEnv, input = ''): Promise<CliRun> {
  const cwd = mkdtempSync(join(tmpdir(), 'cli-e2e-'));
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      rmSync(cwd, { recursive: true, force: true });
      done({ code, stdout, stderr });
    });
    child.stdin.on('error', () => undefined); // a CLI that exits before reading it (a usage error)
    child.stdin.end(input);
  });
}

const runCli = (database: string, args: string[], input = '', env: Record<string, string> = {}) =>
  runProcess(process.execPath, [CLI, ...args], cliEnvironment({ DATABASE_URL: database, ...env }), input);

/** What every failure looks like: its exit status, one `error:` line (and commander's usage hint), no stack. */
function expectFailure(run: CliRun, code: number, message: RegExp) {
  expect({ code: run.code, stdout: run.stdout }).toEqual({ code, stdout: '' });
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(message);
  expect(lines.slice(1).every((line) => line === '(add --help for usage)')).toBe(true);
  expect(run.stderr).not.toMatch(/\n\s+at /);
}

/** Polls `check` until it holds (another process's change reaches the app's principal cache within a second). */
async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`not within ${timeoutMs} ms: ${what}`);
    }
    await sleep(100);
  }
}

beforeAll(() => ensureBuilt(), 20 * 60_000);

describe.each(TEST_DATABASES)('admin CLI (%s)', (kind) => {
  const LOCKOUT_THRESHOLD = 3;
  let t: TestApp;
  let url: string;
  let dataSource: DataSource;
  beforeAll(async () => {
    t = await createTestApp(kind, { auth: { lockoutThreshold: LOCKOUT_THRESHOLD } });
    url = t.database.url;
    dataSource = t.app.get(getDataSourceToken(IAM_DATA_SOURCE));
  });
  afterAll(() => t.close());

  const signIn = (username: string, password: string) => t.http().post('/api/v1/login').send({ username, password });
  const storedTokenHash = async (name: string) =>
    (
      await dataSource
        .createQueryBuilder()
        .select('sa.token_hash', 'token_hash')
        .from('service_accounts', 'sa')
        .where('sa.name = :name', { name })
        .getRawOne<{ token_hash: string }>()
    )?.token_hash;

  it(
    'create-service-account prints the token once, alone on stdout; it works over HTTP and is stored as its hash',
    async () => {
      const name = uniqueName('cli');
      const run = await runCli(url, ['create-service-account', name]);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(TOKEN_LINE);
      const token = run.stdout.trim();
      expect(run.stderr).toContain(`Created service account "${name}"; its token never expires`);
      expect(run.stderr).toContain('shown this once');
      expect(run.stderr).not.toContain(token);
      expect(await storedTokenHash(name)).toBe(hashSecret(token));

      // It authenticates (a bad token is a 401), and holds nothing yet: the list it may see is empty.
      const listed = await t.http().get('/api/v1/users').set('Authorization', `Bearer ${token}`).expect(200);
      expect(listed.body).toEqual({ items: [] });
      const shown = await t.http().get(`/api/v1/service-accounts/${name}`).set(adminAuth).expect(200);
      expect(shown.body).toMatchObject({ name, is_admin: false, token_expires_at: null });
      expect(shown.body).not.toHaveProperty('token');

      // Never again: the name is taken, and no token is printed.
      const again = await runCli(url, ['create-service-account', name]);
      expectFailure(again, 5, /The name ".+" is taken by a service account/);
      expect(await storedTokenHash(name)).toBe(hashSecret(token));

      // The CLI ran without the service's IAM_BOOTSTRAP_TOKEN and left the built-in account alone.
      await t.http().get('/api/v1/users').set(adminAuth).expect(200);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'create-service-account --admin makes an administrator at once; --expires takes a duration or a date',
    async () => {
      const name = uniqueName('ops');
      const before = Date.now();
      const run = await runCli(url, ['create-service-account', name, '--admin', '--expires', '30d']);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(TOKEN_LINE);
      expect(run.stderr).toContain(`Created service account "${name}", an administrator; its token expires at `);
      const headers = { Authorization: `Bearer ${run.stdout.trim()}` };

      // What only an administrator may: create a group, act on another administrator.
      await t
        .http()
        .post('/api/v1/groups')
        .set(headers)
        .send({ name: uniqueName('g') })
        .expect(201);
      const shown = await t.http().get(`/api/v1/service-accounts/${name}`).set(headers).expect(200);
      expect(shown.body.is_admin).toBe(true);
      const expiresAt = new Date(shown.body.token_expires_at as string).getTime();
      expect(expiresAt).toBeGreaterThanOrEqual(before + 30 * 86_400_000 - 1000);
      expect(expiresAt).toBeLessThanOrEqual(Date.now() + 30 * 86_400_000 + 1000);
      // It stays one until deleted (by an administrator: itself, when a recovery is over).
      await t.http().delete(`/api/v1/service-accounts/${name}`).set(headers).expect(204);
      await eventually(
        async () => (await t.http().get('/api/v1/users').set(headers)).status === 401,
        'the deleted account is refused',
      );

      const dated = uniqueName('dated');
      expect((await runCli(url, ['create-service-account', dated, '--expires', '2031-01-02'])).code).toBe(0);
      const datedShown = await t.http().get(`/api/v1/service-accounts/${dated}`).set(adminAuth).expect(200);
      expect(datedShown.body).toMatchObject({ is_admin: false, token_expires_at: '2031-01-02T00:00:00.000Z' });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'set-password reads stdin, applies the API rules, ends the sessions; the new password signs in',
    async () => {
      const user = await signedInUser(t);
      const password = 'a new password from the cli';
      await t.http().get('/api/v1/users/me').set('Cookie', user.cookie).expect(200);

      const short = await runCli(url, ['set-password', user.name], 'short\n');
      expectFailure(short, 3, /^error: password must be at least 8 characters long$/);
      await t.http().get('/api/v1/users/me').set('Cookie', user.cookie).expect(200); // nothing changed

      const run = await runCli(url, ['set-password', user.name], `${password}\n`);
      expect(run).toEqual({
        code: 0,
        stdout: `Set the password of user "${user.name}" and ended its sessions\n`,
        stderr: '',
      });
      // The session the user had ends on the app too, once its principal cache hears of the change.
      await eventually(
        async () => (await t.http().get('/api/v1/users/me').set('Cookie', user.cookie)).status === 401,
        'the old session is refused',
      );
      await signIn(user.name, user.password).expect(401);
      await signIn(user.name, password).expect(200);

      // Never from the command line: neither as an option nor as an extra argument, and never repeated.
      const asOption = await runCli(url, ['set-password', user.name, '--password', 'option secret 1']);
      expectFailure(asOption, 2, /unknown option '--password'/);
      const asArgument = await runCli(url, ['set-password', user.name, 'argument secret 2']);
      expectFailure(asArgument, 2, /too many arguments/);
      for (const [run_, secret] of [
        [asOption, 'option secret 1'],
        [asArgument, 'argument secret 2'],
        [run, password],
      ] as const) {
        expect(run_.stdout + run_.stderr).not.toContain(secret);
      }
      const empty = await runCli(url, ['set-password', user.name]);
      expectFailure(empty, 3, /no password/);
      const twoLines = await runCli(url, ['set-password', user.name], 'first line!\nsecond line\n');
      expectFailure(twoLines, 3, /one line/);
      await signIn(user.name, password).expect(200);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'set-password at a terminal prompts twice without echoing what is typed',
    async () => {
      const user = await signedInUser(t);
      const password = 'typed at the terminal';
      // util-linux `script` gives the CLI a pseudo-terminal; it answers each prompt once it shows.
      const typed = await new Promise<CliRun>((done, fail) => {
        const cwd = mkdtempSync(join(tmpdir(), 'cli-e2e-tty-'));
        const child = spawn('script', ['-qec', `${process.execPath} ${CLI} set-password ${user.name}`, '/dev/null'], {
          cwd,
          env: cliEnvironment({ DATABASE_URL: url }),
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        let answered = 0;
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          const prompts = (stdout.match(/New password for user ".+": |Type it again: /g) ?? []).length;
          while (answered < prompts) {
            answered++;
            child.stdin.write(`${password}\r`);
          }
        });
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
        child.on('error', fail);
        child.on('close', (code) => {
          clearTimeout(timer);
          child.stdin.end();
          rmSync(cwd, { recursive: true, force: true });
          done({ code, stdout, stderr });
        });
      });
      expect(typed.code).toBe(0);
      expect(typed.stdout).toContain(`New password for user "${user.name}": `);
      expect(typed.stdout).toContain('Type it again: ');
      expect(typed.stdout).toContain(`Set the password of user "${user.name}" and ended its sessions`);
      expect(typed.stdout + typed.stderr).not.toContain(password);
      await signIn(user.name, password).expect(200);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'unlock lifts a lockout',
    async () => {
      const user = await signedInUser(t);
      for (let i = 0; i < LOCKOUT_THRESHOLD; i++) {
        await signIn(user.name, 'not the password').expect(401);
      }
      await signIn(user.name, user.password).expect(401); // locked

      const run = await runCli(url, ['unlock', user.name.toUpperCase()]);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(new RegExp(`^Lifted the lockout of user "${user.name}" \\(locked until \\S+\\)\\n$`));
      await signIn(user.name, user.password).expect(200);

      const again = await runCli(url, ['unlock', user.name]);
      expect(again.stdout).toBe(`User "${user.name}" was not locked out; its count of wrong passwords starts afresh\n`);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'list-users pages through every user: a table for people, JSON for scripts',
    async () => {
      const prefix = uniqueName('ls');
      const names = [`${prefix}-c`, `${prefix}-a`, `${prefix}-b`];
      for (const name of names) {
        await createUser(t, name, { display_name: `${name} display` });
      }
      await createUser(t, `${prefix}-d`, { display_name: 'two\nlines' });
      const group = await createGroup(t, uniqueName('g'), { members: [`${prefix}-a`] });
      const api = await t.http().get('/api/v1/users?limit=1000').set(adminAuth).expect(200);
      const apiNames = (api.body.items as { name: string }[]).map((user) => user.name);

      // Two users a page: all of them, once each, in the API's order.
      const paged = await runCli(url, ['list-users', '--json', '--page-size', '2']);
      expect(paged.code).toBe(0);
      const items = JSON.parse(paged.stdout) as { name: string; id: string; is_admin: boolean }[];
      expect(items.map((user) => user.name)).toEqual(apiNames);
      const whole = JSON.parse((await runCli(url, ['list-users', '--json'])).stdout) as unknown[];
      expect(whole).toEqual(items);
      const api_ = (api.body.items as { name: string; id: string; locked_until: unknown }[]).find(
        (user) => user.name === `${prefix}-a`,
      );
      expect(items.find((user) => user.name === `${prefix}-a`)).toMatchObject({
        id: api_!.id,
        locked_until: null,
        is_admin: false,
        groups: [expect.objectContaining({ name: group.name })],
      });

      const table = await runCli(url, ['list-users']);
      expect(table.code).toBe(0);
      const lines = table.stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^NAME +DISPLAY NAME +ADMIN +ACTIVE +LOCKED UNTIL +LAST SEEN +GROUPS$/);
      expect(lines.at(-1)).toBe(`(${apiNames.length} users)`);
      expect(lines.slice(1, -1).map((line) => line.split(' ')[0])).toEqual(apiNames);
      expect(lines.find((line) => line.startsWith(`${prefix}-a `))).toMatch(new RegExp(` yes +never +${group.name}$`));
      // Text that would break the table (or a terminal) is escaped.
      expect(lines.find((line) => line.startsWith(`${prefix}-d `))).toContain('two\\u000Alines');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'audit shows the trail newest first, filtered like the API, and names the operator as the actor of its changes',
    async () => {
      const user = await signedInUser(t);
      const unlock = await runCli(url, ['unlock', user.name]);
      expect(unlock.code).toBe(0);
      const target = `iam:user:${user.name}`;

      const json = await runCli(url, ['audit', '--json', '--target', target, '--since', '1h']);
      expect(json.code).toBe(0);
      const events = JSON.parse(json.stdout) as { action: string; actor: unknown; time: string; outcome: string }[];
      const api = await t.http().get('/api/v1/audit-events').query({ target, limit: 1000 }).set(adminAuth).expect(200);
      expect(events).toEqual(api.body.items);
      // Newest first: the CLI's unlock, then what the test did over HTTP (set the password, sign in).
      expect(events[0]).toMatchObject({
        action: 'iam:UnlockUser',
        outcome: 'success',
        actor: { kind: 'operator', name: expect.any(String) as string },
      });
      expect(events.map((event) => event.action)).toEqual(
        expect.arrayContaining(['iam:CreateUser', 'iam:SetUserPassword', 'iam:Login']),
      );

      const filtered = await runCli(url, ['audit', '--json', '--target', target, '--action', 'iam:login']);
      expect((JSON.parse(filtered.stdout) as { action: string }[]).map((event) => event.action)).toEqual(['iam:Login']);
      const later = await runCli(url, ['audit', '--json', '--target', target, '--since', '2999-01-01']);
      expect(JSON.parse(later.stdout)).toEqual([]);

      const table = await runCli(url, ['audit', '--target', target]);
      expect(table.code).toBe(0);
      const lines = table.stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^TIME +ACTOR +ACTION +TARGET +OUTCOME +REASON +CLIENT ADDRESS$/);
      expect(lines[1]).toMatch(new RegExp(`^\\S+ +operator:\\S+ +iam:UnlockUser +${target} +success`));
      expect(lines.at(-1)).toBe(`(${events.length} events)`);

      expectFailure(await runCli(url, ['audit', '--since', 'yesterday']), 2, /--since/);
      expectFailure(await runCli(url, ['audit', '--outcome', 'maybe']), 3, /outcome/);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'refuses bad input with one line and an exit status of its kind, before touching anything',
    async () => {
      const cases: [string[], number, RegExp][] = [
        [['frobnicate'], 2, /unknown command 'frobnicate'/],
        [[], 2, /./], // the help, on stderr
        [['unlock'], 2, /missing required argument 'user'/],
        [['unlock', 'a', 'b'], 2, /too many arguments/],
        [['list-users', '--page-size', '0'], 2, /'--page-size <n>' argument '0' is invalid/],
        [['create-service-account', 'x-y', '--expires', 'soon'], 2, /'--expires <when>' argument 'soon' is invalid/],
        [['create-service-account', 'Not_Valid'], 3, /name must be lower-case letters, digits and hyphens/],
        [['create-service-account', 'x-y', '--expires', '2020-01-01'], 3, /--expires must be in the future/],
        [['create-service-account', 'x-y', '--expires', '2030-02-30'], 3, /--expires must be a duration/],
        [['create-service-account', 'admin'], 5, /belongs to the built-in service account/],
        [['unlock', 'nobody-here'], 4, /User "nobody-here" not found/],
        [['set-password', 'nobody-here'], 4, /User "nobody-here" not found/],
      ];
      for (const [args, code, message] of cases) {
        const run = await runCli(url, args, 'a password nobody sees\n');
        if (args.length === 0) {
          expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 2, stdout: '' });
          expect(run.stderr).toMatch(/^Usage: npm run iam -- \[options\] \[command\]/);
        } else {
          expectFailure(run, code, message);
        }
      }
      expect(await storedTokenHash('x-y')).toBeUndefined();

      const help = await runCli(url, ['--help']);
      expect(help.code).toBe(0);
      for (const command of [
        'create-service-account',
        'set-password',
        'unlock',
        'list-users',
        'migrate',
        'migrate:status',
      ]) {
        expect(help.stdout).toContain(`  ${command} `);
      }
      // The service's own validation of the environment, and its message.
      const badEnv = await runCli(url, ['list-users'], '', { IAM_LOCKOUT_MINUTES: 'soon' });
      expectFailure(badEnv, 6, /^error: Invalid configuration: IAM_LOCKOUT_MINUTES: /);
    },
    TEST_TIMEOUT_MS,
  );

  describe('on a fresh database', () => {
    let fresh: TestDatabase;
    beforeAll(async () => {
      fresh = await createTestDatabase(kind);
    });
    afterAll(() => fresh.drop());

    /** Whether the database has any table (migrate:status and a refused command must not create one). */
    const tables = async (): Promise<number> => {
      if (kind === 'sqlite') {
        return existsSync(fresh.url.slice('sqlite:'.length)) ? -1 : 0;
      }
      const client = new pg.Client({ connectionString: fresh.url });
      await client.connect();
      try {
        const { rows } = await client.query<{ count: string }>(
          "SELECT count(*) AS count FROM information_schema.tables WHERE table_schema = 'public'",
        );
        return Number(rows[0].count);
      } finally {
        await client.end();
      }
    };

    it(
      'migrate:status, then migrate, then the IAM commands; an administrator made by the CLI is one at start-up',
      async () => {
        const migrations = MIGRATIONS[kind];
        const status = await runCli(fresh.url, ['migrate:status']);
        expect(status.code).toBe(0);
        expect(status.stdout).toContain(`STATE    MIGRATION\n${migrations.map((m) => `pending  ${m}\n`).join('')}`);
        expect(status.stdout).toContain(`${migrations.length} of ${migrations.length} pending`);
        const refused = await runCli(fresh.url, ['list-users']);
        expectFailure(
          refused,
          6,
          kind === 'sqlite' ? /there is no database at .+: `npm run iam -- migrate` creates it/ : /pending migrations/,
        );
        expect(await tables()).toBe(0);

        const migrate = await runCli(fresh.url, ['migrate']);
        expect(migrate).toMatchObject({ code: 0, stdout: migrations.map((m) => `Applied ${m}\n`).join('') });
        const after = await runCli(fresh.url, ['migrate:status']);
        expect(after.stdout).toContain(migrations.map((m) => `applied  ${m}\n`).join(''));
        expect(after.stdout).toContain(`Up to date: ${migrations.length} of ${migrations.length} applied`);
        expect((await runCli(fresh.url, ['migrate'])).stdout).toBe('The schema is up to date: no migration to apply\n');

        expect(await runCli(fresh.url, ['list-users'])).toEqual({ code: 0, stdout: 'No users\n', stderr: '' });
        const created = await runCli(fresh.url, ['create-service-account', 'ops', '--admin']);
        expect(created.code).toBe(0);
        const headers = { Authorization: `Bearer ${created.stdout.trim()}` };

        // The service's first start, without IAM_BOOTSTRAP_TOKEN nor IAM_ADMINISTRATORS: an administrator exists,
        // so no built-in account is made (nor a token printed for it).
        const app = await createTestApp(kind, { database: fresh, auth: { bootstrapToken: undefined } });
        try {
          await app.http().get('/api/v1/service-accounts/admin').set(headers).expect(404);
          const accounts = await app.http().get('/api/v1/service-accounts').set(headers).expect(200);
          expect(accounts.body.items).toEqual([expect.objectContaining({ name: 'ops', is_admin: true })]);
          await app.http().get('/api/v1/users').set('Authorization', `Bearer ${ADMIN_TOKEN}`).expect(401);
        } finally {
          await app.close({ keepDatabase: true });
        }
      },
      TEST_TIMEOUT_MS,
    );
  });
});

describe('admin CLI with the database down', () => {
  it(
    'says so in one line, with its own exit status',
    async () => {
      const run = await runCli('postgres://postgres@127.0.0.1:1/iam', ['list-users']);
      expectFailure(run, 7, /^error: the database is unavailable: .*ECONNREFUSED/);
    },
    TEST_TIMEOUT_MS,
  );
});
