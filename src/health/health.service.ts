import { Injectable, Logger, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckService, type HealthCheckResult, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { IAM_DATA_SOURCE } from '../database/iam-data-source.js';
import { ApiError } from '../common/api-error.js';

/** How long the database may take to answer the health check's `SELECT 1`. */
const PING_TIMEOUT_MS = 2000;

/**
 * The service's health: the database answers. A failure is a 503 naming the failed checks; the log says
 * when the state changes (healthy → unhealthy, unhealthy → healthy, or which checks fail), once, and not
 * on every call of a probe that polls.
 */
@Injectable()
export class HealthService {
  private readonly logger = new Logger('Health');
  /** The checks that failed last time; undefined before the first check. */
  private failing?: string;

  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    @InjectDataSource(IAM_DATA_SOURCE) private readonly dataSource: DataSource,
  ) {}

  async check(): Promise<HealthCheckResult> {
    let result: HealthCheckResult;
    try {
      result = await this.health.check([
        () => this.database.pingCheck('database', { connection: this.dataSource, timeout: PING_TIMEOUT_MS }),
      ]);
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) {
        throw error;
      }
      const failed = error.getResponse() as HealthCheckResult;
      const names = Object.keys(failed.error ?? {});
      this.record(names, failed);
      throw ApiError.unhealthy(names);
    }
    this.record([], result);
    return result;
  }

  private record(failedChecks: string[], result: HealthCheckResult): void {
    const failing = failedChecks.join(',');
    if (failing === this.failing || (this.failing === undefined && failing === '')) {
      this.failing = failing;
      return;
    }
    this.failing = failing;
    if (failing === '') {
      this.logger.log('Healthy again: every check passes');
      return;
    }
    const reasons = Object.fromEntries(
      failedChecks.map((name) => [name, (result.error?.[name] as { message?: unknown } | undefined)?.message]),
    );
    this.logger.warn({ failed_checks: failedChecks, reasons }, `Unhealthy: ${failedChecks.join(', ')}`);
  }
}
