import { registerAs } from '@nestjs/config';
import { validateEnvironment } from './env.validation.js';

export interface DatabaseConfig {
  /** `sqlite:<path>` or `postgres://…`. */
  url: string;
  logging: boolean;
}

export const DEFAULT_DATABASE_URL = 'sqlite:data/iam.sqlite';

export const databaseConfig = registerAs('database', (): DatabaseConfig => {
  const env = validateEnvironment(process.env);
  return { url: env.DATABASE_URL ?? DEFAULT_DATABASE_URL, logging: env.DATABASE_LOGGING };
});
