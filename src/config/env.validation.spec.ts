import { ConfigurationError, validateEnvironment } from './env.validation.js';

describe('validateEnvironment', () => {
  it('fills in the defaults', () => {
    expect(validateEnvironment({})).toMatchObject({
      PORT: 3000,
      IAM_SESSION_TTL_MINUTES: 1440,
      IAM_SESSION_IDLE_MINUTES: 60,
      IAM_SESSION_COOKIE_SECURE: true,
      BODY_LIMIT: '100kb',
      LOG_LEVEL: 'info',
    });
  });

  it('reads the audit trail’s retention (1 to 36500 days, default 365) and log switch (default off)', () => {
    expect(validateEnvironment({})).toMatchObject({ IAM_AUDIT_RETENTION_DAYS: 365, IAM_AUDIT_LOG: false });
    expect(validateEnvironment({ IAM_AUDIT_RETENTION_DAYS: '90', IAM_AUDIT_LOG: 'true' })).toMatchObject({
      IAM_AUDIT_RETENTION_DAYS: 90,
      IAM_AUDIT_LOG: true,
    });
    for (const bad of ['0', '36501', '1.5', 'forever']) {
      expect(() => validateEnvironment({ IAM_AUDIT_RETENTION_DAYS: bad })).toThrow(/IAM_AUDIT_RETENTION_DAYS/);
    }
    expect(() => validateEnvironment({ IAM_AUDIT_LOG: 'maybe' })).toThrow(/IAM_AUDIT_LOG/);
  });

  it('reads the sign-in and single sign-on settings, OIDC all or nothing, its secret never repeated', () => {
    expect(validateEnvironment({})).toMatchObject({
      IAM_PASSWORD_LOGIN: 'all',
      IAM_SSO_GROUP_SYNC: true,
      IAM_SSO_LINK_EXISTING_USERS: false,
      IAM_SCIM_LENIENT: true,
      IAM_OIDC_SCOPES: 'openid profile email',
      IAM_OIDC_GROUPS_CLAIM: 'groups',
    });
    expect(() => validateEnvironment({ IAM_PASSWORD_LOGIN: 'none' })).toThrow(/IAM_PASSWORD_LOGIN/);
    const oidc = {
      IAM_OIDC_ISSUER: 'https://idp.example.com',
      IAM_OIDC_CLIENT_ID: 'iam',
      IAM_OIDC_REDIRECT_URI: 'https://iam.example.com/api/v1/login/oidc/callback',
    };
    expect(validateEnvironment(oidc)).toMatchObject(oidc);
    expect(() => validateEnvironment({ ...oidc, IAM_OIDC_CLIENT_ID: '' })).toThrow(/IAM_OIDC_CLIENT_ID: is required/);
    expect(() => validateEnvironment({ IAM_OIDC_CLIENT_SECRET: 'sekrit-value' })).toThrow(/IAM_OIDC_CLIENT_SECRET/);
    expect(() => validateEnvironment({ ...oidc, IAM_OIDC_ISSUER: 'http://idp.example.com' })).toThrow(
      /IAM_OIDC_ISSUER: must be an https URL/,
    );
    expect(validateEnvironment({ ...oidc, IAM_OIDC_ISSUER: 'http://127.0.0.1:9000' }).IAM_OIDC_ISSUER).toBe(
      'http://127.0.0.1:9000',
    );
    expect(() => validateEnvironment({ IAM_OIDC_CLIENT_SECRET: 'sekrit-value' })).not.toThrow(/sekrit-value/);
    expect(() => validateEnvironment({ IAM_SSO_REDIRECT_ORIGINS: 'javascript:alert(1)' })).toThrow(
      /IAM_SSO_REDIRECT_ORIGINS/,
    );
  });

  it('converts numbers and booleans, and treats empty values as unset', () => {
    const env = validateEnvironment({ PORT: '8080', IAM_SESSION_COOKIE_SECURE: 'false', IAM_BOOTSTRAP_TOKEN: '' });
    expect(env).toMatchObject({ PORT: 8080, IAM_SESSION_COOKIE_SECURE: false });
    expect(env.IAM_BOOTSTRAP_TOKEN).toBeUndefined();
  });

  it('names every bad variable in one error', () => {
    const attempt = () =>
      validateEnvironment({
        PORT: 'abc',
        DATABASE_URL: 'mysql://x',
        IAM_BOOTSTRAP_TOKEN: 'short',
        IAM_SESSION_COOKIE_SECURE: 'maybe',
        IAM_SA_TOKEN_MAX_TTL_DAYS: '0',
        IAM_SESSION_IDLE_MINUTES: '0',
      });
    expect(attempt).toThrow(ConfigurationError);
    try {
      attempt();
    } catch (error) {
      const message = (error as Error).message;
      for (const name of [
        'PORT',
        'DATABASE_URL',
        'IAM_BOOTSTRAP_TOKEN',
        'IAM_SESSION_COOKIE_SECURE',
        'IAM_SA_TOKEN_MAX_TTL_DAYS',
        'IAM_SESSION_IDLE_MINUTES',
      ]) {
        expect(message).toContain(`- ${name}:`);
      }
    }
  });

  it('accepts SQLite and PostgreSQL URLs', () => {
    expect(validateEnvironment({ DATABASE_URL: 'sqlite:/var/lib/iam.sqlite' }).DATABASE_URL).toBe(
      'sqlite:/var/lib/iam.sqlite',
    );
    expect(validateEnvironment({ DATABASE_URL: 'postgresql://u:p@db:5432/iam' }).DATABASE_URL).toBe(
      'postgresql://u:p@db:5432/iam',
    );
  });

  it('refuses TRUST_PROXY=true, saying why', () => {
    for (const value of ['true', 'TRUE', ' true ']) {
      expect(() => validateEnvironment({ TRUST_PROXY: value })).toThrow(ConfigurationError);
      expect(() => validateEnvironment({ TRUST_PROXY: value })).toThrow(/TRUST_PROXY.*X-Forwarded-For/s);
    }
  });

  it('takes TRUST_PROXY as a hop count or proxy addresses/subnets only', () => {
    for (const value of [
      '1',
      '2',
      '10.0.0.1',
      '10.0.0.0/8, 192.168.0.0/16',
      'loopback',
      'uniquelocal, fd00::/8',
      '::1',
    ]) {
      expect(validateEnvironment({ TRUST_PROXY: value }).TRUST_PROXY).toBe(value);
    }
    for (const value of ['false', 'yes', '10.0.0.300', '10.0.0.0/33', 'fd00::/129', 'proxy.example', '1,', '-1']) {
      expect(() => validateEnvironment({ TRUST_PROXY: value })).toThrow(/TRUST_PROXY/);
    }
  });

  it('defaults the lockout, the failure limit and argon2 at least as strong as the library', () => {
    expect(validateEnvironment({})).toMatchObject({
      IAM_LOCKOUT_THRESHOLD: 10,
      IAM_LOCKOUT_MINUTES: 15,
      IAM_AUTH_FAILURE_LIMIT: 20,
      IAM_PASSWORD_HASH_MEMORY_KIB: 65536,
      IAM_PASSWORD_HASH_TIME_COST: 3,
      IAM_PASSWORD_HASH_PARALLELISM: 4,
    });
  });

  it("refuses argon2 settings below OWASP's minimum, except with NODE_ENV=test", () => {
    for (const [memory, passes] of [
      ['19456', '2'],
      ['47104', '1'],
      ['12288', '3'],
      ['7168', '5'],
    ]) {
      const env = { IAM_PASSWORD_HASH_MEMORY_KIB: memory, IAM_PASSWORD_HASH_TIME_COST: passes };
      expect(validateEnvironment({ ...env, IAM_PASSWORD_HASH_PARALLELISM: '1' })).toMatchObject({
        IAM_PASSWORD_HASH_MEMORY_KIB: Number(memory),
        IAM_PASSWORD_HASH_TIME_COST: Number(passes),
      });
    }
    const cheap = {
      IAM_PASSWORD_HASH_MEMORY_KIB: '1024',
      IAM_PASSWORD_HASH_TIME_COST: '1',
      IAM_PASSWORD_HASH_PARALLELISM: '1',
    };
    expect(() => validateEnvironment(cheap)).toThrow(/IAM_PASSWORD_HASH_MEMORY_KIB/);
    expect(() => validateEnvironment({ ...cheap, NODE_ENV: 'production' })).toThrow(ConfigurationError);
    expect(() =>
      validateEnvironment({ IAM_PASSWORD_HASH_MEMORY_KIB: '19456', IAM_PASSWORD_HASH_TIME_COST: '1' }),
    ).toThrow(ConfigurationError);
    expect(validateEnvironment({ ...cheap, NODE_ENV: 'test' }).IAM_PASSWORD_HASH_MEMORY_KIB).toBe(1024);
    // argon2's own floor: 8 KiB per lane.
    expect(() =>
      validateEnvironment({
        ...cheap,
        NODE_ENV: 'test',
        IAM_PASSWORD_HASH_MEMORY_KIB: '16',
        IAM_PASSWORD_HASH_PARALLELISM: '4',
      }),
    ).toThrow(/8 KiB per lane/);
  });

  it('takes REDIS_URL as a redis:// or rediss:// URL, and never repeats a secret-bearing value', () => {
    expect(validateEnvironment({ REDIS_URL: 'redis://127.0.0.1:6379' })).toMatchObject({
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_KEY_PREFIX: 'iam:',
    });
    const attempt = () =>
      validateEnvironment({
        REDIS_URL: 'http://user:s3cret-redis@cache:6379',
        DATABASE_URL: 'mysql://user:s3cret-db@db/iam',
        IAM_BOOTSTRAP_TOKEN: 's3cret-short',
      });
    expect(attempt).toThrow(/REDIS_URL/);
    expect(attempt).not.toThrow(/s3cret/);
  });

  it('bounds the database timeouts, start-up retries and shutdown deadline', () => {
    expect(validateEnvironment({})).toMatchObject({
      DATABASE_CONNECT_TIMEOUT_MS: 5000,
      DATABASE_STATEMENT_TIMEOUT_MS: 5000,
      DATABASE_BUSY_TIMEOUT_MS: 5000,
      DATABASE_STARTUP_ATTEMPTS: 10,
      DATABASE_STARTUP_RETRY_MS: 3000,
      SHUTDOWN_TIMEOUT_SECONDS: 10,
    });
    expect(validateEnvironment({ DATABASE_STATEMENT_TIMEOUT_MS: '250', SHUTDOWN_TIMEOUT_SECONDS: '0' })).toMatchObject({
      DATABASE_STATEMENT_TIMEOUT_MS: 250,
      SHUTDOWN_TIMEOUT_SECONDS: 0,
    });
    for (const [name, value] of [
      ['DATABASE_CONNECT_TIMEOUT_MS', '0'],
      ['DATABASE_STATEMENT_TIMEOUT_MS', '5s'],
      ['DATABASE_STARTUP_ATTEMPTS', '0'],
      ['SHUTDOWN_TIMEOUT_SECONDS', '-1'],
    ]) {
      expect(() => validateEnvironment({ [name]: value })).toThrow(ConfigurationError);
    }
  });
});
