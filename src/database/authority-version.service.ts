import { type BeforeApplicationShutdown, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { isDatabaseUnavailable, loggableError, unavailabilityReason } from './database-errors.js';
import { AuthorityVersion } from './entities/authority-version.entity.js';
import { IAM_DATA_SOURCE } from './iam-data-source.js';

/** How often each instance reads the shared counter. */
export const AUTHORITY_POLL_MS = 200;

/**
 * How long a reading of the counter vouches for what was cached before it. A change committed at t is seen by
 * every poll that starts after t, so an instance stops using what it cached before the change by
 * t + AUTHORITY_POLL_MS when its polls succeed, and by t + AUTHORITY_TRUST_MS at the latest when they fail or are
 * late (a busy event loop, a slow or unreachable database): then nothing is served from cache at all.
 */
export const AUTHORITY_TRUST_MS = 700;

/**
 * Tells the principal cache (PrincipalCache) whether what it holds is still current.
 *
 * Every write that may change who may do what increments one shared counter in its own transaction
 * (TransactionService.run, bumpIn). This instance moves to a new `generation` at once after its own such commits,
 * and within AUTHORITY_POLL_MS of another instance's, by polling the counter. A cache entry is good only for the
 * generation it was loaded in, and only while the last successful poll started less than AUTHORITY_TRUST_MS ago.
 */
@Injectable()
export class AuthorityVersionService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(AuthorityVersionService.name);
  private generation = 0;
  private lastSeenVersion: bigint | null = null;
  /** performance.now() when lastSeenVersion was taken. */
  private lastSeenAt = Number.NEGATIVE_INFINITY;
  /** performance.now() at the start of the last poll that succeeded; -Infinity until one has. */
  private confirmedAt = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  /** The reading under way, if any: callers that need one share it. */
  private reading: Promise<void> | null = null;
  private failing = false;

  constructor(@InjectDataSource(IAM_DATA_SOURCE) private readonly dataSource: DataSource) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.poll();
    this.timer = setInterval(() => void this.poll(), AUTHORITY_POLL_MS);
    this.timer.unref();
  }

  /** No more polls once shutdown begins (the database closes next); requests still draining look callers up. */
  beforeApplicationShutdown(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * The generation a cache entry loaded now belongs to, or null when the counter has not been read recently
   * enough to trust any cached entry (then callers look everything up).
   */
  current(): number | null {
    return performance.now() - this.confirmedAt < AUTHORITY_TRUST_MS ? this.generation : null;
  }

  /**
   * The generation as far as this instance knows, however long ago the counter was last read: for what is only
   * shown, never used to decide anything (group counts), where a moment's staleness under load costs less than
   * recounting on every request.
   */
  lastKnown(): number {
    return this.generation;
  }

  /**
   * current(), but when the last reading is too old to vouch for anything (a busy event loop delays the poll's
   * timer), it first reads the counter itself: one cheap statement, shared by every request that needs it meanwhile,
   * instead of every request looking its caller up again.
   */
  async confirmed(): Promise<number | null> {
    if (this.current() === null) {
      await this.poll();
    }
    return this.current();
  }

  /** Increments the shared counter inside the transaction `em` belongs to; the counter's new value. */
  async bumpIn(em: EntityManager): Promise<bigint> {
    // An upsert, so that a row deleted by hand is put back rather than every write failing.
    const result: unknown = await em.query(
      `INSERT INTO "iam_authority_version" ("id", "version") VALUES (1, 1) ON CONFLICT ("id") ` +
        `DO UPDATE SET "version" = "iam_authority_version"."version" + 1 RETURNING "version"`,
    );
    // The rows (TypeORM answers [rows, count] for what PostgreSQL reports as an UPDATE: taken too).
    const rows = (Array.isArray(result) && Array.isArray(result[0]) ? result[0] : result) as { version: unknown }[];
    return BigInt(String(rows[0].version));
  }

  /**
   * After this instance committed a bump (`committed`, the counter's value it set), or may have (a rollback, or a
   * connection lost during COMMIT: undefined): nothing cached before is good any more. A committed value is taken
   * as seen, so that the poll does not drop the cache a second time for this instance's own change; every value
   * below it was committed before it (the row is locked until commit), so this drop covers those changes too.
   */
  changedHere(committed?: bigint): void {
    this.generation++;
    if (committed === undefined) {
      // A poll may have read this transaction's bump before it was rolled back (SQLite's one connection), and another
      // change may commit the same value later: the next reading counts as new whatever it is.
      this.lastSeenVersion = null;
    } else if (this.lastSeenVersion === null || committed > this.lastSeenVersion) {
      this.lastSeenVersion = committed;
      this.lastSeenAt = performance.now();
    }
  }

  /** Reads the counter, or joins the reading under way. */
  private poll(): Promise<void> {
    this.reading ??= this.read().finally(() => {
      this.reading = null;
    });
    return this.reading;
  }

  private async read(): Promise<void> {
    const startedAt = performance.now();
    try {
      const row = await this.dataSource.getRepository(AuthorityVersion).findOne({ where: { id: 1 } });
      const version = BigInt(row?.version ?? -1);
      // A value below the one seen is a reading older than this instance's last own commit (ignored), unless the
      // reading started after that commit: then the counter went back (a restored backup), and it counts as new.
      const stale = this.lastSeenVersion !== null && version < this.lastSeenVersion && startedAt < this.lastSeenAt;
      if (version !== this.lastSeenVersion && !stale) {
        this.lastSeenVersion = version;
        this.lastSeenAt = startedAt;
        this.generation++;
      }
      this.confirmedAt = startedAt;
      if (this.failing) {
        this.failing = false;
        this.logger.log('Authority version readable again: principal cache back in use');
      }
    } catch (error) {
      if (!this.failing) {
        this.failing = true;
        // A warning without a stack, like every other line of an outage (ApiExceptionFilter answers the requests).
        this.logger.warn(
          { reason: isDatabaseUnavailable(error) ? unavailabilityReason(error) : loggableError(error) },
          'Cannot read the authority version: every request looks its principal up until it can',
        );
      }
    }
  }
}
