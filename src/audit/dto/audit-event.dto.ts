import { ApiProperty, getSchemaPath } from '@nestjs/swagger';
import type { AuditEvent } from '../entities/audit-event.entity.js';

export class AuditActorDto {
  /** `operator`: the admin CLI (`npm run iam`), named after the operating-system account that ran it. */
  @ApiProperty({ enum: ['user', 'service_account', 'operator'] })
  kind: 'user' | 'service_account' | 'operator';
  /** The principal's name when it acted. @example "mary.jane@doe.net" */
  name: string;
  /** The principal's id; empty for the operator, which is no stored principal. @example "5f1d7c0e-3b7a-4a53-9a38-7a3f0e9c2b11" */
  id: string;
}

/** Any JSON value: a field's value as the API shows it (text, a number, a list of names, metadata, a policy). */
const ANY_VALUE = {
  oneOf: [
    { type: 'string', nullable: true },
    { type: 'number' },
    { type: 'boolean' },
    { type: 'array', items: {} },
    { type: 'object' },
  ],
};

/** A field's value before and after the change; a secret (password, token, hash) is "[redacted]" on both sides. */
export class AuditChangeDto {
  @ApiProperty({
    ...ANY_VALUE,
    description: 'The value before (null: none, or the resource did not exist)',
    example: 'Mary',
  })
  before: unknown;
  @ApiProperty({
    ...ANY_VALUE,
    description: 'The value after (null: none, or the resource is gone)',
    example: 'Mary Jane',
  })
  after: unknown;
}

export class AuditEventDto {
  /** A UUID (version 7: time-ordered). @example "01980b6e-6f1a-7c3e-9d2b-4f5a6b7c8d9e" */
  id: string;
  /** When it happened (ISO 8601, UTC). @example "2026-11-28T17:40:56.123Z" */
  @ApiProperty({ type: String, format: 'date-time' })
  time: string;
  /** The principal that acted, or `anonymous` (a sign-in, a failed one). */
  @ApiProperty({ oneOf: [{ $ref: getSchemaPath(AuditActorDto) }, { type: 'string', enum: ['anonymous'] }] })
  actor: AuditActorDto | 'anonymous';
  /**
   * The policy action (`iam:CreateUser`), or for what no policy governs: `iam:Login`, `iam:Logout`,
   * `iam:ChangePassword`, `iam:EndUserSessions`, `iam:UpdateUserSettings`. @example "iam:UpdateUser"
   */
  action: string;
  /** The LRN acted on, lower-cased (as policies compare LRNs). @example "iam:user:mary.jane@doe.net" */
  target: string;
  @ApiProperty({ enum: ['success', 'denied', 'failed'] })
  outcome: 'success' | 'denied' | 'failed';
  /**
   * Why it failed or was denied, else null: for a sign-in a code (`invalid_credentials`, `unknown_user`, `locked`,
   * `rate_limited`), for a 403 its title. @example null
   */
  @ApiProperty({ type: String, nullable: true })
  reason: string | null;
  /** The request's `X-Request-Id`. @example "3f6c1f7e-1d9e-4a55-8d0e-4a3f6b1c2d3e" */
  @ApiProperty({ type: String, nullable: true })
  request_id: string | null;
  /** The client's address (see TRUST_PROXY). @example "203.0.113.7" */
  @ApiProperty({ type: String, nullable: true })
  client_address: string | null;
  /** The request's User-Agent. @example "curl/8.5.0" */
  @ApiProperty({ type: String, nullable: true })
  user_agent: string | null;
  /** The fields that changed, each with its value before and after. */
  @ApiProperty({
    type: 'object',
    additionalProperties: { $ref: getSchemaPath(AuditChangeDto) },
    example: { display_name: { before: 'Mary', after: 'Mary Jane' } },
  })
  changes: Record<string, AuditChangeDto>;
}

export class AuditEventListDto {
  items: AuditEventDto[];
  /** Present while more events remain: pass it as `page_token` (with the same filters) for the next page. */
  next_page_token?: string;
}

/** The one mapping from an AuditEvent row to the API's event (also the SIEM log line's). */
export function toAuditEventDto(event: AuditEvent): AuditEventDto {
  return {
    id: event.id,
    time: event.time.toISOString(),
    actor:
      event.actorKind === 'anonymous'
        ? 'anonymous'
        : { kind: event.actorKind, name: event.actorName ?? '', id: event.actorId ?? '' },
    action: event.action,
    target: event.target,
    outcome: event.outcome,
    reason: event.reason,
    request_id: event.requestId,
    client_address: event.clientAddress,
    user_agent: event.userAgent,
    changes: event.changes,
  };
}
