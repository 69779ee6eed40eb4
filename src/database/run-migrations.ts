import { Logger } from '@nestjs/common';
import { DataSource, type Migration } from 'typeorm';

/** Arbitrary constant: the PostgreSQL advisory lock that serialises migrations across instances. */
const MIGRATION_LOCK_KEY = 4_242_001;

/**
 * Applies pending migrations, logs each one applied, and returns them. On PostgreSQL several instances may start at
 * once, so the run holds a session advisory lock: the first instance migrates, the others wait and then find nothing
 * to do.
 */
export async function runMigrations(dataSource: DataSource): Promise<Migration[]> {
  if (dataSource.options.type !== 'postgres') {
    return logApplied(await dataSource.runMigrations({ transaction: 'each' }));
  }
  const lockRunner = dataSource.createQueryRunner();
  await lockRunner.connect();
  try {
    await lockRunner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const [{ schema }] = (await lockRunner.query('SELECT current_setting($1) AS schema', ['search_path'])) as {
      schema: string;
    }[];
    if (/^[a-z_][a-z0-9_]*$/.test(schema) && schema !== 'public') {
      // A schema of its own (the `database.schema` option): made on first start.
      await lockRunner.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    }
    return logApplied(await dataSource.runMigrations({ transaction: 'each' }));
  } finally {
    await lockRunner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await lockRunner.release();
  }
}

function logApplied(migrations: Migration[]): Migration[] {
  const logger = new Logger('Migrations');
  if (migrations.length === 0) {
    logger.log('Schema is up to date');
  }
  for (const migration of migrations) {
    logger.log(`Applied migration ${migration.name}`);
  }
  return migrations;
}
