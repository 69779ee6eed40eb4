import { hostActionList, hostServices, IAM_ACTIONS } from './actions.js';
import { actionMatches, type PolicyStatement } from './policy.js';

/**
 * "You can only grant what you hold": decides, on patterns alone, whether one set of policy statements (what a
 * caller holds) covers every permission another set grants (a role's policy, or what a principal holds). Modelled on
 * Kubernetes RBAC's escalation prevention. The answer is sound: "covered" is only ever said when it is true for every
 * action and resource the patterns can match, today's and future ones; when the patterns make that hard to decide,
 * the answer is "not covered" (refuse).
 */

/** A permission the holder lacks: an action (or action pattern) on a resource pattern. */
export interface Lack {
  action: string;
  resource: string;
}

/**
 * The actions a pattern can stand for. Action patterns are `*`, `<service>:*` or one action of the catalogue, so
 * the catalogue plus two stand-ins covers every case: an `iam:` action the catalogue does not have yet (a later
 * release may add one, and `iam:*` grants it), and an action of another service (which only `*` grants).
 */
const FUTURE_IAM_ACTION = 'iam:\u0000future';
const OTHER_SERVICE_ACTION = '\u0000other:\u0000future';
/** The same for each service of the host's registered actions: its actions, and one it may add later. */
const actionUniverse = (): readonly string[] => [
  ...IAM_ACTIONS,
  FUTURE_IAM_ACTION,
  ...hostActionList(),
  ...hostServices().map((service) => `${service}:\u0000future`),
  OTHER_SERVICE_ACTION,
];

type Walk = (a: string, b: string, i: number, j: number, walk: (i: number, j: number) => boolean) => boolean;

/** Runs a memoised walk over positions (i in p, j in q) of two lower-cased patterns, from (0, 0). */
function walkPatterns(p: string, q: string, step: Walk): boolean {
  const a = p.toLowerCase();
  const b = q.toLowerCase();
  const memo = new Map<number, boolean>();
  const walk = (i: number, j: number): boolean => {
    const key = i * (b.length + 1) + j;
    let result = memo.get(key);
    if (result === undefined) {
      result = step(a, b, i, j, walk);
      memo.set(key, result);
    }
    return result;
  };
  return walk(0, 0);
}

/**
 * L(p) ⊆ L(q) for patterns in which `*` matches any run of characters and everything else itself, without regard to
 * case. Exact for literals; for patterns with stars it may answer false where inclusion holds (never the reverse).
 */
export function patternIncludes(p: string, q: string): boolean {
  return walkPatterns(p, q, (a, b, i, j, walk) => {
    if (j === b.length) {
      return i === a.length;
    }
    if (b[j] === '*') {
      // q's star matches nothing more, or it absorbs p's next symbol (a literal, or everything p's star makes).
      return walk(i, j + 1) || (i < a.length && walk(i + 1, j));
    }
    // q needs this literal: p must produce exactly it here (a star in p could produce something else).
    return i < a.length && a[i] !== '*' && a[i] === b[j] && walk(i + 1, j + 1);
  });
}

/** L(p) ∩ L(q) ≠ ∅: some value matches both patterns (exact). */
export function patternsIntersect(p: string, q: string): boolean {
  return walkPatterns(p, q, (a, b, i, j, walk) => {
    if (i === a.length && j === b.length) {
      return true;
    }
    if (i < a.length && a[i] === '*') {
      return walk(i + 1, j) || (j < b.length && walk(i, j + 1));
    }
    if (j < b.length && b[j] === '*') {
      return walk(i, j + 1) || (i < a.length && walk(i + 1, j));
    }
    return i < a.length && j < b.length && a[i] === b[j] && walk(i + 1, j + 1);
  });
}

/** The resource patterns of the statements of one effect that apply to an action. */
function resourcesFor(statements: readonly PolicyStatement[], effect: 'allow' | 'deny', action: string): string[] {
  return statements
    .filter((s) => s.effect === effect && s.action.some((pattern) => actionMatches(pattern, action)))
    .flatMap((s) => s.resource);
}

/**
 * The first permission that `granted` grants and `held` does not cover, or null when `held` covers them all.
 *
 * For each action an allow of `granted` can stand for, and each of its resource patterns r, `held` covers r when:
 * - `granted`'s own denies for that action take all of r away (then it grants nothing there), or
 * - one of `held`'s allows for that action includes all of r, and each of `held`'s denies for that action either
 *   misses r entirely or lies inside one of `granted`'s own denies for that action (it cuts nothing `granted` gives).
 * Covering r by a union of several allow patterns is not attempted: when in doubt, refuse.
 */
export function firstUncovered(held: readonly PolicyStatement[], granted: readonly PolicyStatement[]): Lack | null {
  const byAction = new Map<string, { grantedDenies: string[]; heldAllows: string[]; heldDenies: string[] }>();
  const patternsFor = (action: string) => {
    let patterns = byAction.get(action);
    if (!patterns) {
      patterns = {
        grantedDenies: resourcesFor(granted, 'deny', action),
        heldAllows: resourcesFor(held, 'allow', action),
        heldDenies: resourcesFor(held, 'deny', action),
      };
      byAction.set(action, patterns);
    }
    return patterns;
  };
  for (const statement of granted) {
    if (statement.effect !== 'allow') {
      continue;
    }
    for (const action of actionUniverse()) {
      const pattern = statement.action.find((p) => actionMatches(p, action));
      if (pattern === undefined) {
        continue;
      }
      const { grantedDenies, heldAllows, heldDenies } = patternsFor(action);
      for (const resource of statement.resource) {
        if (grantedDenies.some((deny) => patternIncludes(resource, deny))) {
          continue;
        }
        const allowed = heldAllows.some((allow) => patternIncludes(resource, allow));
        const cut = heldDenies.some(
          (deny) => patternsIntersect(resource, deny) && !grantedDenies.some((own) => patternIncludes(deny, own)),
        );
        if (!allowed || cut) {
          // Name a real action where there is one; a stand-in is reported as the pattern that grants it.
          return { action: action.includes('\u0000') ? pattern : action, resource };
        }
      }
    }
  }
  return null;
}
