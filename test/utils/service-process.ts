import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ADMIN_TOKEN } from './create-app.js';

/**
 * The real service as a child process (`node dist/src/main.js`), for what only a process can show: a
 * SIGKILL, a SIGTERM, start-up against a database that is down. Tests in this file's users build `dist/`
 * first (ensureBuilt), once, when it is missing or older than the sources.
 */

const ROOT = process.cwd();
const MAIN = join(ROOT, 'dist', 'src', 'main.js');
const BUILD_INPUTS = [
  'src',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'nest-cli.json',
];

/** Generous bounds for a slow, busy machine: they bound a hang, they do not time anything. */
const BUILD_TIMEOUT_MS = 15 * 60_000;
const START_TIMEOUT_MS = 180_000;

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) {
    return stat.mtimeMs;
  }
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((entry) => newestMtime(join(path, entry))));
}

function isBuilt(): boolean {
  return existsSync(MAIN) && statSync(MAIN).mtimeMs >= Math.max(...BUILD_INPUTS.map((p) => newestMtime(join(ROOT, p))));
}

function run(
  command: string,
  args: string[],
  options: { cwd?: string } = {},
): Promise<{ code: number | null; output: string }> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd: options.cwd ?? ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, output }));
  });
}

/**
 * Builds `dist/` with `nest build` (the swagger plugin included, as `npm start` does) unless it is up to
 * date. Test files run in parallel workers: a lock directory makes one build and the others wait for it.
 */
export async function ensureBuilt(): Promise<void> {
  const lock = join(tmpdir(), `iam-dist-build-${createHash('sha256').update(ROOT).digest('hex').slice(0, 12)}.lock`);
  const started = Date.now();
  while (!isBuilt()) {
    try {
      mkdirSync(lock);
    } catch {
      const lockAgeMs = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (lockAgeMs > BUILD_TIMEOUT_MS) {
        rmSync(lock, { recursive: true, force: true }); // left behind by a build that was killed
      } else if (Date.now() - started > 2 * BUILD_TIMEOUT_MS) {
        throw new Error(`waited too long for another build of dist/ (lock ${lock})`);
      }
      await sleep(500);
      continue;
    }
    try {
      if (!isBuilt()) {
        const { code, output } = await run(process.execPath, [
          join(ROOT, 'node_modules', '@nestjs', 'cli', 'bin', 'nest.js'),
          'build',
        ]);
        if (code !== 0) {
          throw new Error(`nest build failed (${code}):\n${output}`);
        }
      }
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}

export interface LogLine {
  level: number;
  msg?: string;
  context?: string;
  [key: string]: unknown;
}

export interface ServiceProcess {
  child: ChildProcess;
  /** `http://127.0.0.1:<port>` once it listens. */
  url: string;
  port: number;
  /** Every JSON line it wrote to stdout so far. */
  lines: LogLine[];
  /** Everything it wrote to stderr. */
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL unless it has exited; then wait for the exit. */
  kill(): Promise<void>;
}

/**
 * The environment of a service process: the test's bootstrap token, a port of its own, JSON logs at info. Not the
 * test run's REDIS_URL: every service process of every test file would count sign-ins and failed credentials from
 * 127.0.0.1 together under the default key prefix, and one file's refusals would make another's requests a 429.
 */
function serviceEnvironment(env: Record<string, string>): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !/^(DATABASE_|IAM_|REDIS_|SHUTDOWN_|PORT$|HOST$|LOG_LEVEL$|BODY_LIMIT$|TRUST_PROXY$)/.test(name),
    ),
  );
  return {
    ...inherited,
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    IAM_BOOTSTRAP_TOKEN: ADMIN_TOKEN,
    ...env,
  };
}

/**
 * Starts the built service with these environment variables (DATABASE_URL at least) in an empty working
 * directory (so that no `.env` is read), and resolves once it listens; rejects if it exits first.
 */
export function startService(env: Record<string, string>): Promise<ServiceProcess> {
  const process_ = launch(env);
  return new Promise((done, fail) => {
    const timer = setTimeout(() => {
      void process_.kill();
      fail(new Error(`service did not start within ${START_TIMEOUT_MS} ms:\n${process_.stderr()}`));
    }, START_TIMEOUT_MS);
    const check = () => {
      const listening = process_.lines.find((line) => line.msg?.startsWith('IAM service listening on '));
      if (listening) {
        clearTimeout(timer);
        const url = /http:\/\/[^ ]+:(\d+)/.exec(listening.msg ?? '');
        process_.port = Number(url?.[1]);
        process_.url = `http://127.0.0.1:${process_.port}`;
        done(process_);
      }
    };
    process_.child.stdout?.on('data', check);
    void process_.exited.then(({ code, signal }) => {
      clearTimeout(timer);
      fail(new Error(`service exited (${code ?? signal}) before listening:\n${process_.stderr()}`));
    });
  });
}

/** Runs the built service to its exit (e.g. start-up against a database that is down). */
export async function runServiceToExit(
  env: Record<string, string>,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; lines: LogLine[]; stderr: string }> {
  const process_ = launch(env);
  const timer = setTimeout(() => void process_.kill(), START_TIMEOUT_MS);
  const exit = await process_.exited;
  clearTimeout(timer);
  return { ...exit, lines: process_.lines, stderr: process_.stderr() };
}

function launch(env: Record<string, string>): ServiceProcess {
  const cwd = mkdtempSync(join(tmpdir(), 'iam-service-'));
  const child = spawn(process.execPath, [MAIN], {
    cwd,
    env: serviceEnvironment(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  let partial = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const text = partial + chunk.toString();
    const complete = text.split('\n');
    partial = complete.pop() ?? '';
    for (const line of complete.filter((l) => l.trim() !== '')) {
      try {
        lines.push(JSON.parse(line) as LogLine);
      } catch {
        lines.push({ level: 0, msg: line, notJson: true });
      }
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.on('exit', (code, signal) => {
      rmSync(cwd, { recursive: true, force: true });
      done({ code, signal });
    }),
  );
  return {
    child,
    url: '',
    port: 0,
    lines,
    stderr: () => stderr,
    exited,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
      }
      await exited;
    },
  };
}

/** A TCP port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

export const adminHeaders = { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' };
