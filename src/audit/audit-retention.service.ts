import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { AuditConfig } from '../config/audit.config.js';
import { isDatabaseUnavailable, loggableError, unavailabilityReason } from '../database/database-errors.js';
import { TransactionService } from '../database/transaction.service.js';
import { IAM_AUDIT_CONFIG, IAM_PROCESS_KIND, type IamProcessKind } from '../iam.options.js';
import { AuditEvent } from './entities/audit-event.entity.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Rows deleted per statement: each is short (no statement timeout, no long hold of SQLite's write lock). */
export const PRUNE_BATCH = 5000;

/**
 * Keeps the audit trail to IAM_AUDIT_RETENTION_DAYS: deletes older events once at start-up (without holding the
 * start-up up) and then once a day. Each instance runs it: a delete of what is older than the cutoff is the same
 * whoever runs it and however often, so instances need not agree on who does it. In batches, so that a first run
 * over years of events never turns into one long statement.
 */
@Injectable()
export class AuditRetentionService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(AuditRetentionService.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    @Inject(IAM_AUDIT_CONFIG) private readonly config: AuditConfig,
    private readonly tx: TransactionService,
    @Inject(IAM_PROCESS_KIND) private readonly processKind: IamProcessKind,
  ) {}

  /** A serving instance's chore: not the admin CLI's, which runs one command and exits. */
  onApplicationBootstrap(): void {
    if (this.processKind === 'cli') {
      return;
    }
    this.schedule();
    this.timer = setInterval(() => this.schedule(), DAY_MS);
    this.timer.unref();
  }

  /** The job in flight finishes before the database closes. */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Deletes the events older than the retention (as of `now`); answers how many. */
  async prune(now = new Date()): Promise<number> {
    const cutoff = new Date(now.getTime() - this.config.retentionDays * DAY_MS);
    let total = 0;
    for (;;) {
      const result = await this.tx.write((em) =>
        em
          .createQueryBuilder()
          .delete()
          .from(AuditEvent)
          .where(`"id" IN (SELECT "id" FROM "audit_events" WHERE "time" < :cutoff LIMIT ${PRUNE_BATCH})`, { cutoff })
          .execute(),
      );
      const deleted = result.affected ?? 0;
      total += deleted;
      if (deleted < PRUNE_BATCH) {
        break;
      }
    }
    if (total > 0) {
      this.logger.log({ deleted: total, cutoff: cutoff.toISOString() }, 'Deleted audit events past the retention');
    }
    return total;
  }

  /** One run at a time in this instance; a failure is logged, and the next day's run starts from where it stopped. */
  private schedule(): void {
    this.running = this.running.then(() =>
      this.prune().catch((error: unknown) =>
        this.logger.warn(
          { reason: isDatabaseUnavailable(error) ? unavailabilityReason(error) : loggableError(error) },
          'Could not delete old audit events: the next run (at the next start or in a day) tries again',
        ),
      ),
    );
  }
}
