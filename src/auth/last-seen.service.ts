import { type BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { type EntityManager, LessThan } from 'typeorm';
import type { AuthConfig } from '../config/auth.config.js';
import { isDatabaseUnavailable, loggableError, unavailabilityReason } from '../database/database-errors.js';
import { TransactionService } from '../database/transaction.service.js';
import { IAM_AUTH_CONFIG } from '../iam.options.js';
import { ServiceAccount } from '../service-accounts/entities/service-account.entity.js';
import { Session } from '../sessions/entities/session.entity.js';
import { User } from '../users/entities/user.entity.js';
import type { StoredPrincipalKind } from './principal.js';

/** `last_seen_at` is written at most this often per principal (and per session) and instance. */
export const LAST_SEEN_RESOLUTION_MS = 60_000;

/**
 * Stamps `last_seen_at` on the principals that call the API, and on the session each signed-in request came with: at
 * most once a minute each, and off the request's path (the request does not wait for the write, and a write that
 * fails is retried by the principal's next request).
 *
 * A session's stamp is what its idle timeout (IAM_SESSION_IDLE_MINUTES) counts from, so it is written at most a tenth
 * of that timeout apart when that is less than a minute, and never moved back (several instances stamp one session).
 */
@Injectable()
export class LastSeenService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(LastSeenService.name);
  /** When this instance last stamped each principal and session (its memory bounded: the least recent are forgotten). */
  private readonly stamped = new LRUCache<string, number>({ max: 100_000 });
  private readonly pending = new Set<Promise<unknown>>();
  private readonly sessionResolutionMs: number;

  constructor(
    private readonly tx: TransactionService,
    @Inject(IAM_AUTH_CONFIG) config: AuthConfig,
  ) {
    this.sessionResolutionMs = Math.min(LAST_SEEN_RESOLUTION_MS, (config.sessionIdleMinutes * 60_000) / 10);
  }

  record(principal: { kind: StoredPrincipalKind; id: string; sessionId?: string }, now = Date.now()): void {
    const entity = principal.kind === 'user' ? User : ServiceAccount;
    this.stamp(`${principal.kind}:${principal.id}`, LAST_SEEN_RESOLUTION_MS, now, (em, at) =>
      em.update(entity, { id: principal.id }, { lastSeenAt: at }),
    );
    const { sessionId } = principal;
    if (sessionId !== undefined) {
      this.stamp(`session:${sessionId}`, this.sessionResolutionMs, now, (em, at) =>
        em.update(Session, { id: sessionId, lastSeenAt: LessThan(at) }, { lastSeenAt: at }),
      );
    }
  }

  private stamp(
    key: string,
    resolutionMs: number,
    now: number,
    write: (em: EntityManager, at: Date) => Promise<unknown>,
  ): void {
    const last = this.stamped.get(key);
    if (last !== undefined && now - last < resolutionMs) {
      return;
    }
    this.stamped.set(key, now);
    const stamping = this.tx
      .write((em) => write(em, new Date(now)))
      .catch((error: unknown) => {
        this.stamped.delete(key);
        const reason = isDatabaseUnavailable(error) ? unavailabilityReason(error) : loggableError(error);
        this.logger.warn({ reason }, 'Could not record last_seen_at: the next request tries again');
      })
      .finally(() => this.pending.delete(stamping));
    this.pending.add(stamping);
  }

  /** The stamps under way are written before the database connection closes. */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }
}
