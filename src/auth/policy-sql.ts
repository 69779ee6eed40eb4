import type { ResourceKind } from './actions.js';
import { actionMatches, type PolicyStatement, wildcardMatches } from './policy.js';

/** A condition for a WHERE clause, its parameters named (`:name`) as TypeORM's query builder takes them. */
export interface SqlCondition {
  sql: string;
  params: Record<string, string>;
}

/** The condition that holds for every row. */
export const ALWAYS: SqlCondition = { sql: '1 = 1', params: {} };
/** The condition that holds for no row. */
export const NEVER: SqlCondition = { sql: '1 = 0', params: {} };

/** `text` with LIKE's own characters (`%`, `_`) and the escape character (`\`) escaped, for `ESCAPE '\'`. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (char) => `\\${char}`);
}

/**
 * A resource pattern as a LIKE pattern (for `ESCAPE '\'`) over a lower-cased LRN: lower-cased as decide() does,
 * each `*` a `%`, everything else literal.
 */
export function likePatternOf(resourcePattern: string): string {
  return resourcePattern.toLowerCase().split('*').map(escapeLike).join('%');
}

/**
 * How a resource pattern relates to the LRNs of one kind (`iam:<kind>:<name>`, names never empty):
 * - `all`: it matches every one of them (`*`, `iam:*`, `iam:<kind>:*`, `iam:*:*`, …): a pattern ending in `*`
 *   that matches the bare prefix `iam:<kind>:` matches the prefix followed by anything;
 * - `none`: it matches none (`iam:group:*` for users): its literal start and the prefix disagree;
 * - `some`: it has to be compared with each name.
 */
export function patternScope(resourcePattern: string, kind: ResourceKind): 'all' | 'none' | 'some' {
  const pattern = resourcePattern.toLowerCase();
  const prefix = `iam:${kind}:`;
  if (pattern.endsWith('*') && wildcardMatches(pattern, prefix)) {
    return 'all';
  }
  const star = pattern.indexOf('*');
  const literalStart = star === -1 ? pattern : pattern.slice(0, star);
  const compatible = literalStart.startsWith(prefix) || (star !== -1 && prefix.startsWith(literalStart));
  return compatible ? 'some' : 'none';
}

/**
 * The statements' decision for `action` on every item of one kind, as SQL: an item passes when some applicable
 * allow's resource pattern matches its LRN and no applicable deny's does: exactly decide(statements, action,
 * `iam:<kind>:<lrnName>`), where `lrnName` is the SQL expression of the item's lower-cased name (its LRN,
 * lower-cased, is `'iam:<kind>:' || lrnName`). Which statements apply to the action is decided here, with
 * actionMatches(); each remaining resource pattern becomes a LIKE pattern (see likePatternOf), or drops out
 * when it matches every LRN of the kind or none.
 *
 * `paramPrefix` keeps the parameter names apart from the rest of the query's.
 */
export function policyCondition(
  statements: readonly PolicyStatement[],
  action: string,
  kind: ResourceKind,
  lrnName: string,
  paramPrefix = 'policy',
): SqlCondition {
  const params: Record<string, string> = {};
  const lrnSql = `('iam:${kind}:' || ${lrnName})`;
  /** `any` pattern of these statements matches: TRUE, FALSE, or an OR of LIKEs. */
  const anyMatches = (effect: PolicyStatement['effect']): string | boolean => {
    const likes = new Set<string>();
    for (const statement of statements) {
      if (statement.effect !== effect || !statement.action.some((pattern) => actionMatches(pattern, action))) {
        continue;
      }
      for (const pattern of statement.resource) {
        const scope = patternScope(pattern, kind);
        if (scope === 'all') {
          return true;
        }
        if (scope === 'some') {
          likes.add(likePatternOf(pattern));
        }
      }
    }
    if (likes.size === 0) {
      return false;
    }
    return [...likes]
      .map((like) => {
        const name = `${paramPrefix}_${Object.keys(params).length}`;
        params[name] = like;
        return `${lrnSql} LIKE :${name} ESCAPE '\\'`;
      })
      .join(' OR ');
  };
  const allowed = anyMatches('allow');
  if (allowed === false) {
    return NEVER;
  }
  const denied = anyMatches('deny');
  if (denied === true) {
    return NEVER;
  }
  const parts = [allowed === true ? null : `(${allowed})`, denied === false ? null : `NOT (${denied})`];
  const sql = parts.filter((part) => part !== null).join(' AND ');
  return sql ? { sql, params } : ALWAYS;
}
