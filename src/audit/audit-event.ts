import { type IamAction, IAM_ACTIONS, hostActionList, lrn, type ResourceKind } from '../auth/actions.js';
import type { Principal } from '../auth/principal.js';
import { nameKey } from '../common/names.js';

/**
 * What an audit event says, as the services describe it (AuditService adds the time, the request's id, address and
 * user agent, and by default the request's principal as the actor).
 */

/** The names of what the audit records and no policy governs: signing in and out, and self-service changes. */
export const AUDIT_ONLY_ACTIONS = [
  'iam:Login',
  'iam:Logout',
  'iam:ChangePassword',
  'iam:GetUserSettings',
  'iam:UpdateUserSettings',
] as const;

export type AuditAction = IamAction | (typeof AUDIT_ONLY_ACTIONS)[number];

export type AuditOutcome = 'success' | 'denied' | 'failed';

export const AUDIT_OUTCOMES: readonly AuditOutcome[] = ['success', 'denied', 'failed'];

/** Who acted: a principal, or nobody authenticated (`null`: shown as `anonymous`). */
export type AuditActor = Pick<Principal, 'kind' | 'id' | 'name'> | null;

/** `{ field: { before, after } }` for the fields that changed. */
export type AuditChanges = Record<string, { before: unknown; after: unknown }>;

export interface AuditEventInput {
  action: AuditAction | (string & {});
  /** The LRN acted on (see auditTarget). */
  target: string;
  /** Default `success`. */
  outcome?: AuditOutcome;
  /** Why it failed (a code: `invalid_credentials`) or was denied (the 403's title). */
  reason?: string;
  changes?: AuditChanges;
  /**
   * Who acted; `null` for nobody authenticated. The services pass the principal they act for, so that an event is
   * right outside an HTTP request too (a command line); by default the request's principal.
   */
  actor?: AuditActor;
}

/** How a secret appears in `changes`, before and after alike. */
export const REDACTED = '[redacted]';

/**
 * Fields whose values are secrets wherever they appear: passwords, tokens, hashes, session ids, keys. AuditService
 * redacts them whatever a caller passed, so that a slip in a service cannot put one in the trail.
 */
const SECRET_FIELD = /password|token|hash|secret|session_id|cookie|key$/i;

export function isSecretField(field: string): boolean {
  return SECRET_FIELD.test(field) && !/_expires_at$/.test(field);
}

/** The LRN of a resource as events carry it: the name in the form names are compared in (lower case). */
export function auditTarget(kind: ResourceKind, name: string): string {
  return lrn(kind, nameKey(name));
}

/** An LRN (a filter, a route's resource) in the form events carry it. */
export const canonicalTarget = (target: string) => nameKey(target);

/**
 * The fields of `after` whose values differ from `before`'s (compared as JSON), each with both values. A field whose
 * value in `after` is undefined was not asked to change, and is left out.
 */
export function changesOf(before: Record<string, unknown>, after: Record<string, unknown>): AuditChanges {
  const changes: AuditChanges = {};
  for (const [field, value] of Object.entries(after)) {
    if (value === undefined) {
      continue;
    }
    const was = before[field] ?? null;
    if (JSON.stringify(was) !== JSON.stringify(value)) {
      changes[field] = { before: was, after: value };
    }
  }
  return changes;
}

/** A new resource's fields: each from `null`. */
export const created = (fields: Record<string, unknown>): AuditChanges => changesOf({}, fields);

/** A deleted resource's fields: each to `null`. */
export function deleted(fields: Record<string, unknown>): AuditChanges {
  return Object.fromEntries(
    Object.entries(fields)
      .filter(([, value]) => value !== null && value !== undefined)
      .map(([field, value]) => [field, { before: value, after: null }]),
  );
}

/** A secret that was set or replaced: shown as "[redacted]" on both sides, whatever it was. */
export const secretChanged = (): { before: unknown; after: unknown } => ({ before: REDACTED, after: REDACTED });

/** Two sorted lists of names, as a change when they differ (memberships, role bindings). */
export function listChange(field: string, before: string[], after: string[]): AuditChanges {
  return changesOf({ [field]: [...before].sort() }, { [field]: [...after].sort() });
}

/** Dates as ISO 8601 text, as the API shows them. */
export const isoOrNull = (date: Date | null | undefined): string | null => (date ? date.toISOString() : null);

/** The canonical spelling of an action an event may carry (the catalogue, the audit's own, the host's), else as given. */
export function canonicalAuditAction(action: string): string {
  const lower = action.toLowerCase();
  return (
    [...IAM_ACTIONS, ...AUDIT_ONLY_ACTIONS, ...hostActionList()].find((known) => known.toLowerCase() === lower) ??
    action
  );
}
