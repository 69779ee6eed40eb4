import { Logger as NestLogger } from '@nestjs/common';
import type { Logger as TypeOrmLoggerInterface } from 'typeorm';

/**
 * Sends TypeORM's messages through Nest's logger (pino in the app), so that the log stays one JSON line per
 * entry instead of TypeORM's own console output. Statement parameters are never logged: they carry password
 * and token hashes.
 *
 * A failed statement is not an error of its own: a unique or foreign-key violation is an expected 409, and
 * anything else reaches ApiExceptionFilter, which logs it once with the request it belongs to.
 */
export class TypeOrmNestLogger implements TypeOrmLoggerInterface {
  private readonly logger = new NestLogger('TypeORM');

  constructor(private readonly logQueries: boolean) {}

  logQuery(query: string): void {
    if (this.logQueries) {
      this.logger.log({ query }, 'query');
    }
  }

  logQueryError(error: string | Error, query: string): void {
    const message = typeof error === 'string' ? error : error.message;
    this.logger.debug({ query, error: message }, 'query failed');
  }

  logQuerySlow(time: number, query: string): void {
    this.logger.warn({ query, duration_ms: time }, 'slow query');
  }

  logSchemaBuild(message: string): void {
    this.logger.debug(message);
  }

  logMigration(message: string): void {
    this.logger.log(message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') {
      this.logger.warn(message);
    } else {
      this.logger.debug(message);
    }
  }
}
