import { ConfigurationError, validateEnvironment } from '../config/env.validation.js';
import { crossOriginRefusal, isSerialisedOrigin, parseOriginList } from './cross-origin.js';

describe('isSerialisedOrigin', () => {
  it('accepts origins exactly as browsers send them', () => {
    for (const origin of [
      'https://app.example.com',
      'http://localhost:5173',
      'https://a.example:8443',
      'http://[::1]:3000',
    ]) {
      expect(isSerialisedOrigin(origin)).toBe(true);
    }
  });

  it('refuses anything an Origin header never equals', () => {
    for (const value of [
      '*',
      'null',
      'app.example.com',
      'https://app.example.com/',
      'https://app.example.com/path',
      'https://app.example.com?x=1',
      'https://app.example.com#x',
      'https://user:pw@app.example.com',
      'https://App.Example.com',
      'https://app.example.com:443',
      'ftp://app.example.com',
      'https://*.example.com',
    ]) {
      expect(isSerialisedOrigin(value)).toBe(false);
    }
  });
});

describe('IAM_ALLOWED_ORIGINS', () => {
  it('is validated at boot and split on commas', () => {
    const env = validateEnvironment({ IAM_ALLOWED_ORIGINS: 'https://app.example.com, http://localhost:5173' });
    expect(parseOriginList(env.IAM_ALLOWED_ORIGINS)).toEqual(['https://app.example.com', 'http://localhost:5173']);
    expect(validateEnvironment({}).IAM_ALLOWED_ORIGINS).toBeUndefined();
    for (const bad of ['*', 'https://app.example.com/', 'https://ok.example,https://bad.example/x', ',']) {
      expect(() => validateEnvironment({ IAM_ALLOWED_ORIGINS: bad })).toThrow(ConfigurationError);
      expect(() => validateEnvironment({ IAM_ALLOWED_ORIGINS: bad })).toThrow(/- IAM_ALLOWED_ORIGINS:/);
    }
  });
});

describe('crossOriginRefusal', () => {
  const allowed = new Set(['https://app.example.com']);
  const check = (method: string, headers: Record<string, string>) =>
    crossOriginRefusal({ method, headers: { host: 'iam.example.com', ...headers } }, allowed);

  it('lets safe methods through whatever the headers', () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS']) {
      expect(check(method, { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' })).toBeNull();
    }
  });

  it('follows Sec-Fetch-Site when present', () => {
    expect(check('POST', { 'sec-fetch-site': 'same-origin' })).toBeNull();
    expect(check('POST', { 'sec-fetch-site': 'none' })).toBeNull();
    expect(check('POST', { 'sec-fetch-site': 'cross-site' })).toEqual(expect.any(String));
    expect(check('DELETE', { 'sec-fetch-site': 'same-site' })).toEqual(expect.any(String));
    expect(check('PUT', { 'sec-fetch-site': 'something-new' })).toEqual(expect.any(String));
    // Its Origin cannot overrule it, unless that origin is allowed.
    expect(check('POST', { 'sec-fetch-site': 'cross-site', origin: 'https://iam.example.com' })).toEqual(
      expect.any(String),
    );
    expect(check('POST', { 'sec-fetch-site': 'cross-site', origin: 'https://app.example.com' })).toBeNull();
  });

  it('compares Origin with Host without Sec-Fetch-Site', () => {
    expect(check('POST', {})).toBeNull();
    expect(check('POST', { origin: '' })).toBeNull();
    expect(check('POST', { origin: 'https://iam.example.com' })).toBeNull();
    expect(check('POST', { origin: 'http://IAM.example.com' })).toBeNull();
    expect(check('PATCH', { origin: 'https://app.example.com' })).toBeNull();
    for (const origin of [
      'https://evil.example',
      'https://iam.example.com:8443',
      'https://sub.iam.example.com',
      'null',
      'https://app.example.com/',
    ]) {
      expect(check('POST', { origin })).toEqual(expect.any(String));
    }
    expect(crossOriginRefusal({ method: 'POST', headers: { origin: 'https://iam.example.com' } }, allowed)).toEqual(
      expect.any(String),
    );
  });
});
