// Timestamps go to PostgreSQL as `timestamp without time zone`, written and read in the process's zone:
// every instance runs in UTC so that instances never disagree about what a stored time means.
process.env.TZ = 'UTC';

import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { Logger as NestLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger, PinoLogger } from 'nestjs-pino';
import { configureApp } from './app.setup.js';
import { loggerParams } from './common/logging.js';
import { appConfig, type AppConfig } from './config/app.config.js';
import { databaseConfig } from './config/database.config.js';
import { ConfigurationError, validateEnvironment } from './config/env.validation.js';
import { DatabaseUnavailableAtStartupError, waitForDatabase } from './database/wait-for-database.js';

/** The JSON logger from the first line on (the app's own, once it exists, writes to the same pino instance). */
let logger: Logger | undefined;

async function bootstrap(): Promise<void> {
  // Check the environment (and .env, as ConfigModule reads it) before anything starts, so that a bad value
  // is one clear message rather than a stack trace from inside ConfigModule.
  if (existsSync('.env')) {
    process.loadEnvFile('.env');
  }
  validateEnvironment(process.env);
  logger = new Logger(new PinoLogger(loggerParams(appConfig())), {});
  NestLogger.overrideLogger(logger); // TypeORM's messages during the wait below, too
  // A database that is down at start-up: one log line per attempt, then exit 1 (see waitForDatabase).
  await waitForDatabase(databaseConfig(), logger);
  const { AppModule } = await import('./app.module.js');
  const app = await NestFactory.create<NestExpressApplication>(AppModule, { bodyParser: false, logger });
  app.useLogger(app.get(Logger));
  configureApp(app);
  const config = app.get<AppConfig>(appConfig.KEY);
  await app.listen(config.port, config.host ?? '0.0.0.0');
  app.get(Logger).log(`IAM service listening on ${await app.getUrl()} (API docs at /docs)`, 'Bootstrap');
}

bootstrap().catch((error: unknown) => {
  if (error instanceof ConfigurationError) {
    console.error(error.message);
  } else if (error instanceof DatabaseUnavailableAtStartupError && logger) {
    logger.fatal(
      { attempt: error.attempts, attempts: error.attempts, reason: error.reason },
      error.message,
      'Database',
    );
  } else {
    console.error(error);
  }
  process.exit(1);
});
