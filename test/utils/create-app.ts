import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { Logger, PARAMS_PROVIDER_TOKEN } from 'nestjs-pino';
import pg from 'pg';
import type { DestinationStream } from 'pino';
import request from 'supertest';
import { AppModule } from '../../src/app.module.js';
import { configureApp } from '../../src/app.setup.js';
import { loggerParams } from '../../src/common/logging.js';
import { appConfig, type AppConfig } from '../../src/config/app.config.js';
import { auditConfig, type AuditConfig } from '../../src/config/audit.config.js';
import { authConfig, type AuthConfig } from '../../src/config/auth.config.js';
import { databaseConfig, type DatabaseConfig } from '../../src/config/database.config.js';
import { ssoConfig, type SsoConfig } from '../../src/config/sso.config.js';

export type TestDatabaseKind = 'sqlite' | 'postgres';

/** SQLite always; PostgreSQL too when TEST_DATABASE_URL points at a server we may create databases on. */
export const TEST_DATABASES: TestDatabaseKind[] = process.env.TEST_DATABASE_URL ? ['sqlite', 'postgres'] : ['sqlite'];

/** The bootstrap token every test app is started with: it authenticates the built-in `admin` account. */
export const ADMIN_TOKEN = 'test-bootstrap-token-0123456789abcdefghijklmnop';

/** A fresh, empty database of the given kind, and a way to throw it away. */
export interface TestDatabase {
  kind: TestDatabaseKind;
  url: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(kind: TestDatabaseKind): Promise<TestDatabase> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'iam-test-'));
    return {
      kind,
      url: `sqlite:${join(dir, 'iam.sqlite')}`,
      drop: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
    };
  }
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) {
    throw new Error('TEST_DATABASE_URL is not set');
  }
  const name = `iam_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    kind,
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

export interface TestAppOptions {
  /** Reuse a database (e.g. to restart the app on the same data); a fresh one is made otherwise. */
  database?: TestDatabase;
  auth?: Partial<AuthConfig>;
  app?: Partial<AppConfig>;
  audit?: Partial<AuditConfig>;
  sso?: Partial<SsoConfig>;
  /**
   * Where the app's pino log goes (with `app.logLevel` above `silent`). nestjs-pino keeps one pino-http
   * instance per process (per test file under jest): the first app of a file fixes level and destination.
   */
  logDestination?: DestinationStream;
}

export interface TestApp {
  app: NestExpressApplication;
  database: TestDatabase;
  /** supertest bound to the running app. */
  http: () => ReturnType<typeof request>;
  /** Closes the app; drops the database unless `keepDatabase`. */
  close(options?: { keepDatabase?: boolean }): Promise<void>;
}

/**
 * The one way tests boot the service: the real AppModule over HTTP, with configuration replaced at
 * its typed namespaces (the same objects the service reads in production).
 */
export async function createTestApp(kind: TestDatabaseKind, options: TestAppOptions = {}): Promise<TestApp> {
  const database = options.database ?? (await createTestDatabase(kind));
  const builder = Test.createTestingModule({ imports: [AppModule] })
    .overrideProvider(databaseConfig.KEY)
    .useValue({ url: database.url, logging: false } satisfies DatabaseConfig)
    .overrideProvider(authConfig.KEY)
    .useValue({
      bootstrapToken: ADMIN_TOKEN,
      administrators: [],
      sessionTtlMinutes: 60,
      sessionIdleMinutes: 60,
      sessionCookieName: 'session_id',
      sessionCookieSecure: true,
      sessionCookieSameSite: 'lax',
      loginRateLimit: 1000,
      loginRateWindowSeconds: 60,
      authFailureLimit: 1000,
      lockoutThreshold: 10,
      lockoutMinutes: 15,
      // Cheap argon2 for tests: production's cost (64 MiB, 3 passes) takes about 1 s per hash on a busy machine.
      passwordHash: { memoryKib: 1024, timeCost: 1, parallelism: 1 },
      ...options.auth,
    } satisfies AuthConfig)
    .overrideProvider(appConfig.KEY)
    .useValue({ port: 0, bodyLimit: '100kb', logLevel: 'silent', swagger: true, ...options.app } satisfies AppConfig)
    .overrideProvider(auditConfig.KEY)
    .useValue({ retentionDays: 365, log: false, ...options.audit } satisfies AuditConfig)
    .overrideProvider(ssoConfig.KEY)
    .useValue({
      passwordLogin: 'all',
      groupSync: true,
      linkExistingUsers: false,
      redirectOrigins: [],
      scimLenient: true,
      ...options.sso,
    } satisfies SsoConfig);
  const { logDestination } = options;
  if (logDestination) {
    builder.overrideProvider(PARAMS_PROVIDER_TOKEN).useFactory({
      inject: [appConfig.KEY],
      factory: (config: AppConfig) => {
        const params = loggerParams(config);
        return { ...params, pinoHttp: [params.pinoHttp, logDestination] };
      },
    });
  }
  const moduleRef = await builder.compile();
  // TEST_LOG=1 shows Nest's log (stack traces of 500s included) while debugging a test.
  const app = moduleRef.createNestApplication<NestExpressApplication>({
    bodyParser: false,
    logger: process.env.TEST_LOG ? ['error', 'warn'] : false,
  });
  if (logDestination) {
    // As main.ts does: Nest's own Logger (the services' messages) writes through pino, to that destination.
    app.useLogger(app.get(Logger));
  }
  configureApp(app);
  try {
    await app.init();
  } catch (error) {
    // A start-up failure under test: release the database connections before reporting it.
    await app.close().catch(() => undefined);
    throw error;
  }
  const server = app.getHttpServer();
  return {
    app,
    database,
    http: () => request(server),
    close: async ({ keepDatabase = false } = {}) => {
      await app.close();
      if (!keepDatabase) {
        await database.drop();
      }
    },
  };
}
