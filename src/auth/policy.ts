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
  return globMatches(pattern.toLowerCase(), value.toLowerCase());
}

/** wildcardMatches() on a pattern and a value already lower-cased. */
function globMatches(p: string, v: string): boolean {
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
  return actionPatternMatches(pattern.toLowerCase(), action.toLowerCase());
}

/** actionMatches() on a pattern and an action already lower-cased. */
function actionPatternMatches(p: string, a: string): boolean {
  if (p === '*' || p === a) {
    return true;
  }
  return p.endsWith(':*') && a.startsWith(p.slice(0, -1));
}

/**
 * Deny wins; otherwise allowed when some statement allows; no match is a deny.
 */
export function decide(statements: readonly PolicyStatement[], action: string, resource: string): Decision {
  return new CompiledPolicy(statements).decide(action, resource);
}

/**
 * How many decisions a CompiledPolicy remembers before it starts afresh, and from how many statements on it remembers
 * any: evaluating a few statements costs less than remembering, and the bound caps what the principal cache holds
 * (up to 10,000 principals) at 64 decisions each, whatever resources their requests name.
 */
const REMEMBERED_DECISIONS = 64;
const REMEMBER_FROM_STATEMENTS = 8;

/**
 * A policy ready for many decisions (what a cached principal holds): its patterns lower-cased once and, for a long
 * policy, its recent decisions remembered, so that a caller with a hundred statements costs about what a caller with
 * one does. Immutable: a changed policy is a new CompiledPolicy.
 */
export class CompiledPolicy {
  private readonly compiled: readonly { deny: boolean; actions: string[]; resources: string[] }[];
  private readonly decisions: Map<string, Decision> | null;

  constructor(readonly statements: readonly PolicyStatement[]) {
    this.compiled = statements.map((statement) => ({
      deny: statement.effect === 'deny',
      actions: statement.action.map((pattern) => pattern.toLowerCase()),
      resources: statement.resource.map((pattern) => pattern.toLowerCase()),
    }));
    this.decisions = statements.length >= REMEMBER_FROM_STATEMENTS ? new Map() : null;
  }

  decide(action: string, resource: string): Decision {
    if (!this.decisions) {
      return this.evaluate(action.toLowerCase(), resource.toLowerCase());
    }
    const key = `${action}\u0000${resource}`;
    let decision = this.decisions.get(key);
    if (decision === undefined) {
      decision = this.evaluate(action.toLowerCase(), resource.toLowerCase());
      if (this.decisions.size >= REMEMBERED_DECISIONS) {
        this.decisions.clear();
      }
      this.decisions.set(key, decision);
    }
    return decision;
  }

  private evaluate(action: string, resource: string): Decision {
    let allowed = false;
    for (const statement of this.compiled) {
      const applies =
        statement.actions.some((pattern) => actionPatternMatches(pattern, action)) &&
        statement.resources.some((pattern) => globMatches(pattern, resource));
      if (!applies) {
        continue;
      }
      if (statement.deny) {
        return 'deny';
      }
      allowed = true;
    }
    return allowed ? 'allow' : 'deny';
  }
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

export const RESOURCE_TYPES = ['user', 'group', 'service-account', 'role', 'audit'];

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
