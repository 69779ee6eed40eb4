import { firstUncovered, patternIncludes, patternsIntersect } from './containment.js';
import { type PolicyStatement, wildcardMatches } from './policy.js';

const allow = (action: string | string[], resource: string | string[]): PolicyStatement => ({
  effect: 'allow',
  action: ([] as string[]).concat(action),
  resource: ([] as string[]).concat(resource),
});
const deny = (action: string | string[], resource: string | string[]): PolicyStatement => ({
  ...allow(action, resource),
  effect: 'deny',
});

describe('patternIncludes', () => {
  it.each([
    ['iam:user:alice', 'iam:user:*', true],
    ['iam:user:alice', 'iam:user:ALICE', true],
    ['iam:user:*', 'iam:user:*', true],
    ['iam:user:*', '*', true],
    ['*', 'iam:user:*', false],
    ['iam:user:ops-*', 'iam:user:*', true],
    ['iam:user:*', 'iam:user:ops-*', false],
    ['iam:*:ops', 'iam:*', true],
    ['iam:*:ops', 'iam:user:*', false],
    ['iam:*', 'iam:user:*', false],
    ['iam:user:a*b', 'iam:user:a*', true],
    ['iam:user:a*b', 'iam:user:*b', true],
    ['iam:user:*b', 'iam:user:a*b', false],
    ['iam:user:x*y*z', 'iam:user:x*z', true],
    ['iam:user:x*z', 'iam:user:x*y*z', false],
    ['iam:user:**', 'iam:user:*', true],
    ['iam:user:', 'iam:user:*', true],
    ['iam:user:alice', 'iam:user:alice2', false],
    ['iam:user:alice2', 'iam:user:alice', false],
  ])('%s ⊆ %s is %s', (p, q, expected) => {
    expect(patternIncludes(p, q)).toBe(expected);
  });
});

describe('patternsIntersect', () => {
  it.each([
    ['iam:user:*', 'iam:user:root-*', true],
    ['iam:user:*', 'iam:group:*', false],
    ['iam:*:ops', 'iam:user:*', true],
    ['iam:user:a*', 'iam:user:*b', true],
    ['iam:user:a*', 'iam:user:b*', false],
    ['iam:user:alice', 'iam:user:ALICE', true],
    ['*', 'iam:role:x', true],
  ])('%s ∩ %s ≠ ∅ is %s', (p, q, expected) => {
    expect(patternsIntersect(p, q)).toBe(expected);
  });
});

/** Every string over {a, b} up to `max` characters. */
function strings(max: number): string[] {
  const out = [''];
  for (let length = 1; length <= max; length++) {
    for (let n = 0; n < 2 ** length; n++) {
      out.push([...n.toString(2).padStart(length, '0')].map((bit) => (bit === '0' ? 'a' : 'b')).join(''));
    }
  }
  return out;
}

/** Deterministic patterns over {a, b, *}, up to four symbols: all of them. */
function patterns(): string[] {
  const out = [''];
  let frontier = [''];
  for (let length = 1; length <= 4; length++) {
    frontier = frontier.flatMap((prefix) => ['a', 'b', '*'].map((symbol) => prefix + symbol));
    out.push(...frontier);
  }
  return out;
}

describe('pattern algebra against brute force', () => {
  // A shortest common value of two patterns is no longer than their literals together (≤ 8 here).
  const words = strings(8);
  const matches = new Map(patterns().map((p) => [p, words.map((w) => wildcardMatches(p, w))]));

  it('never says "includes" where some value matches p and not q (sound)', () => {
    const unsound: string[] = [];
    for (const [p, inP] of matches) {
      for (const [q, inQ] of matches) {
        if (patternIncludes(p, q) && inP.some((hit, i) => hit && !inQ[i])) {
          unsound.push(`${p} ⊆ ${q}`);
        }
      }
    }
    expect(unsound).toEqual([]);
  });

  it('says "includes" at least whenever q is p with letters replaced by stars or stars added (useful)', () => {
    expect(patternIncludes('ab', 'a*')).toBe(true);
    expect(patternIncludes('a*b', '*')).toBe(true);
    expect(patternIncludes('a*b*a', 'a*a')).toBe(true);
  });

  it('says "intersects" exactly when some value matches both', () => {
    const wrong: string[] = [];
    for (const [p, inP] of matches) {
      for (const [q, inQ] of matches) {
        if (patternsIntersect(p, q) !== inP.some((hit, i) => hit && inQ[i])) {
          wrong.push(`${p} ∩ ${q}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });
});

describe('firstUncovered', () => {
  const everything = [allow('*', '*')];

  it('covers anything for a holder of * on *, and nothing for a holder of nothing', () => {
    expect(firstUncovered(everything, [allow('iam:DeleteUser', 'iam:user:bob')])).toBeNull();
    expect(firstUncovered(everything, everything)).toBeNull();
    expect(firstUncovered([], [allow('iam:GetUser', 'iam:user:bob')])).toEqual({
      action: 'iam:GetUser',
      resource: 'iam:user:bob',
    });
  });

  it('covers an empty policy, and a policy of denies only, with nothing held', () => {
    expect(firstUncovered([], [])).toBeNull();
    expect(firstUncovered([], [deny('*', '*')])).toBeNull();
  });

  it('issue case: iam:* on team groups does not cover * on * (the superrole)', () => {
    expect(firstUncovered([allow('iam:*', 'iam:group:team-*')], everything)).toEqual({
      action: 'iam:ListUsers',
      resource: '*',
    });
  });

  it('issue case: the user-managers role does not cover a principal holding * on *', () => {
    const userManagers = [allow('iam:*', 'iam:user:*'), deny('iam:DeleteUser', 'iam:user:root-*')];
    expect(firstUncovered(userManagers, everything)).not.toBeNull();
    // …but covers itself, its own deny included.
    expect(firstUncovered(userManagers, userManagers)).toBeNull();
  });

  describe('wildcard actions', () => {
    it('iam:* is covered by iam:* or *, not by listing every action of today', () => {
      expect(firstUncovered([allow('iam:*', '*')], [allow('iam:*', 'iam:user:*')])).toBeNull();
      expect(firstUncovered(everything, [allow('iam:*', 'iam:user:*')])).toBeNull();
      const everyActionByName = [allow(['iam:GetUser', 'iam:ListUsers', 'iam:DeleteUser'], '*')];
      expect(firstUncovered(everyActionByName, [allow('iam:*', 'iam:user:x')])).not.toBeNull();
    });

    it("* is not covered by iam:* (another service's actions)", () => {
      expect(firstUncovered([allow('iam:*', '*')], everything)).toEqual({ action: '*', resource: '*' });
    });

    it('one action is covered by a wildcard that includes it', () => {
      expect(firstUncovered([allow('iam:*', 'iam:user:*')], [allow('iam:SetUserPassword', 'iam:user:a')])).toBeNull();
    });

    it('a deny of iam:* cuts an allow of *', () => {
      expect(firstUncovered([allow('*', '*'), deny('iam:*', 'iam:role:*')], everything)).not.toBeNull();
    });
  });

  describe('resource patterns', () => {
    it('with * in the middle', () => {
      const held = [allow('iam:GetUser', 'iam:user:ops-*-eu')];
      expect(firstUncovered(held, [allow('iam:GetUser', 'iam:user:ops-db-eu')])).toBeNull();
      expect(firstUncovered(held, [allow('iam:GetUser', 'iam:user:ops-*-eu')])).toBeNull();
      expect(firstUncovered(held, [allow('iam:GetUser', 'iam:user:ops-*')])).toEqual({
        action: 'iam:GetUser',
        resource: 'iam:user:ops-*',
      });
      expect(firstUncovered([allow('iam:GetUser', 'iam:*:ops')], [allow('iam:GetUser', 'iam:group:ops')])).toBeNull();
      expect(firstUncovered([allow('iam:GetUser', 'iam:*:ops')], [allow('iam:GetUser', 'iam:*')])).not.toBeNull();
    });

    it('compared without regard to case', () => {
      expect(
        firstUncovered([allow('iam:GetUser', 'iam:user:OPS-*')], [allow('iam:getuser', 'iam:user:ops-1')]),
      ).toBeNull();
    });

    it('is not covered by a union of narrower patterns (refused when in doubt)', () => {
      const held = [allow('iam:GetUser', ['iam:user:a*', 'iam:user:*'])];
      expect(firstUncovered(held, [allow('iam:GetUser', 'iam:user:*')])).toBeNull();
      const split = [allow('iam:GetUser', ['iam:user:a*', 'iam:user:b*'])];
      expect(firstUncovered(split, [allow('iam:GetUser', 'iam:user:*')])).not.toBeNull();
    });
  });

  describe('denies', () => {
    const usersButRoot = [allow('iam:*', 'iam:user:*'), deny('iam:*', 'iam:user:root-*')];

    it('a deny of the holder that carves out part of an allow', () => {
      expect(firstUncovered(usersButRoot, [allow('iam:GetUser', 'iam:user:*')])).toEqual({
        action: 'iam:GetUser',
        resource: 'iam:user:*',
      });
      expect(firstUncovered(usersButRoot, [allow('iam:GetUser', 'iam:user:root-1')])).not.toBeNull();
      expect(firstUncovered(usersButRoot, [allow('iam:GetUser', 'iam:user:ops-*')])).toBeNull();
    });

    it('applies to the actions it names only', () => {
      const held = [allow('iam:*', 'iam:user:*'), deny('iam:DeleteUser', 'iam:user:root-*')];
      expect(firstUncovered(held, [allow('iam:GetUser', 'iam:user:*')])).toBeNull();
      expect(firstUncovered(held, [allow('iam:DeleteUser', 'iam:user:*')])).not.toBeNull();
    });

    it('is no obstacle when the granted policy denies the same part itself', () => {
      expect(
        firstUncovered(usersButRoot, [allow('iam:GetUser', 'iam:user:*'), deny('iam:*', 'iam:user:root-*')]),
      ).toBeNull();
      expect(firstUncovered(usersButRoot, [allow('iam:GetUser', 'iam:user:*'), deny('*', 'iam:user:r*')])).toBeNull();
      // A narrower own deny leaves part of the holder's deny uncovered.
      expect(
        firstUncovered(usersButRoot, [allow('iam:GetUser', 'iam:user:*'), deny('*', 'iam:user:root-1')]),
      ).not.toBeNull();
      // An own deny on another action does not help.
      expect(
        firstUncovered(usersButRoot, [allow('iam:GetUser', 'iam:user:*'), deny('iam:DeleteUser', 'iam:user:root-*')]),
      ).not.toBeNull();
    });

    it('a granted allow that its own denies take away entirely grants nothing', () => {
      expect(firstUncovered([], [allow('iam:DeleteUser', 'iam:user:x-*'), deny('*', 'iam:user:*')])).toBeNull();
    });
  });

  it('decides large policies (100 statements each side)', () => {
    const held = Array.from({ length: 100 }, (_, i) => allow('iam:*', `iam:user:team-${i}-*`));
    const granted = Array.from({ length: 100 }, (_, i) => allow('*', `iam:user:team-${i}-x*y*z`));
    expect(firstUncovered(held, granted)).toEqual({ action: '*', resource: 'iam:user:team-0-x*y*z' });
    expect(firstUncovered([...held, allow('*', 'iam:user:*')], granted)).toBeNull();
  });
});
