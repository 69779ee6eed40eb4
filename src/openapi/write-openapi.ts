// `npm run openapi`: writes openapi.json (at the repository root, or the path given) from the code. The app is
// built, not started: a throwaway SQLite file stands in for the database, and nothing listens.
process.env.TZ = 'UTC';

import 'reflect-metadata';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createIamDocument, serializeDocument } from './openapi-document.js';

async function main(): Promise<void> {
  const target = resolve(process.argv[2] ?? 'openapi.json');
  const dir = mkdtempSync(join(tmpdir(), 'iam-openapi-'));
  // Only what the document needs; the rest of the environment must not leak into it.
  for (const name of Object.keys(process.env)) {
    if (name.startsWith('IAM_') || ['DATABASE_URL', 'REDIS_URL', 'LOG_LEVEL', 'NODE_ENV'].includes(name)) {
      delete process.env[name];
    }
  }
  Object.assign(process.env, {
    DATABASE_URL: `sqlite:${join(dir, 'iam.sqlite')}`,
    IAM_BOOTSTRAP_TOKEN: 'openapi-document-bootstrap-token-0123456789',
    LOG_LEVEL: 'silent',
  });
  try {
    const { AppModule } = await import('../app.module.js');
    const app = await NestFactory.create<NestExpressApplication>(AppModule, { bodyParser: false, logger: false });
    try {
      const { API_PREFIX } = await import('../app.module.js');
      writeFileSync(target, serializeDocument(createIamDocument(app, { routePrefix: API_PREFIX })));
    } finally {
      await app.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`Wrote ${target}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
