import { IamOptionsError, resolveIamOptions } from './iam.options.js';

describe('resolveIamOptions', () => {
  const database = { url: 'sqlite:data/iam.sqlite' };

  it('applies the defaults of the environment variables', () => {
    const resolved = resolveIamOptions({ database });
    expect(resolved.auth.passwordHash).toEqual({ memoryKib: 65536, timeCost: 3, parallelism: 4 });
    expect(resolved.http.bodyLimit).toBe('100kb');
    expect(resolved.swagger).toBe(false);
    expect(resolved.auth).toMatchObject({ sessionTtlMinutes: 1440, sessionIdleMinutes: 60 });
    expect(resolveIamOptions({ database, session: { idleMinutes: 15 } }).auth.sessionIdleMinutes).toBe(15);
  });

  it('takes single sign-on settings with the environment’s defaults; OIDC all or nothing', () => {
    expect(resolveIamOptions({ database }).sso).toEqual({
      passwordLogin: 'all',
      groupSync: true,
      linkExistingUsers: false,
      redirectOrigins: [],
      oidc: undefined,
      scimLenient: true,
    });
    expect(resolveIamOptions({ database, sso: { scimLenient: false } }).sso.scimLenient).toBe(false);
    expect(() => resolveIamOptions({ database, sso: { scimLenient: 'no' as unknown as boolean } })).toThrow(
      /sso\.scimLenient/,
    );
    const oidc = { issuer: 'https://idp.example.com', clientId: 'iam', redirectUri: 'https://iam.example.com/cb' };
    expect(resolveIamOptions({ database, sso: { oidc } }).sso.oidc).toEqual({
      ...oidc,
      clientSecret: undefined,
      scopes: 'openid profile email',
      usernameClaim: undefined,
      groupsClaim: 'groups',
    });
    expect(() => resolveIamOptions({ database, sso: { oidc: { ...oidc, issuer: 'ftp://x' } } })).toThrow(
      /sso\.oidc\.issuer/,
    );
    expect(() => resolveIamOptions({ database, sso: { redirectOrigins: ['//evil.com'] } })).toThrow(
      /sso\.redirectOrigins/,
    );
    expect(() => resolveIamOptions({ database, sso: { passwordLogin: 'nobody' as 'all' } })).toThrow(
      /sso\.passwordLogin/,
    );
  });

  it('refuses an idle timeout that is not a whole number of minutes from 1 to a year', () => {
    for (const idleMinutes of [0, 1.5, -1, 60 * 24 * 365 + 1]) {
      expect(() => resolveIamOptions({ database, session: { idleMinutes } })).toThrow(/session\.idleMinutes/);
    }
  });

  it('takes the audit trail’s retention and log line, with the environment’s defaults', () => {
    expect(resolveIamOptions({ database }).audit).toEqual({ retentionDays: 365, log: false });
    expect(resolveIamOptions({ database, audit: { retentionDays: 30, log: true } }).audit).toEqual({
      retentionDays: 30,
      log: true,
    });
    expect(() => resolveIamOptions({ database, audit: { retentionDays: 0 } })).toThrow(/audit\.retentionDays/);
    expect(() => resolveIamOptions({ database, audit: { log: 'yes' as unknown as boolean } })).toThrow(/audit\.log/);
  });

  it("refuses password-hash settings below OWASP's minimum unless weak ones are allowed", () => {
    const passwordHash = { memoryKib: 1024, timeCost: 1, parallelism: 1 };
    expect(() => resolveIamOptions({ database, passwordHash })).toThrow(/passwordHash: 1024 KiB × 1 passes is below/);
    expect(resolveIamOptions({ database, passwordHash, allowWeakPasswordHash: true }).auth.passwordHash).toEqual(
      passwordHash,
    );
  });

  it('refuses fewer than 8 KiB per lane, even when weak settings are allowed', () => {
    expect(() =>
      resolveIamOptions({
        database,
        passwordHash: { memoryKib: 16, timeCost: 1, parallelism: 4 },
        allowWeakPasswordHash: true,
      }),
    ).toThrow(IamOptionsError);
  });

  it('checks the shared value shapes: database URL, Redis URL and key prefix, body limit', () => {
    const error = (() => {
      try {
        resolveIamOptions({
          database: { url: 'mysql://x' },
          redis: { url: 'http://x', keyPrefix: 'with space' },
          bodyLimit: '1gb',
        });
      } catch (thrown) {
        return thrown as Error;
      }
      return null;
    })();
    for (const named of ['database.url', 'redis.url', 'redis.keyPrefix', 'bodyLimit']) {
      expect(error?.message).toContain(named);
    }
  });
});
