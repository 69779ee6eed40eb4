import { type BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { isDatabaseUnavailable, loggableError, unavailabilityReason } from '../database/database-errors.js';
import { TransactionService } from '../database/transaction.service.js';
import { ServiceAccount } from '../service-accounts/entities/service-account.entity.js';
import { User } from '../users/entities/user.entity.js';
import type { StoredPrincipalKind } from './principal.js';

/** `last_seen_at` is written at most this often per principal and instance. */
export const LAST_SEEN_RESOLUTION_MS = 60_000;

/**
 * Stamps `last_seen_at` on the principals that call the API: at most once a minute each, and off the request's path
 * (the request does not wait for the write, and a write that fails is retried by the principal's next request).
 */
@Injectable()
export class LastSeenService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(LastSeenService.name);
  /** When this instance last stamped each principal (its memory bounded: the least recent are forgotten). */
  private readonly stamped = new LRUCache<string, number>({ max: 100_000 });
  private readonly pending = new Set<Promise<unknown>>();

  constructor(private readonly tx: TransactionService) {}

  record(principal: { kind: StoredPrincipalKind; id: string }, now = Date.now()): void {
    const key = `${principal.kind}:${principal.id}`;
    const last = this.stamped.get(key);
    if (last !== undefined && now - last < LAST_SEEN_RESOLUTION_MS) {
      return;
    }
    this.stamped.set(key, now);
    const entity = principal.kind === 'user' ? User : ServiceAccount;
    const write = this.tx
      .write((em) => em.update(entity, { id: principal.id }, { lastSeenAt: new Date(now) }))
      .catch((error: unknown) => {
        this.stamped.delete(key);
        const reason = isDatabaseUnavailable(error) ? unavailabilityReason(error) : loggableError(error);
        this.logger.warn({ reason }, 'Could not record last_seen_at: the next request tries again');
      })
      .finally(() => this.pending.delete(write));
    this.pending.add(write);
  }

  /** The stamps under way are written before the database connection closes. */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }
}
