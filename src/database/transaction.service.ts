import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, FindOneOptions } from 'typeorm';

/** Arbitrary constant: the advisory lock that serialises creation of principal names. */
const PRINCIPAL_NAMES_LOCK_KEY = 4_242_002;

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
 *      groups included), FOR SHARE when named as members of a group;
 *   5. the rows that hang off them: memberships, role bindings, sessions, profiles, settings. A unit of
 *      work that has written one of these takes no lock of kinds 1–4 afterwards.
 * Deleting a row locks it (and, through ON DELETE CASCADE, the rows that hang off it) like FOR UPDATE.
 */
@Injectable()
export class TransactionService {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly serialised: boolean;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    this.serialised = dataSource.options.type === 'better-sqlite3';
  }

  run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (!this.serialised) {
      return this.dataSource.transaction(work);
    }
    const result = this.queue.then(() => this.dataSource.transaction(work));
    this.queue = result.catch(() => undefined);
    return result;
  }

  /**
   * One statement that needs no transaction (the per-request last-seen stamp): auto-committed on
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
}
