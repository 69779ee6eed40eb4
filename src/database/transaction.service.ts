import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, FindOneOptions } from 'typeorm';
import { ApiError } from '../common/api-error.js';
import { AuthorityVersionService } from './authority-version.service.js';
import { isTransientTransactionError, loggableError } from './database-errors.js';
import { IAM_DATA_SOURCE } from './iam-data-source.js';

/** Arbitrary constant: the advisory lock that serialises creation of principal names. */
const PRINCIPAL_NAMES_LOCK_KEY = 4_242_002;

/** How many times run() tries a unit of work that PostgreSQL aborted as a deadlock victim. */
export const TRANSACTION_ATTEMPTS = 3;

/** Pause before the next attempt: 10–30 ms, then 20–60 ms, …, so that two victims do not meet again. */
const backoffMs = (attempt: number) => 10 * 2 ** (attempt - 1) * (1 + 2 * Math.random());

/**
 * Runs units of work in a database transaction.
 *
 * better-sqlite3 gives TypeORM a single connection, so two transactions open at the same time would
 * share it (a statement of one could be rolled back by the other). On SQLite every write therefore
 * goes through this queue, one transaction at a time; on PostgreSQL each call is its own transaction
 * on its own pooled connection.
 *
 * Lock order on PostgreSQL. Two transactions that lock the same rows in opposite orders deadlock, so
 * every unit of work takes its locks in this order, and rows of one kind in id order:
 *   1. the principal-names advisory lock (lockPrincipalNames);
 *   2. groups: FOR UPDATE by the group's own routes, FOR SHARE for the groups a principal's membership
 *      change names or (set_groups) leaves;
 *   3. roles (FOR UPDATE by the role's own routes, FOR SHARE when bound to a group);
 *   4. principals, users before service accounts: FOR UPDATE by their own routes (changes to their
 *      groups, their password and sign-in included), FOR SHARE when named as members of a group;
 *   5. the rows that hang off them: memberships, role bindings, sessions, profiles, settings. A unit of
 *      work that has written one of these takes no lock of kinds 1–4 afterwards;
 *   6. the authority version row (AuthorityVersionService), incremented by run() as the last statement of the
 *      unit of work, so that it is held only while the transaction commits.
 * The unit of work's audit event (AuditService.record) is a new row of a table nothing else locks: it is inserted
 * after the change, and takes no lock that could order against these.
 * Deleting a row locks it (and, through ON DELETE CASCADE, the rows that hang off it) like FOR UPDATE.
 * Should PostgreSQL still abort a transaction as a deadlock victim or a serialization failure, run()
 * runs the unit of work again (see run()).
 */
@Injectable()
export class TransactionService {
  private readonly logger = new Logger(TransactionService.name);
  private queue: Promise<unknown> = Promise.resolve();
  private readonly serialised: boolean;
  /** What to do once the transaction of each unit of work's EntityManager commits (afterCommit). */
  private readonly committing = new WeakMap<EntityManager, (() => void)[]>();

  constructor(
    @InjectDataSource(IAM_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly authority: AuthorityVersionService,
  ) {
    this.serialised = dataSource.options.type === 'better-sqlite3';
  }

  /**
   * Runs `work` in a transaction and moves the authority version with it (AuthorityVersionService): every instance
   * drops the principals it has cached, since the work may have changed who may do what. On PostgreSQL a transaction aborted as a deadlock victim (40P01) or
   * a serialization failure (40001) is rolled back and run again, up to TRANSACTION_ATTEMPTS times in
   * all; then the request is answered 409. `work` may therefore run more than once: it must do nothing
   * outside the transaction (no logging of what it did, no calls elsewhere) and take what must not
   * change between attempts (generated tokens, timestamps) from outside.
   */
  run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    let committed: bigint | undefined;
    const bumping = async (em: EntityManager) => {
      committed = undefined; // an attempt run again (runRetrying) starts afresh
      const result = await work(em);
      committed = await this.authority.bumpIn(em);
      return result;
    };
    // Committed, rolled back or unknown (a connection lost during COMMIT): whatever was cached meanwhile, from this
    // transaction's view or before it, is not trusted any more.
    return this.runOnce(bumping).then(
      (result) => {
        this.authority.changedHere(committed);
        return result;
      },
      (error: unknown) => {
        this.authority.changedHere();
        throw error;
      },
    );
  }

  /**
   * run() for work that provably changes no one's authority: a new principal (its credential is checked afresh),
   * a new role (bound to nothing), names shown, descriptions, metadata, profiles, settings. It does not move the
   * authority version, so the instances keep their cached principals. Anything else, sessions, tokens, passwords,
   * memberships, role bindings, policies, deletions, goes through run(), which does.
   */
  runKeepingAuthority<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.runOnce(work);
  }

  /**
   * Runs `callback` once the transaction `em` belongs to has committed (never when it rolls back, nor for an attempt
   * run() makes again): for what must happen only to committed work, such as writing an audit event to the log. With
   * an EntityManager outside a transaction (write()), whose statements commit as they run, at once. A callback that
   * throws is its caller's bug: it is not caught.
   */
  afterCommit(em: EntityManager, callback: () => void): void {
    if (!em.queryRunner?.isTransactionActive) {
      callback();
      return;
    }
    const callbacks = this.committing.get(em);
    if (callbacks) {
      callbacks.push(callback);
    } else {
      this.committing.set(em, [callback]);
    }
  }

  private runOnce<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    // The manager of the attempt whose work completed last: the one that committed, when the transaction resolves.
    let last: EntityManager | undefined;
    const tracked = async (em: EntityManager) => {
      const result = await work(em);
      last = em;
      return result;
    };
    const committed = (result: T) => {
      const callbacks = last ? this.committing.get(last) : undefined;
      callbacks?.forEach((callback) => callback());
      return result;
    };
    if (!this.serialised) {
      return this.runRetrying(tracked).then(committed);
    }
    const result = this.queue.then(() => this.dataSource.transaction(tracked));
    this.queue = result.catch(() => undefined);
    return result.then(committed);
  }

  /**
   * One statement that needs no transaction and changes no one's authority (the last-seen stamp, a failed
   * sign-in's count, removing expired sessions): auto-committed on
   * PostgreSQL, which saves a BEGIN and a COMMIT; still queued on SQLite, so that it never lands inside
   * another caller's open transaction.
   */
  write<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (!this.serialised) {
      return work(this.dataSource.manager);
    }
    const result = this.queue.then(() => work(this.dataSource.manager));
    this.queue = result.catch(() => undefined);
    return result;
  }

  /**
   * Serialises creation of principals (users and service accounts share one namespace, across two tables)
   * until the transaction ends: a PostgreSQL transaction-level advisory lock; SQLite is already serialised.
   */
  async lockPrincipalNames(manager: EntityManager): Promise<void> {
    if (!this.serialised) {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [PRINCIPAL_NAMES_LOCK_KEY]);
    }
  }

  /**
   * Shared row lock for rows a write will reference (FOR SHARE on PostgreSQL): a concurrent delete of
   * them waits for this transaction, instead of breaking its foreign keys. SQLite is already serialised.
   */
  get shareLock(): FindOneOptions['lock'] {
    return this.serialised ? undefined : { mode: 'pessimistic_read' };
  }

  /** Row lock for read-modify-write inside run(): FOR UPDATE on PostgreSQL; SQLite is already serialised. */
  get rowLock(): FindOneOptions['lock'] {
    return this.serialised ? undefined : { mode: 'pessimistic_write' };
  }

  private async runRetrying<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.dataSource.transaction(work);
      } catch (error) {
        if (!isTransientTransactionError(error)) {
          throw error;
        }
        if (attempt >= TRANSACTION_ATTEMPTS) {
          this.logger.warn({ err: loggableError(error), attempts: attempt }, 'Transaction aborted again: giving up');
          throw ApiError.conflict('The request collided with a concurrent change: retry');
        }
        this.logger.debug({ err: loggableError(error), attempt }, 'Transaction aborted: running it again');
        await sleep(backoffMs(attempt));
      }
    }
  }
}
