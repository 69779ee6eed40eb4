import { randomBytes } from 'node:crypto';
import { HttpException, Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Request } from 'express';
import { LRUCache } from 'lru-cache';
import { DataSource, type EntityManager, type EntityMetadata } from 'typeorm';
import type { Principal } from '../auth/principal.js';
import { UNSTORABLE_TEXT } from '../common/validators.js';
import { currentRequest } from '../common/request-context.js';
import { nameKey } from '../common/names.js';
import type { AuditConfig } from '../config/audit.config.js';
import { isDatabaseUnavailable, loggableError, unavailabilityReason } from '../database/database-errors.js';
import { IAM_DATA_SOURCE } from '../database/iam-data-source.js';
import { TransactionService } from '../database/transaction.service.js';
import { IAM_AUDIT_CONFIG } from '../iam.options.js';
import { type AuditChanges, type AuditEventInput, isSecretField, REDACTED } from './audit-event.js';
import { auditedRouteOf } from './audit-route.js';
import { type AuditEventDto, toAuditEventDto } from './dto/audit-event.dto.js';
import { AuditEvent } from './entities/audit-event.entity.js';

/** The columns of audit_events, in the order of the INSERT's values. */
const COLUMNS = [
  'id',
  'time',
  'actor_kind',
  'actor_id',
  'actor_name',
  'actor_key',
  'action',
  'target',
  'outcome',
  'reason',
  'request_id',
  'client_address',
  'user_agent',
  'changes',
] as const;

/** Longest stored text of each column that holds what a request sent (the rest is the service's own). */
const MAX_LENGTH = { target: 1000, reason: 500, request_id: 128, client_address: 64, user_agent: 512 };

/** Marks a request whose refusal has been recorded: once per request, whoever sees it first. */
const REFUSAL_RECORDED = Symbol('iam.audit.refusal');
type MarkedRequest = Request & { [REFUSAL_RECORDED]?: true };

/**
 * Sign-ins refused by the rate limit are recorded one per client address and this interval (per instance): the first
 * of each interval, with the number refused since the previous event. Recorded one by one, a flood of sign-ins from
 * one address would be a flood of writes, which the rate limit is there to stop; anonymous callers must not be able
 * to fill the table or the write queue.
 */
export const RATE_LIMITED_EVENT_INTERVAL_MS = 60_000;

interface RateLimitedSignIns {
  /** When the last event for the address was recorded. */
  recordedAt: number;
  /** Refusals since then, not recorded one by one. */
  unrecorded: number;
}

/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then random bits. Events are inserted in time order, so
 * the primary key's index grows at its end instead of being split all over.
 */
export function uuidv7(at: Date): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(at.getTime(), 0, 6);
  bytes[6] = 0x70 | (bytes[6] & 0x0f);
  bytes[8] = 0x80 | (bytes[8] & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Text a request sent, as it can be stored: without NUL or lone surrogates (PostgreSQL refuses them), and cut short. */
function storable(text: string | undefined | null, max: number): string | null {
  if (text === undefined || text === null) {
    return null;
  }
  const clean = UNSTORABLE_TEXT.test(text) ? text.replace(new RegExp(UNSTORABLE_TEXT, 'gu'), '\uFFFD') : text;
  return [...clean].slice(0, max).join('');
}

/** `changes` with every secret field "[redacted]", whatever the caller put there. */
function redacted(changes: AuditChanges): AuditChanges {
  return Object.fromEntries(
    Object.entries(changes).map(([field, change]) => [
      field,
      isSecretField(field) ? { before: REDACTED, after: REDACTED } : change,
    ]),
  );
}

/**
 * The audit trail: every change appends one event in the transaction of the change (record), so that a rolled-back
 * change leaves no event and a committed one always has its event; sign-in failures and refusals, which have no
 * transaction, are one auto-committed INSERT each (recordAlone). Each event is a single hand-written INSERT: no read,
 * no query builder. With IAM_AUDIT_LOG, a committed event is also written to the log as one JSON line.
 */
@Injectable()
export class AuditService {
  private readonly logger = new Logger('AuditTrail');
  private readonly insertSql: string;
  private readonly timeColumn: EntityMetadata['columns'][number];
  /** Per client address: when its last rate-limited sign-in was recorded (memory bounded: the least recent go). */
  private readonly rateLimited = new LRUCache<string, RateLimitedSignIns>({ max: 10_000 });

  constructor(
    @InjectDataSource(IAM_DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(IAM_AUDIT_CONFIG) private readonly config: AuditConfig,
    private readonly tx: TransactionService,
  ) {
    const placeholders = COLUMNS.map((_column, index) =>
      dataSource.options.type === 'postgres' ? `$${index + 1}` : '?',
    );
    this.insertSql =
      `INSERT INTO "audit_events" (${COLUMNS.map((column) => `"${column}"`).join(', ')}) ` +
      `VALUES (${placeholders.join(', ')})`;
    this.timeColumn = dataSource.getMetadata(AuditEvent).findColumnWithPropertyName('time')!;
  }

  /**
   * Appends the event in the transaction of `em` (TransactionService.run's manager): call it inside the unit of work,
   * after the change. The request being served (request-context.ts) gives its id, address, user agent and principal.
   */
  async record(em: EntityManager, input: AuditEventInput, req: Request | undefined = currentRequest()): Promise<void> {
    const event = this.eventOf(input, req);
    await em.query(this.insertSql, this.valuesOf(event));
    if (this.config.log) {
      this.tx.afterCommit(em, () => this.log(event));
    }
  }

  /** An event with no transaction of its own (a failed sign-in): one INSERT, committed as it runs. */
  recordAlone(input: AuditEventInput, req: Request | undefined = currentRequest()): Promise<void> {
    return this.tx.write((em) => this.record(em, input, req));
  }

  /**
   * Records a refusal of the request, once: a 403 (outcome `denied`, with the route's action and target, the refusal's
   * title as the reason), or a 429 of a sign-in (`failed`, `rate_limited`). Never throws: a refusal must stay the
   * answer it is even when the database cannot take the event, which is then logged instead.
   */
  async recordRefusal(exception: unknown, req: Request): Promise<void> {
    const marked = req as MarkedRequest;
    const status = exception instanceof HttpException ? exception.getStatus() : undefined;
    if ((status !== 403 && status !== 429) || marked[REFUSAL_RECORDED]) {
      return;
    }
    const route = auditedRouteOf(req);
    if (route === undefined) {
      return;
    }
    let input: AuditEventInput;
    if (status === 403) {
      input = {
        action: route.action,
        target: route.target,
        outcome: 'denied',
        reason: (exception as HttpException).message,
      };
    } else if (route.action === 'iam:Login') {
      const reason = this.rateLimitedReason(req.ip ?? '', Date.now());
      if (reason === undefined) {
        return;
      }
      input = { action: route.action, target: route.target, outcome: 'failed', reason, actor: null };
    } else {
      return;
    }
    marked[REFUSAL_RECORDED] = true;
    try {
      await this.recordAlone(input, req);
    } catch (error) {
      // What it would have recorded, so that the log holds it instead; a warning without a stack, like every other
      // line of an outage.
      this.logger.warn(
        {
          reason: isDatabaseUnavailable(error) ? unavailabilityReason(error) : loggableError(error),
          audit_event: toAuditEventDto(this.eventOf(input, req)),
        },
        'Could not record a refusal in the audit trail: logged here instead',
      );
    }
  }

  /**
   * The reason to record for a rate-limited sign-in from `address`, or undefined when one was recorded for it less
   * than RATE_LIMITED_EVENT_INTERVAL_MS ago (this one is then only counted): `rate_limited`, followed by the number
   * of refusals in between when there were any.
   */
  private rateLimitedReason(address: string, now: number): string | undefined {
    const last = this.rateLimited.get(address);
    if (last !== undefined && now - last.recordedAt < RATE_LIMITED_EVENT_INTERVAL_MS) {
      last.unrecorded++;
      return undefined;
    }
    this.rateLimited.set(address, { recordedAt: now, unrecorded: 0 });
    return last?.unrecorded
      ? `rate_limited (and ${last.unrecorded} more from this address since the previous such event, not recorded one by one)`
      : 'rate_limited';
  }

  private eventOf(input: AuditEventInput, req: Request | undefined): AuditEvent {
    const actor = input.actor !== undefined ? input.actor : ((req?.user as Principal | undefined) ?? null);
    const time = new Date();
    const event = new AuditEvent();
    Object.assign(event, {
      id: uuidv7(time),
      time,
      actorKind: actor ? actor.kind : 'anonymous',
      // The operator (the admin CLI) is no stored principal: it has no id to keep.
      actorId: actor && actor.kind !== 'operator' ? actor.id : null,
      actorName: actor?.name ?? null,
      actorKey: actor ? nameKey(actor.name) : null,
      action: input.action,
      target: storable(input.target, MAX_LENGTH.target) ?? '',
      outcome: input.outcome ?? 'success',
      reason: storable(input.reason, MAX_LENGTH.reason),
      requestId: storable(typeof req?.id === 'string' ? req.id : undefined, MAX_LENGTH.request_id),
      clientAddress: storable(req?.ip, MAX_LENGTH.client_address),
      userAgent: storable(req?.headers['user-agent'], MAX_LENGTH.user_agent),
      changes: redacted(input.changes ?? {}),
    } satisfies Partial<AuditEvent>);
    return event;
  }

  /** The INSERT's values, as the driver writes each column (dates per database, JSON as text). */
  private valuesOf(event: AuditEvent): unknown[] {
    return [
      event.id,
      this.dataSource.driver.preparePersistentValue(event.time, this.timeColumn),
      event.actorKind,
      event.actorId,
      event.actorName,
      event.actorKey,
      event.action,
      event.target,
      event.outcome,
      event.reason,
      event.requestId,
      event.clientAddress,
      event.userAgent,
      JSON.stringify(event.changes),
    ];
  }

  /** The SIEM line: the event as the API shows it, one JSON line at level info. */
  private log(event: AuditEvent): void {
    const audit: AuditEventDto = toAuditEventDto(event);
    this.logger.log({ audit_event: audit }, `audit ${audit.action} ${audit.target} ${audit.outcome}`);
  }
}
