import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One audit event: who did what to which resource, when, from where, and with what outcome. Written in the
 * transaction of the change it records (AuditService.record), never changed, deleted only when older than the
 * retention (AuditRetentionService). The list is read newest first, by (time, id), alone or after one filter: each
 * filter has an index that ends with (time, id), so that a page is a range of one index whatever the table's size.
 */
@Entity('audit_events')
@Index('IDX_audit_events_time', ['time', 'id'])
@Index('IDX_audit_events_actor', ['actorKey', 'time', 'id'])
@Index('IDX_audit_events_target', ['target', 'time', 'id'])
@Index('IDX_audit_events_action', ['action', 'time', 'id'])
@Index('IDX_audit_events_outcome', ['outcome', 'time', 'id'])
export class AuditEvent {
  /** A UUIDv7 made by the application: time-ordered, so that new rows go to the end of the primary key's index. */
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'PK_audit_events' })
  id: string;

  @Column({ type: Date })
  time: Date;

  /** `user`, `service_account`, or `anonymous` (a sign-in, a refusal before anyone was authenticated). */
  @Column({ name: 'actor_kind', type: String, length: 16 })
  actorKind: 'user' | 'service_account' | 'operator' | 'anonymous';

  @Column({ name: 'actor_id', type: 'uuid', nullable: true })
  actorId: string | null;

  /** The actor's name as it was then (case kept). */
  @Column({ name: 'actor_name', type: String, length: 100, nullable: true })
  actorName: string | null;

  /** The actor's name as names are compared (names.ts nameKey): what the `actor` filter matches. */
  @Column({ name: 'actor_key', type: String, length: 400, nullable: true })
  actorKey: string | null;

  /** The policy action (`iam:CreateUser`), or the audit's own name for what no policy governs (`iam:Login`). */
  @Column({ type: String, length: 100 })
  action: string;

  /** The LRN acted on, lower-cased as policies compare LRNs (`iam:user:alice`). */
  @Column({ type: String, length: 1000 })
  target: string;

  @Column({ type: String, length: 8 })
  outcome: 'success' | 'denied' | 'failed';

  /** Why it failed or was denied: a code for a sign-in (`invalid_credentials`), the refusal's title for a 403. */
  @Column({ type: String, length: 500, nullable: true })
  reason: string | null;

  @Column({ name: 'request_id', type: String, length: 128, nullable: true })
  requestId: string | null;

  @Column({ name: 'client_address', type: String, length: 64, nullable: true })
  clientAddress: string | null;

  @Column({ name: 'user_agent', type: String, length: 512, nullable: true })
  userAgent: string | null;

  /** `{ field: { before, after } }` for the fields that changed; secrets as "[redacted]". */
  @Column({ type: 'simple-json' })
  changes: Record<string, { before: unknown; after: unknown }>;
}
