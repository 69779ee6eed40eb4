import { resolve } from 'node:path';
import type Database from 'better-sqlite3';
import type { DataSourceOptions } from 'typeorm';
import { type DatabaseConfig, databaseTimeouts } from '../config/database.config.js';
import { AuditEvent } from '../audit/entities/audit-event.entity.js';
import { IamKey } from '../pagination/entities/iam-key.entity.js';
import { Group } from '../groups/entities/group.entity.js';
import { Profile } from '../profiles/entities/profile.entity.js';
import { Role } from '../roles/entities/role.entity.js';
import { ServiceAccount } from '../service-accounts/entities/service-account.entity.js';
import { Session } from '../sessions/entities/session.entity.js';
import { UserSettings } from '../settings/entities/user-settings.entity.js';
import { UserIdentity } from '../sso/entities/user-identity.entity.js';
import { SamlAssertion } from '../sso/entities/saml-assertion.entity.js';
import { User } from '../users/entities/user.entity.js';
import { AuthorityVersion } from './entities/authority-version.entity.js';
import { postgresMigrations } from './migrations/postgres/postgres-migrations.js';
import { sqliteMigrations } from './migrations/sqlite/sqlite-migrations.js';
import { DeadlineClient } from './postgres-client.js';
import { TypeOrmNestLogger } from './typeorm-logger.js';

/** A statement slower than this is logged as a warning. */
const SLOW_QUERY_MS = 1000;

/**
 * How much longer than statement_timeout the client waits for an answer. The server's own timeout ends a
 * slow statement cleanly (57014); this one is for a server that does not answer at all.
 */
const CLIENT_QUERY_TIMEOUT_MARGIN_MS = 1000;

/**
 * SQLite's own lower() folds ASCII letters only; PostgreSQL's folds every letter. On the IAM's SQLite connections
 * lower() is JavaScript's toLowerCase() instead (deterministic, so SQLite may use it anywhere), so that searches
 * (`q`) ignore the case of `É` as they do that of `E`, on both databases. No index or stored value depends on it.
 */
function useUnicodeLower(db: Database.Database): void {
  db.function('lower', { deterministic: true }, (value: unknown) =>
    typeof value === 'string' ? value.toLowerCase() : value,
  );
}

/**
 * SQLite's page cache, per connection (a negative cache_size is KiB). Its default, 2 MiB, holds a few thousand
 * users: past that list pages and user reads go back to the file through system calls (with 100,000 users, a page
 * of 1,000 read one request at a time took about 90 ms with the default and 78 ms with this).
 */
const SQLITE_CACHE_KIB = 64 * 1024;

function prepareSqlite(db: Database.Database): void {
  // better-sqlite3 builds SQLite with WAL's synchronous=NORMAL, which syncs the log only at checkpoints: a power loss
  // or an OS crash could take the last commits with it, a revoked token or an ended session among them. FULL syncs
  // the log at every commit (about 0.2 ms measured here: 33 syncs in 3,200 writes with NORMAL, strace).
  db.pragma('synchronous = FULL');
  db.pragma(`cache_size = -${SQLITE_CACHE_KIB}`);
  useUnicodeLower(db);
}

export const ENTITIES = [
  User,
  Profile,
  Group,
  UserSettings,
  Session,
  ServiceAccount,
  Role,
  AuthorityVersion,
  IamKey,
  AuditEvent,
  UserIdentity,
  SamlAssertion,
];

/**
 * The one place that turns configuration into TypeORM options: used by AppModule and by ormconfig.ts
 * (the TypeORM CLI). The schema only ever changes through the migrations listed here.
 */
export function buildDataSourceOptions(config: DatabaseConfig): DataSourceOptions {
  const timeouts = databaseTimeouts(config);
  const common = {
    entities: ENTITIES,
    synchronize: false,
    migrationsRun: false, // run by runMigrations(), under a lock, when the app starts
    migrationsTableName: 'migrations',
    logger: new TypeOrmNestLogger(config.logging ?? false),
    maxQueryExecutionTime: SLOW_QUERY_MS,
  };
  if (config.url.startsWith('sqlite:')) {
    return {
      ...common,
      type: 'better-sqlite3',
      database: resolve(config.url.slice('sqlite:'.length)),
      enableWAL: true,
      timeout: timeouts.busyTimeoutMs,
      migrations: sqliteMigrations,
      prepareDatabase: prepareSqlite,
    };
  }
  return {
    ...common,
    type: 'postgres',
    url: config.url,
    migrations: postgresMigrations,
    // pg-pool's connectionTimeoutMillis bounds both a new connection and the wait for a free pooled one.
    extra: {
      max: 10,
      application_name: 'iam-service',
      connectionTimeoutMillis: timeouts.connectTimeoutMs,
      statement_timeout: timeouts.statementTimeoutMs,
      query_timeout: timeouts.statementTimeoutMs + CLIENT_QUERY_TIMEOUT_MARGIN_MS,
      keepAlive: true,
      Client: DeadlineClient,
      // Every statement (the migrations' included) names tables without a schema: they resolve to this one.
      ...(config.schema ? { options: `-c search_path=${config.schema}` } : {}),
    },
  };
}
