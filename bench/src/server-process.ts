/**
 * A benchmarked server as a child process: pinned to one core with taskset where it exists, the event-loop
 * monitor preloaded, its output in a log file, killed when the bench exits however it exits.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LoopReport } from './loop-monitor.js';

const MONITOR = fileURLToPath(new URL('./loop-monitor.js', import.meta.url));
const START_TIMEOUT_MS = 180_000;
const STOP_TIMEOUT_MS = 20_000;

const running = new Set<ChildProcess>();

/** Kills every server still running (SIGKILL): for exits and failures, so that none is left behind. */
export function killAllServers(): void {
  for (const child of running) {
    child.kill('SIGKILL');
  }
  running.clear();
}

export const hasTaskset = spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status === 0;

/** A TCP port free right now on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface ServerOptions {
  label: string;
  /** Arguments after `node --import <monitor>`. */
  args: string[];
  env: NodeJS.ProcessEnv;
  port: number;
  /** A path answered once the server is ready (any status below 500 counts), e.g. /health. */
  readyPath: string;
  /** Core to pin the server to (taskset -c), or undefined for none. */
  cpu: string | undefined;
  logFile: string;
  /** Working directory: the bench's temporary one, so that no `.env` of the checkout is read. */
  cwd: string;
}

export class ServerProcess {
  private readonly waiting: ((message: LoopReport | { kind: 'reset' }) => void)[] = [];
  private exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  private constructor(
    readonly options: ServerOptions,
    private readonly child: ChildProcess,
  ) {
    child.on('message', (message: LoopReport | { kind: 'reset' }) => this.waiting.shift()?.(message));
    child.on('exit', (code, signal) => {
      this.exited = { code, signal };
      running.delete(child);
    });
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.options.port}`;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  static async start(options: ServerOptions): Promise<ServerProcess> {
    const log = openSync(options.logFile, 'a');
    const nodeArgs = ['--import', MONITOR, ...options.args];
    const [command, args] =
      options.cpu !== undefined && hasTaskset
        ? ['taskset', ['-c', options.cpu, process.execPath, ...nodeArgs]]
        : [process.execPath, nodeArgs];
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', log, log, 'ipc'] });
    closeSync(log);
    running.add(child);
    const server = new ServerProcess(options, child);
    await server.waitUntilReady();
    return server;
  }

  private async waitUntilReady(): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (this.exited) {
        throw new Error(
          `${this.options.label} did not start: it exited (${this.exited.signal ?? `code ${this.exited.code}`}). ` +
            `Its output:\n${this.logTail()}`,
        );
      }
      try {
        const response = await fetch(this.baseUrl + this.options.readyPath);
        await response.arrayBuffer();
        if (response.status < 500) {
          return;
        }
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    this.child.kill('SIGKILL');
    throw new Error(
      `${this.options.label} did not start within ${START_TIMEOUT_MS / 1000} s. Its output:\n${this.logTail()}`,
    );
  }

  logTail(lines = 40): string {
    try {
      return readFileSync(this.options.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no output)';
    }
  }

  private ask<T>(message: 'reset' | 'report'): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.exited || !this.child.connected) {
        reject(new Error(`${this.options.label} is not running. Its output:\n${this.logTail()}`));
        return;
      }
      this.waiting.push((answer) => resolve(answer as T));
      this.child.send(message);
    });
  }

  /** Starts a new event-loop measurement window. */
  async resetLoop(): Promise<void> {
    await this.ask('reset');
  }

  /** RSS now and the event loop's delay since the last reset. */
  report(): Promise<LoopReport> {
    return this.ask<LoopReport>('report');
  }

  /** SIGTERM, then SIGKILL if it has not exited in STOP_TIMEOUT_MS. */
  async stop(): Promise<void> {
    if (this.exited) {
      return;
    }
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }
}
