import Database from 'better-sqlite3';
import fc from 'fast-check';
import { lrn, type ResourceKind } from './actions.js';
import { decide, type PolicyStatement } from './policy.js';
import { escapeLike, likePatternOf, patternScope, policyCondition } from './policy-sql.js';

/** Names (as their lower-cased key columns hold them) with LIKE's characters, `*`, and non-ASCII letters. */
const NAMES = [
  'alice', 'bob', 'team-a', 'team-b', 'team-', 'team', 'teams', 'tea-m', 'a%b', 'axb', 'a_b', 'a\\b', 'a\\\\b',
  '50%', '5000', 'x*y', 'x-y', '_', '%', '\\', 'team_%', 'team-%x', 'josé', 'jose\u0301', 'école', 'σίσυφος', 'ς',
  'σ1', 'straße', 'strasse', 'i̇stanbul', 'istanbul', '日本', '𠀀x', 'ops-Ω'.toLowerCase(), 'root-admin', 'root',
  'iam:user:x', 'ü', 'u\u0308',
]; // prettier-ignore

const PATTERNS = [
  '*', 'iam:*', 'iam:user:*', 'iam:*:*', 'iam:group:*', 'iam:role:*', 'iam:user:team-*', 'IAM:USER:TEAM-*',
  'iam:user:a%b', 'iam:user:a_b', 'iam:user:a\\b', 'iam:user:A_*', 'iam:*:team-*', 'iam:user:*%*', 'iam:user:*\\*',
  'iam:user:*_', 'iam:user:JOSÉ', 'iam:user:*É*', 'iam:user:ÉCOLE', 'iam:User:*', 'iam:user:*-*', 'iam:user:t*m*',
  'iam:us*', 'iam:user:', 'iam:user:**', '*:*', 'iam:user:x*y', 'iam:user:Σ*', 'iam:user:*Σ*', 'iam:user:STRASSE',
  'iam:user:İstanbul', 'iam:user:日*', 'iam:user:*x', 'iam:group:team-*', 'iam:*:a_b', 'iam:user:root-*',
  'iam:user:*:*', 'iam:group', 'widgets:*', 'iam:user:%', 'iam:user:_', 'iam:user:\\', 'iam:user:*ü',
]; // prettier-ignore

const ACTIONS = ['iam:ListUsers', 'iam:*', '*', 'iam:ListGroups', 'iam:GetUser'];

describe('escapeLike and likePatternOf', () => {
  it('escapes %, _ and \\ and turns * into %', () => {
    expect(escapeLike('a%b_c\\d')).toBe('a\\%b\\_c\\\\d');
    expect(likePatternOf('iam:user:Team_*%')).toBe('iam:user:team\\_%\\%');
  });
});

describe('patternScope', () => {
  it.each([
    ['*', 'all'],
    ['iam:*', 'all'],
    ['iam:user:*', 'all'],
    ['iam:*:*', 'all'],
    ['IAM:USER:*', 'all'],
    ['iam:group:*', 'none'],
    ['iam:role:x', 'none'],
    ['widgets:*', 'none'],
    ['iam:user:team-*', 'some'],
    ['iam:*:team-*', 'some'],
    ['iam:us*', 'all'],
  ])('%s for users is %s', (pattern, scope) => {
    expect(patternScope(pattern, 'user')).toBe(scope);
  });
});

/**
 * The translation against decide() itself: every name of a real SQLite table is selected by the SQL condition
 * exactly when decide() allows it.
 */
describe('policyCondition equals decide() on a real SQLite database', () => {
  let db: Database.Database;
  beforeAll(() => {
    db = new Database(':memory:');
    db.exec('CREATE TABLE items (name_key TEXT PRIMARY KEY)');
  });
  afterAll(() => db.close());

  const fill = (names: string[]) => {
    db.exec('DELETE FROM items');
    const insert = db.prepare('INSERT OR IGNORE INTO items (name_key) VALUES (?)');
    for (const name of names) {
      insert.run(name);
    }
  };

  /** The names the condition selects, and the names decide() allows. */
  const compare = (statements: PolicyStatement[], action: string, kind: ResourceKind) => {
    const condition = policyCondition(statements, action, kind, 'name_key');
    const selected = db
      .prepare(`SELECT name_key FROM items WHERE ${condition.sql} ORDER BY name_key`)
      .all(condition.params) as { name_key: string }[];
    const all = db.prepare('SELECT name_key FROM items ORDER BY name_key').all() as { name_key: string }[];
    const allowed = all.filter((row) => decide(statements, action, lrn(kind, row.name_key)) === 'allow');
    return { selected: selected.map((row) => row.name_key), allowed: allowed.map((row) => row.name_key) };
  };

  it('agrees for each pattern alone, as an allow and under a deny of everything else', () => {
    fill(NAMES);
    for (const kind of ['user', 'group'] as const) {
      for (const pattern of PATTERNS) {
        for (const action of ACTIONS) {
          const allowOnly: PolicyStatement[] = [{ effect: 'allow', action: ['iam:ListUsers'], resource: [pattern] }];
          const denied: PolicyStatement[] = [
            { effect: 'allow', action: ['iam:*'], resource: ['*'] },
            { effect: 'deny', action: [action], resource: [pattern] },
          ];
          for (const statements of [allowOnly, denied]) {
            const { selected, allowed } = compare(statements, 'iam:ListUsers', kind);
            expect({ pattern, action, kind, selected }).toEqual({ pattern, action, kind, selected: allowed });
          }
        }
      }
    }
  });

  it('agrees with no statements (nothing) and selects some names at all for typical policies', () => {
    fill(NAMES);
    expect(compare([], 'iam:ListUsers', 'user').selected).toEqual([]);
    const typical: PolicyStatement[] = [
      { effect: 'allow', action: ['iam:ListUsers'], resource: ['iam:user:team-*'] },
      { effect: 'deny', action: ['iam:*'], resource: ['iam:user:team-b'] },
    ];
    const { selected, allowed } = compare(typical, 'iam:ListUsers', 'user');
    expect(selected).toEqual(allowed);
    expect(selected).toEqual(['team-', 'team-%x', 'team-a']);
  });

  it('agrees on generated names and policies (fast-check)', () => {
    const char = fc.constantFrom('a', 'b', '-', '%', '_', '\\', '*', ':', 'é', 'É', 'σ', 'Σ', 'ß', '日', '𠀀', 'A');
    const text = fc.array(char, { minLength: 1, maxLength: 6 }).map((chars) => chars.join(''));
    const name = text.map((value) => value.replace(/\*/g, 'x').toLowerCase());
    const pattern = fc.oneof(
      text.map((value) => `iam:user:${value}`),
      text.map((value) => `iam:*:${value}`),
      text.map((value) => `iam:${value}`),
      fc.constantFrom(...PATTERNS),
    );
    const statement = fc.record({
      effect: fc.constantFrom('allow' as const, 'deny' as const),
      action: fc.array(fc.constantFrom(...ACTIONS), { minLength: 1, maxLength: 2 }),
      resource: fc.array(pattern, { minLength: 1, maxLength: 3 }),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(name, { minLength: 1, maxLength: 20 }),
        fc.array(statement, { maxLength: 4 }),
        (names, statements) => {
          fill(names);
          const { selected, allowed } = compare(statements, 'iam:ListUsers', 'user');
          expect(selected).toEqual(allowed);
        },
      ),
      { numRuns: 500 },
    );
  });
});
