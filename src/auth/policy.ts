import { hostAction, hostServices, IAM_ACTIONS } from './actions.js';

/** One statement of a role's policy, as stored (actions and resources always arrays). */
export interface PolicyStatement {
  effect: 'allow' | 'deny';
  action: string[];
  resource: string[];
}

export type Decision = 'allow' | 'deny';

/** `*` in a pattern matches any run of characters (possibly empty); everything else literally, ignoring case. */
export function wildcardMatches(pattern: string, value: string): boolean {
  const p = pattern.toLowerCase();
  const v = value.toLowerCase();
  // Iterative glob match with backtracking over the last `*` (linear in practice, no regex to blow up).
  let pi = 0;
  let vi = 0;
  let star = -1;
  let mark = 0;
  while (vi < v.length) {
    if (pi < p.length && p[pi] !== '*' && p[pi] === v[vi]) {
      pi++;
      vi++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = vi;
    } else if (star !== -1) {
      pi = star + 1;
      vi = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') {
    pi++;
  }
  return pi === p.length;
}

/** `*`, `iam:*` or an exact action (case-insensitive). */
export function actionMatches(pattern: string, action: string): boolean {
  const p = pattern.toLowerCase();
  const a = action.toLowerCase();
  if (p === '*' || p === a) {
    return true;
  }
  return p.endsWith(':*') && a.startsWith(p.slice(0, -1));
}

/**
 * Deny wins; otherwise allowed when some statement allows; no match is a deny.
 */
export function decide(statements: PolicyStatement[], action: string, resource: string): Decision {
  let allowed = false;
  for (const statement of statements) {
    const applies =
      statement.action.some((pattern) => actionMatches(pattern, action)) &&
      statement.resource.some((pattern) => wildcardMatches(pattern, resource));
    if (!applies) {
      continue;
    }
    if (statement.effect === 'deny') {
      return 'deny';
    }
    allowed = true;
  }
  return allowed ? 'allow' : 'deny';
}

const CANONICAL_ACTIONS = new Map(IAM_ACTIONS.map((action) => [action.toLowerCase(), action]));

/** The canonical spelling of a statement action, or null when this service does not know it. */
export function canonicalAction(action: string): string | null {
  if (action === '*') {
    return action;
  }
  const [service, operation, ...rest] = action.split(':');
  const known = service.toLowerCase() === 'iam' || hostServices().includes(service.toLowerCase());
  if (rest.length > 0 || !operation || !known) {
    return null;
  }
  if (operation === '*') {
    return `${service.toLowerCase()}:*`;
  }
  return CANONICAL_ACTIONS.get(action.toLowerCase()) ?? hostAction(action) ?? null;
}

export const RESOURCE_TYPES = ['user', 'group', 'service-account', 'role'];

/**
 * A resource pattern: `*`, or `iam:<type>:<name pattern>` where the type is a known one or `*`, and the
 * name pattern is 1–200 printable characters without whitespace (`*` allowed anywhere). `iam:*` too. For a
 * service of the host's registered actions (`widgets`): `widgets:*` and `widgets:<any type>:<name pattern>`.
 */
export function isValidResourcePattern(resource: string): boolean {
  const services = ['iam', ...hostServices()];
  if (resource === '*' || services.some((service) => resource.toLowerCase() === `${service}:*`)) {
    return true;
  }
  const match = /^([a-z][a-z0-9-]*):([a-z*-]+):(.+)$/i.exec(resource);
  if (!match || !services.includes(match[1].toLowerCase())) {
    return false;
  }
  const [, service, type, name] = match;
  const typeOk = type === '*' || service.toLowerCase() !== 'iam' || RESOURCE_TYPES.includes(type.toLowerCase());
  return typeOk && name.length <= 200 && /^[^\s\p{Cc}]+$/u.test(name);
}
