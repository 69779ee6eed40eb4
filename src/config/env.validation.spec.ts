import { ConfigurationError, validateEnvironment } from './env.validation.js';

describe('validateEnvironment', () => {
  it('fills in the defaults', () => {
    expect(validateEnvironment({})).toMatchObject({
      PORT: 3000,
      IAM_SESSION_TTL_MINUTES: 1440,
      IAM_SESSION_COOKIE_SECURE: true,
      BODY_LIMIT: '100kb',
      LOG_LEVEL: 'info',
    });
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
