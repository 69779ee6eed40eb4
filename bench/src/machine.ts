/** What the bench ran on, for the head of its output and bench/RESULTS.md. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, release, totalmem, type } from 'node:os';
import Database from 'better-sqlite3';
import pg from 'pg';

function osName(): string {
  try {
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'));
    if (pretty) {
      return `${pretty[1]} (${type()} ${release()})`;
    }
  } catch {
    // not Linux
  }
  return `${type()} ${release()}`;
}

async function postgresVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    const { rows } = await client.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    return `PostgreSQL ${rows[0].v}`;
  } catch (error) {
    return `PostgreSQL unreachable at BENCH_DATABASE_URL (${error instanceof Error ? error.message : String(error)})`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The commit benchmarked, and whether the work tree differed from it. */
function checkout(root: string): string {
  const git = (...args: string[]) => spawnSync('git', ['-C', root, ...args], { encoding: 'utf8' });
  const head = git('rev-parse', '--short', 'HEAD');
  if (head.status !== 0) {
    return 'not a git checkout';
  }
  const dirty = git('status', '--porcelain', '--untracked-files=no').stdout.trim() !== '';
  return `commit ${head.stdout.trim()}${dirty ? ' with uncommitted changes' : ''}`;
}

export async function machineDescription(postgresUrl: string | undefined, root: string): Promise<string[]> {
  const memory = new Database(':memory:');
  const sqlite = (memory.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
  memory.close();
  const processors = cpus();
  return [
    `CPU: ${processors[0]?.model ?? 'unknown'}, ${processors.length} cores`,
    `memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB; OS: ${osName()}`,
    `checkout: ${checkout(root)}`,
    `Node.js ${process.version}; SQLite ${sqlite} (better-sqlite3)${postgresUrl ? `; ${await postgresVersion(postgresUrl)}` : ''}`,
  ];
}
