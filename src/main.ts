// Timestamps go to PostgreSQL as `timestamp without time zone`, written and read in the process's zone:
// every instance runs in UTC so that instances never disagree about what a stored time means.
process.env.TZ = 'UTC';

import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { configureApp } from './app.setup.js';
import { appConfig, type AppConfig } from './config/app.config.js';
import { ConfigurationError, validateEnvironment } from './config/env.validation.js';

async function bootstrap(): Promise<void> {
  // Check the environment (and .env, as ConfigModule reads it) before anything starts, so that a bad value
  // is one clear message rather than a stack trace from inside ConfigModule.
  if (existsSync('.env')) {
    process.loadEnvFile('.env');
  }
  validateEnvironment(process.env);
  const { AppModule } = await import('./app.module.js');
  const app = await NestFactory.create<NestExpressApplication>(AppModule, { bodyParser: false, bufferLogs: true });
  app.useLogger(app.get(Logger));
  configureApp(app);
  const config = app.get<AppConfig>(appConfig.KEY);
  await app.listen(config.port, config.host ?? '0.0.0.0');
  app.get(Logger).log(`IAM service listening on ${await app.getUrl()} (API docs at /docs)`, 'Bootstrap');
}

bootstrap().catch((error: unknown) => {
  if (error instanceof ConfigurationError) {
    console.error(error.message);
  } else {
    console.error(error);
  }
  process.exit(1);
});
