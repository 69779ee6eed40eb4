import type { IamModuleOptions } from '../iam.options.js';
import type { AppConfig } from './app.config.js';
import type { AuditConfig } from './audit.config.js';
import type { AuthConfig } from './auth.config.js';
import type { DatabaseConfig } from './database.config.js';
import { samlSettingsFromConfig } from './saml-settings.js';
import type { SsoConfig } from './sso.config.js';

/**
 * The standalone service's environment (validated by env.validation.ts, read into the config namespaces) as
 * IamModule options: the same variables, the same meaning as before the module existed.
 */
export function iamOptionsFromConfig(
  app: AppConfig,
  auth: AuthConfig,
  database: DatabaseConfig,
  audit: AuditConfig,
  sso: SsoConfig,
): IamModuleOptions {
  return {
    database: {
      url: database.url,
      logging: database.logging,
      connectTimeoutMs: database.connectTimeoutMs,
      statementTimeoutMs: database.statementTimeoutMs,
      busyTimeoutMs: database.busyTimeoutMs,
    },
    migrations: 'run',
    bootstrapToken: auth.bootstrapToken,
    administrators: auth.administrators,
    session: {
      ttlMinutes: auth.sessionTtlMinutes,
      idleMinutes: auth.sessionIdleMinutes,
      cookieName: auth.sessionCookieName,
      cookieSecure: auth.sessionCookieSecure,
      cookieSameSite: auth.sessionCookieSameSite,
    },
    signIn: {
      rateLimit: auth.loginRateLimit,
      rateWindowSeconds: auth.loginRateWindowSeconds,
      authFailureLimit: auth.authFailureLimit,
      lockoutThreshold: auth.lockoutThreshold,
      lockoutMinutes: auth.lockoutMinutes,
    },
    passwordHash: auth.passwordHash,
    // The environment's own rule (OWASP's minimum unless NODE_ENV=test) has been applied already.
    allowWeakPasswordHash: true,
    serviceAccountTokenMaxTtlDays: auth.saTokenMaxTtlDays,
    redis: auth.redis,
    bodyLimit: app.bodyLimit,
    allowedOrigins: app.allowedOrigins,
    swagger: app.swagger === false ? false : { path: 'docs' },
    audit: { retentionDays: audit.retentionDays, log: audit.log },
    sso: { ...sso, saml: sso.saml && samlSettingsFromConfig(sso.saml) },
  };
}
