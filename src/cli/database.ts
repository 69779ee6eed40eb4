import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { DataSource } from 'typeorm';
import { type DatabaseConfig, databaseConfig } from '../config/database.config.js';
import { buildDataSourceOptions } from '../database/data-source-options.js';

/** The configured SQLite file when it does not exist (opening it would create it, empty); undefined otherwise. */
export function missingSqliteFile(config: DatabaseConfig = databaseConfig()): string | undefined {
  if (!config.url.startsWith('sqlite:')) {
    return undefined;
  }
  const path = resolve(config.url.slice('sqlite:'.length));
  return existsSync(path) ? undefined : path;
}

/**
 * The configured database (DATABASE_URL and its settings, as the service reads them), open, for `work`, closed
 * afterwards: for the commands that deal with the schema itself, which the IAM's modules cannot start without.
 */
export async function withDatabase<T>(work: (dataSource: DataSource) => Promise<T>): Promise<T> {
  const dataSource = new DataSource(buildDataSourceOptions(databaseConfig()));
  await dataSource.initialize();
  try {
    return await work(dataSource);
  } finally {
    await dataSource.destroy();
  }
}
