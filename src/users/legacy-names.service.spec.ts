import { legacyReason, visibleName } from './legacy-names.service.js';

describe('legacyReason', () => {
  it.each([
    ['user', 'alice'],
    ['user', 'jos\u00e9'],
    ['user', 'mary.jane@doe.net'],
    ['group', 'platform-admins'],
    ['role', 'user-managers'],
    ['service_account', 'ci-deployer'],
  ] as const)('has nothing against the %s name %s', (kind, name) => {
    expect(legacyReason(kind, name)).toBeNull();
  });

  it.each([
    ['user', '\u0430lice'],
    ['user', 'rooty\u034f'],
    ['user', 'a:b'],
    ['user', 'jose\u0301'],
    ['user', '\uff41\uff4c\uff49\uff43\uff45'],
    ['user', 'smile\u{1f600}'],
    ['group', 'Team:A'],
    ['role', 'r\u00f4le'],
    ['service_account', 'a:b'],
  ] as const)('finds the %s name %s refused today', (kind, name) => {
    expect(legacyReason(kind, name)).toEqual(expect.any(String));
  });
});

describe('visibleName', () => {
  it('writes every character outside printable ASCII as an escape', () => {
    expect(visibleName('\u0430lice')).toBe('\\u0430lice');
    expect(visibleName('rooty\u034f')).toBe('rooty\\u034F');
    expect(visibleName('a b')).toBe('a\\u0020b');
    expect(visibleName('x\u{1f600}')).toBe('x\\u{1F600}');
    expect(visibleName('mary.jane@doe.net')).toBe('mary.jane@doe.net');
  });
});
