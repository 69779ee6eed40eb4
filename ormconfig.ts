// The TypeORM DataSource for the CLI (migration:generate / migration:run / migration:show), built from the
// same options function as the application: `npm run migration:show` and friends in package.json.
import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { DataSource } from 'typeorm';
import { DEFAULT_DATABASE_URL } from './src/config/database.config.js';
import { validateEnvironment } from './src/config/env.validation.js';
import { buildDataSourceOptions } from './src/database/data-source-options.js';

// Like the service, read .env when present (real environment variables win).
if (existsSync('.env')) {
  process.loadEnvFile('.env');
}
const env = validateEnvironment(process.env);

export default new DataSource(
  buildDataSourceOptions({ url: env.DATABASE_URL ?? DEFAULT_DATABASE_URL, logging: env.DATABASE_LOGGING }),
);
