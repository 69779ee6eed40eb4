import {
  generateServiceAccountToken,
  isWellFormedServiceAccountToken,
  SERVICE_ACCOUNT_TOKEN_PATTERN,
} from './service-account-token.js';

describe('service-account tokens', () => {
  it('have the documented shape and a valid checksum', () => {
    const token = generateServiceAccountToken();
    expect(token).toMatch(/^iamsa_[0-9A-Za-z]{46}$/);
    expect(SERVICE_ACCOUNT_TOKEN_PATTERN.test(`leaked: ${token} in a log`)).toBe(true);
    expect(isWellFormedServiceAccountToken(token)).toBe(true);
  });

  it('are different every time', () => {
    const tokens = new Set(Array.from({ length: 1000 }, generateServiceAccountToken));
    expect(tokens.size).toBe(1000);
  });

  it('reject a one-character typo by checksum', () => {
    const token = generateServiceAccountToken();
    for (const position of [6, 20, 45, token.length - 1]) {
      const c = token[position];
      const typo = token.slice(0, position) + (c === 'a' ? 'b' : 'a') + token.slice(position + 1);
      expect(isWellFormedServiceAccountToken(typo)).toBe(false);
    }
  });

  it('reject other shapes', () => {
    const token = generateServiceAccountToken();
    expect(isWellFormedServiceAccountToken(token.slice(0, -1))).toBe(false);
    expect(isWellFormedServiceAccountToken(`${token}x`)).toBe(false);
    expect(isWellFormedServiceAccountToken(token.replace('iamsa_', 'iamsb_'))).toBe(false);
  });

  it('use every base62 character with no visible bias', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 2000; i++) {
      for (const c of generateServiceAccountToken().slice(6, 46)) {
        counts.set(c, (counts.get(c) ?? 0) + 1);
      }
    }
    expect(counts.size).toBe(62);
    const expected = (2000 * 40) / 62;
    for (const count of counts.values()) {
      expect(Math.abs(count - expected) / expected).toBeLessThan(0.15);
    }
  });
});
