import { safeRedirectTarget } from './redirect-target.js';

describe('safeRedirectTarget', () => {
  const origins = ['https://app.example.com'];

  it('accepts paths of this site and URLs of the allowed origins', () => {
    expect(safeRedirectTarget('/', origins)).toBe('/');
    expect(safeRedirectTarget('/app/users?tab=groups#top', origins)).toBe('/app/users?tab=groups#top');
    expect(safeRedirectTarget('https://app.example.com/home', origins)).toBe('https://app.example.com/home');
    expect(safeRedirectTarget('https://APP.example.com', origins)).toBe('https://app.example.com/');
  });

  it('refuses other hosts however they are spelt, schemes, credentials and control characters', () => {
    for (const target of [
      '//evil.com',
      '//evil.com/path',
      '/\\evil.com',
      '\\\\evil.com',
      '/\\/evil.com',
      '/\t/evil.com',
      '/\n/evil.com',
      'https://evil.com',
      'https://app.example.com.evil.com/',
      'https://app.example.com@evil.com/',
      'https://user:pw@app.example.com/',
      'http://app.example.com/',
      'javascript:alert(1)',
      'data:text/html,hi',
      'evil.com',
      '',
      `/${'a'.repeat(2000)}`,
    ]) {
      expect({ target, safe: safeRedirectTarget(target, origins) }).toEqual({ target, safe: null });
    }
  });
});
