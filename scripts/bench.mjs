// Request-rate figures for a few representative routes, against a server this script starts on a fresh
// database (SQLite by default; BENCH_DATABASE_URL=postgres://… for PostgreSQL). Prints a table; asserts nothing.
// Usage: npm run bench   (env: BENCH_SECONDS=5 BENCH_CONCURRENCY=16 BENCH_DATABASE_URL=…)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);
const port = 3900 + Math.floor(Math.random() * 90);
const dir = mkdtempSync(join(tmpdir(), 'iam-bench-'));
const token = 'bench-bootstrap-token-0123456789abcdefghijkl';
const base = `http://127.0.0.1:${port}`;
const admin = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };

const server = spawn(process.execPath, ['dist/src/main.js'], {
  env: {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: process.env.BENCH_DATABASE_URL ?? `sqlite:${join(dir, 'bench.sqlite')}`,
    IAM_BOOTSTRAP_TOKEN: token,
    IAM_LOGIN_RATE_LIMIT: '1000000',
    LOG_LEVEL: 'warn',
  },
  stdio: ['ignore', 'inherit', 'inherit'],
});

async function waitForServer() {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${base}/health`)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server did not start');
}

async function run(label, makeRequest) {
  const latencies = [];
  let errors = 0;
  let i = 0;
  const deadline = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const n = i++;
        const start = performance.now();
        const res = await makeRequest(n);
        await res.arrayBuffer();
        latencies.push(performance.now() - start);
        if (res.status >= 400) errors++;
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))].toFixed(1);
  console.log(
    `${label.padEnd(38)} ${String(Math.round(latencies.length / seconds)).padStart(7)} req/s   p50 ${pct(50).padStart(6)} ms   p99 ${pct(99).padStart(6)} ms   errors ${errors}`,
  );
}

try {
  await waitForServer();
  await fetch(`${base}/api/v1/users`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'bench' }) });
  await fetch(`${base}/api/v1/users/bench/password`, {
    method: 'PUT',
    headers: admin,
    body: JSON.stringify({ password: 'bench password' }),
  });
  const login = await fetch(`${base}/api/v1/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'bench', password: 'bench password' }),
  });
  const cookie = login.headers.get('set-cookie').split(';')[0];
  console.log(`${seconds}s per row, ${concurrency} concurrent clients, ${process.env.BENCH_DATABASE_URL ? 'PostgreSQL' : 'SQLite'}`);
  await run('GET /health (no auth)', () => fetch(`${base}/health`));
  await run('GET /api/v1/users/me (session cookie)', () => fetch(`${base}/api/v1/users/me`, { headers: { Cookie: cookie } }));
  await run('GET /api/v1/users/bench (bearer token)', () => fetch(`${base}/api/v1/users/bench`, { headers: admin }));
  await run('POST /api/v1/users (bearer token)', (n) =>
    fetch(`${base}/api/v1/users`, { method: 'POST', headers: admin, body: JSON.stringify({ name: `u${n}` }) }),
  );
  await run('GET /api/v1/users (list, grows above)', () => fetch(`${base}/api/v1/users`, { headers: admin }));
  await run('POST /api/v1/login (argon2id verify)', () =>
    fetch(`${base}/api/v1/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'bench', password: 'bench password' }),
    }),
  );
} finally {
  server.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
