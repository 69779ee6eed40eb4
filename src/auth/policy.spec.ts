import {
  CompiledPolicy,
  actionMatches,
  canonicalAction,
  decide,
  isValidResourcePattern,
  wildcardMatches,
} from './policy.js';

describe('wildcardMatches', () => {
  it.each([
    ['*', 'iam:user:alice', true],
    ['iam:user:*', 'iam:user:alice', true],
    ['iam:user:*', 'iam:user:', true],
    ['iam:user:*', 'iam:group:ops', false],
    ['iam:user:ops-*', 'iam:user:ops-bob', true],
    ['iam:user:ops-*', 'iam:user:dev-bob', false],
    ['iam:*:ops', 'iam:group:ops', true],
    ['iam:user:*@doe.net', 'iam:user:mary.jane@doe.net', true],
    ['iam:user:a*b*c', 'iam:user:axxbyyc', true],
    ['iam:user:a*b*c', 'iam:user:axxbyy', false],
    ['iam:user:alice', 'iam:user:ALICE', true],
    ['iam:user:root-*', 'iam:user:ROOT-admin', true],
    ['iam:user:alice', 'iam:user:alice2', false],
  ])('%s against %s is %s', (pattern, value, expected) => {
    expect(wildcardMatches(pattern, value)).toBe(expected);
  });

  it('stays fast on pathological patterns', () => {
    const start = Date.now();
    expect(wildcardMatches('*a*a*a*a*a*a*a*a*b', 'a'.repeat(5000))).toBe(false);
    expect(Date.now() - start).toBeLessThan(1000);
  });
});

describe('actionMatches', () => {
  it.each([
    ['*', 'iam:DeleteUser', true],
    ['iam:*', 'iam:DeleteUser', true],
    ['iam:DeleteUser', 'iam:DeleteUser', true],
    ['iam:deleteuser', 'iam:DeleteUser', true],
    ['iam:DeleteUser', 'iam:DeleteGroup', false],
    ['iam:Delete*', 'iam:DeleteUser', false],
  ])('%s against %s is %s', (pattern, action, expected) => {
    expect(actionMatches(pattern, action)).toBe(expected);
  });
});

describe('decide', () => {
  const allowUsers = { effect: 'allow' as const, action: ['iam:*'], resource: ['iam:user:*'] };
  const denyRoot = { effect: 'deny' as const, action: ['*'], resource: ['iam:user:root-*'] };

  it('denies when nothing matches', () => {
    expect(decide([], 'iam:GetUser', 'iam:user:alice')).toBe('deny');
    expect(decide([allowUsers], 'iam:GetGroup', 'iam:group:ops')).toBe('deny');
  });

  it('allows on a matching allow', () => {
    expect(decide([allowUsers], 'iam:DeleteUser', 'iam:user:alice')).toBe('allow');
  });

  it('lets a deny beat a broader allow, in any order', () => {
    expect(decide([allowUsers, denyRoot], 'iam:DeleteUser', 'iam:user:root-1')).toBe('deny');
    expect(decide([denyRoot, allowUsers], 'iam:DeleteUser', 'iam:user:root-1')).toBe('deny');
    expect(decide([denyRoot, allowUsers], 'iam:DeleteUser', 'iam:user:bob')).toBe('allow');
  });
});

describe('canonicalAction', () => {
  it('knows the catalogue, service wildcards and *', () => {
    expect(canonicalAction('iam:deleteuser')).toBe('iam:DeleteUser');
    expect(canonicalAction('iam:*')).toBe('iam:*');
    expect(canonicalAction('IAM:*')).toBe('iam:*');
    expect(canonicalAction('*')).toBe('*');
  });

  it.each(['iam:Nope', 'kafka:*', 'iam', 'iam:DeleteUser:x', '', 'iam:'])('rejects %p', (action) => {
    expect(canonicalAction(action)).toBeNull();
  });
});

describe('isValidResourcePattern', () => {
  it.each(['*', 'iam:*', 'iam:user:*', 'iam:user:ops-*', 'iam:*:ops', 'iam:service-account:ci', 'iam:role:x'])(
    'accepts %s',
    (resource) => {
      expect(isValidResourcePattern(resource)).toBe(true);
    },
  );

  it.each(['', 'user:*', 'iam:user', 'iam:widget:*', 'iam:user:has space', 'arn:aws:s3:::x'])(
    'rejects %p',
    (resource) => {
      expect(isValidResourcePattern(resource)).toBe(false);
    },
  );
});

describe('CompiledPolicy', () => {
  it('decides a long policy as decide() does, again and again, past what it remembers', () => {
    const statements = [
      ...Array.from({ length: 99 }, (_, i) => ({
        effect: 'allow' as const,
        action: ['iam:GetGroup'],
        resource: [`iam:group:g${i}`],
      })),
      { effect: 'allow' as const, action: ['iam:GetUser'], resource: ['iam:user:team-*'] },
      { effect: 'deny' as const, action: ['*'], resource: ['iam:user:team-root'] },
    ];
    const policy = new CompiledPolicy(statements);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 200; i++) {
        for (const resource of [`iam:user:team-${i}`, `iam:user:other-${i}`, 'iam:user:TEAM-ROOT', `iam:group:g${i}`]) {
          for (const action of ['iam:GetUser', 'iam:GetGroup']) {
            expect(policy.decide(action, resource)).toBe(decide(statements, action, resource));
          }
        }
      }
    }
    expect(policy.decide('iam:GetUser', 'iam:user:team-7')).toBe('allow');
    expect(policy.decide('iam:GetUser', 'iam:user:Team-Root')).toBe('deny');
  });
});
