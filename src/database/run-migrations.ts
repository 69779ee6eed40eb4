import { DataSource } from 'typeorm';

/** Arbitrary constant: the PostgreSQL advisory lock that serialises migrations across instances. */
const MIGRATION_LOCK_KEY = 4_242_001;

/**
 * Applies pending migrations. On PostgreSQL several instances may start at once, so the run holds a
 * session advisory lock: the first instance migrates, the others wait and then find nothing to do.
 */
export async function runMigrations(dataSource: DataSource): Promise<void> {
  if (dataSource.options.type !== 'postgres') {
    await dataSource.runMigrations({ transaction: 'each' });
    return;
  }
  const lockRunner = dataSource.createQueryRunner();
  await lockRunner.connect();
  try {
    await lockRunner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await lockRunner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await lockRunner.release();
  }
}
