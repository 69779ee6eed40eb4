import type { FactoryProvider, ModuleMetadata } from '@nestjs/common';
import { plainToInstance, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  ValidateBy,
  ValidateNested,
  validateSync,
  type ValidationError,
} from 'class-validator';
import { isSerialisedOrigin } from './common/cross-origin.js';
import { MinLength } from './common/validators.js';
import type { AuditConfig } from './config/audit.config.js';
import type { AuthConfig } from './config/auth.config.js';
import type { DatabaseConfig } from './config/database.config.js';
import type { SsoConfig } from './config/sso.config.js';
import {
  BODY_LIMIT_PATTERN,
  DATABASE_URL_PATTERN,
  EnvironmentVariables,
  oidcSettingsProblems,
  passwordHashProblem,
  REDIS_KEY_PREFIX_PATTERN,
  REDIS_URL_PATTERN,
} from './config/env.validation.js';
import { DEFAULT_SESSION_COOKIE } from './sessions/session-cookie.js';
import { DataSource } from 'typeorm';
import { resolveSamlSettings, type SamlSettings } from './config/saml-settings.js';

/** Where the IAM keeps its data: `url`, or `dataSource`. */
export interface IamDatabaseOptions {
  /** `sqlite:<path>` or `postgres://user:password@host:port/database`: the IAM opens its own connection pool. */
  url?: string;
  /**
   * Or a DataSource the host has registered (inject it into `forRootAsync`'s factory with
   * `getDataSourceToken()`): the IAM connects to the same database with a pool of its own (a DataSource named
   * `iam` holding only its entities). better-sqlite3 or postgres; on PostgreSQL give it a `schema` of its own.
   */
  dataSource?: DataSource;
  /** Log every SQL statement (debugging only). */
  logging?: boolean;
  /** PostgreSQL: connect and pool-acquire timeout, ms. */
  connectTimeoutMs?: number;
  /** PostgreSQL: server-side statement timeout, ms. */
  statementTimeoutMs?: number;
  /** SQLite: busy timeout, ms. */
  busyTimeoutMs?: number;
  /**
   * PostgreSQL: a schema of the IAM's own (created on first start), so that its `users`, `groups`, `sessions` and
   * `migrations` tables never meet a host's tables of the same name in a shared database.
   */
  schema?: string;
}

export interface IamSessionOptions {
  /** Absolute lifetime of a session, minutes (default 1440). */
  ttlMinutes?: number;
  /** A session not used for this many minutes is refused and removed (default 60). */
  idleMinutes?: number;
  /** Name of the session cookie (default `session_id`). */
  cookieName?: string;
  /** `Secure` attribute of the cookie (default true; false only for plain-HTTP development). */
  cookieSecure?: boolean;
  /** `SameSite` attribute of the cookie (default `lax`). */
  cookieSameSite?: 'strict' | 'lax';
}

export interface IamSignInOptions {
  /** Sign-in attempts per client address and per user name, and password changes per user, per window. */
  rateLimit?: number;
  rateWindowSeconds?: number;
  /** Failed credential checks per client address per window before the address is refused (429). */
  authFailureLimit?: number;
  /** Failed password checks that lock an account, and for how long. */
  lockoutThreshold?: number;
  lockoutMinutes?: number;
}

/** argon2id cost of new password hashes. Below OWASP's minimum only with `allowWeakPasswordHash` (tests). */
export interface IamPasswordHashOptions {
  memoryKib: number;
  timeCost: number;
  parallelism: number;
}

/**
 * What a host passes to `IamModule.forRoot()` (or returns from the `forRootAsync()` factory). Only `database` is
 * required; every other option has the default of the standalone service's environment variable of that name.
 */
export interface IamModuleOptions {
  database: IamDatabaseOptions;
  /** `run` (default): pending migrations run at start-up, under a lock. `skip`: a separate job runs them. */
  migrations?: 'run' | 'skip';
  /** Token of the built-in `admin` service account (≥ 32 characters); none when absent. */
  bootstrapToken?: string;
  /** Names of users or service accounts with administrator rights. */
  administrators?: string[];
  session?: IamSessionOptions;
  signIn?: IamSignInOptions;
  passwordHash?: IamPasswordHashOptions;
  /** Accept password-hash settings below OWASP's minimum (test suites only). */
  allowWeakPasswordHash?: boolean;
  /** When set, service-account tokens must expire, at most this many days ahead. */
  serviceAccountTokenMaxTtlDays?: number;
  /** Redis for the rate-limit counters shared by every instance; each instance's memory when absent. */
  redis?: { url: string; keyPrefix?: string };
  /** Largest JSON body the IAM's routes accept (default `100kb`). */
  bodyLimit?: string;
  /** Origins allowed cross-origin requests with credentials to the IAM's routes (CORS). */
  allowedOrigins?: string[];
  /**
   * The host's own actions, allowed in policies next to the IAM's (`widgets:Read`; `widgets:*` then works
   * too) and checked by `@RequireAction()` on the host's routes. A policy naming an unknown action is a 400.
   */
  actions?: string[];
  /**
   * Whether `setupIamSwagger(app)` serves Swagger UI for the IAM's routes, and where: `true` or `{ path }` (default
   * path `docs`; the document at `<path>-json`, `<path>-yaml`). Off by default.
   */
  swagger?: boolean | { path?: string };
  audit?: IamAuditOptions;
  sso?: IamSsoOptions;
}

/** Single sign-on (see the README, "Single sign-on"). */
export interface IamSsoOptions {
  /** `admins-only`: password sign-in only for administrators (default `all`). */
  passwordLogin?: 'all' | 'admins-only';
  /** Set an SSO user's membership of groups with an `sso_name` from the provider's groups (default true). */
  groupSync?: boolean;
  /** Let a first sign-in link a user with a password or an administrator (default false: refused). */
  linkExistingUsers?: boolean;
  /** Origins, besides relative paths, that `redirect_to` may name. */
  redirectOrigins?: string[];
  /** SCIM provisioning accepts Microsoft Entra ID's known quirks (default true; see "Provisioning with SCIM"). */
  scimLenient?: boolean;
  /** OIDC sign-in: issuer, clientId and redirectUri together; off when absent. */
  oidc?: {
    issuer: string;
    clientId: string;
    clientSecret?: string;
    redirectUri: string;
    /** Default `openid profile email`. */
    scopes?: string;
    /** Default `preferred_username`, else `email`. */
    usernameClaim?: string;
    /** Default `groups`. */
    groupsClaim?: string;
  };
  /**
   * SAML sign-in: entityId, acsUrl, and idpCert (PEM or a file path) or idpMetadataFile, with idpSsoUrl unless the
   * metadata names it; off when absent. Attributes default to `NameID`, `groups`, `email`, `displayName`.
   */
  saml?: SamlSettings;
}

/** The audit trail (see the README, "Audit trail"). */
export interface IamAuditOptions {
  /** Days an event is kept (default 365): older ones are deleted at start-up and once a day. */
  retentionDays?: number;
  /** Also write each committed event to the log, as one JSON line at level info, for a SIEM (default false). */
  log?: boolean;
}

/** Options fixed when the module is declared: they shape the module itself (its routes, its guards). */
export interface IamModuleDeclaration {
  /** Path under which the IAM's routes are mounted (default `api/v1`). */
  routePrefix?: string;
  /**
   * Register `IamAuthGuard` app-wide: every route of the host needs credentials unless it is `@Public()`. Without
   * it only the IAM's own routes are guarded (they always are).
   */
  protectAllRoutes?: boolean;
}

export interface IamModuleAsyncOptions extends IamModuleDeclaration, Pick<ModuleMetadata, 'imports'> {
  useFactory: (...args: never[]) => IamModuleOptions | Promise<IamModuleOptions>;
  inject?: FactoryProvider['inject'];
}

/** The options, validated and with every default applied: what the IAM's providers read. */
export interface ResolvedIamOptions {
  database: DatabaseConfig;
  migrations: 'run' | 'skip';
  auth: AuthConfig;
  http: IamHttpConfig;
  actions: string[];
  /** Where setupIamSwagger() serves Swagger UI, or false. */
  swagger: { path: string } | false;
  audit: AuditConfig;
  sso: SsoConfig;
}

/** What the IAM's HTTP middleware reads. */
export interface IamHttpConfig {
  bodyLimit: string;
  allowedOrigins?: string[];
}

export const IAM_MODULE_OPTIONS = Symbol('IAM_MODULE_OPTIONS');
export const IAM_OPTIONS = Symbol('IAM_OPTIONS');
export const IAM_AUTH_CONFIG = Symbol('IAM_AUTH_CONFIG');
export const IAM_HTTP_CONFIG = Symbol('IAM_HTTP_CONFIG');
export const IAM_DATABASE_CONFIG = Symbol('IAM_DATABASE_CONFIG');
export const IAM_AUDIT_CONFIG = Symbol('IAM_AUDIT_CONFIG');
export const IAM_SSO_CONFIG = Symbol('IAM_SSO_CONFIG');

export const DEFAULT_ROUTE_PREFIX = 'api/v1';

/**
 * The kind of process the IAM runs in. `service` (the standalone service, every host): it serves requests, and its
 * start-up does a serving instance's chores: the built-in `admin` account (IAM_BOOTSTRAP_TOKEN), removing expired
 * sessions, the warning about legacy names. `cli`: the admin CLI, which runs one command on the database and exits,
 * and does none of them; a CLI run whose environment lacks the service's IAM_BOOTSTRAP_TOKEN must not revoke it.
 */
export type IamProcessKind = 'service' | 'cli';
export const IAM_PROCESS_KIND = Symbol('IAM_PROCESS_KIND');

// --- validation -------------------------------------------------------------------------------------------

class DatabaseOptionsSchema {
  @IsString()
  @Matches(DATABASE_URL_PATTERN, {
    message: 'must be sqlite:<path> or postgres://user:password@host:port/database',
  })
  url: string;

  @IsOptional() @IsBoolean() logging?: boolean;
  @IsOptional() @IsInt() @Min(100) @Max(600_000) connectTimeoutMs?: number;
  @IsOptional() @IsInt() @Min(100) @Max(600_000) statementTimeoutMs?: number;
  @IsOptional() @IsInt() @Min(0) @Max(600_000) busyTimeoutMs?: number;
  @IsOptional()
  @Matches(/^[a-z_][a-z0-9_]{0,62}$/, { message: 'must be a lower-case PostgreSQL identifier (e.g. iam)' })
  schema?: string;
}

class SessionOptionsSchema {
  @IsOptional() @IsInt() @Min(1) @Max(60 * 24 * 365) ttlMinutes?: number;
  @IsOptional() @IsInt() @Min(1) @Max(60 * 24 * 365) idleMinutes?: number;
  @IsOptional()
  @Matches(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$/, { message: 'must be a cookie name (1–64 token characters)' })
  cookieName?: string;
  @IsOptional() @IsBoolean() cookieSecure?: boolean;
  @IsOptional() @IsIn(['strict', 'lax']) cookieSameSite?: 'strict' | 'lax';
}

class SignInOptionsSchema {
  @IsOptional() @IsInt() @Min(1) rateLimit?: number;
  @IsOptional() @IsInt() @Min(1) rateWindowSeconds?: number;
  @IsOptional() @IsInt() @Min(1) authFailureLimit?: number;
  @IsOptional() @IsInt() @Min(1) lockoutThreshold?: number;
  @IsOptional() @IsInt() @Min(1) @Max(60 * 24 * 365) lockoutMinutes?: number;
}

class PasswordHashOptionsSchema {
  @IsInt() @Min(8) @Max(4 * 1024 * 1024) memoryKib: number;
  @IsInt() @Min(1) @Max(100) timeCost: number;
  @IsInt() @Min(1) @Max(64) parallelism: number;
}

class RedisOptionsSchema {
  @Matches(REDIS_URL_PATTERN, { message: 'must be redis://[user:password@]host:port[/db] or rediss://…' })
  url: string;
  @IsOptional()
  @Matches(REDIS_KEY_PREFIX_PATTERN, { message: 'must be 1 to 64 visible ASCII characters' })
  keyPrefix?: string;
}

class AuditOptionsSchema {
  @IsOptional() @IsInt() @Min(1) @Max(36500) retentionDays?: number;
  @IsOptional() @IsBoolean() log?: boolean;
}

const CLAIM_NAME = /^[\x21-\x7E]{1,100}$/;

class OidcOptionsSchema {
  @IsString() issuer: string;
  @IsString() clientId: string;
  @IsOptional() @IsString() clientSecret?: string;
  @IsString() redirectUri: string;
  @IsOptional()
  @Matches(/^[\x21-\x7E]+( [\x21-\x7E]+)*$/, { message: 'must be scopes separated by spaces' })
  scopes?: string;
  @IsOptional() @Matches(CLAIM_NAME, { message: 'must be a claim name' }) usernameClaim?: string;
  @IsOptional() @Matches(CLAIM_NAME, { message: 'must be a claim name' }) groupsClaim?: string;
}

const ATTRIBUTE_NAME = /^[\x21-\x7E]{1,300}$/;

class SamlOptionsSchema {
  @IsString() entityId: string;
  @IsString() acsUrl: string;
  @IsOptional() @IsString() idpSsoUrl?: string;
  @IsOptional() @IsString() idpEntityId?: string;
  @IsOptional() @IsString() idpCert?: string;
  @IsOptional() @IsString() idpMetadataFile?: string;
  @IsOptional() @Matches(ATTRIBUTE_NAME, { message: 'must be an attribute name' }) usernameAttribute?: string;
  @IsOptional() @Matches(ATTRIBUTE_NAME, { message: 'must be an attribute name' }) groupsAttribute?: string;
  @IsOptional() @Matches(ATTRIBUTE_NAME, { message: 'must be an attribute name' }) emailAttribute?: string;
  @IsOptional() @Matches(ATTRIBUTE_NAME, { message: 'must be an attribute name' }) nameAttribute?: string;
}

class SsoOptionsSchema {
  @IsOptional() @IsIn(['all', 'admins-only']) passwordLogin?: 'all' | 'admins-only';
  @IsOptional() @IsBoolean() groupSync?: boolean;
  @IsOptional() @IsBoolean() linkExistingUsers?: boolean;
  @IsOptional() @IsArray() @IsString({ each: true }) redirectOrigins?: string[];
  @IsOptional() @IsBoolean() scimLenient?: boolean;
  @IsOptional() @ValidateNested() @Type(() => OidcOptionsSchema) oidc?: OidcOptionsSchema;
  @IsOptional() @ValidateNested() @Type(() => SamlOptionsSchema) saml?: SamlOptionsSchema;
}

/** `service:Operation`, the service not `iam` (the IAM's own actions are built in). */
export const HOST_ACTION = /^(?!iam:)[a-z][a-z0-9-]{0,31}:[A-Za-z][A-Za-z0-9]{0,63}$/;

class IamModuleOptionsSchema {
  @ValidateNested() @Type(() => DatabaseOptionsSchema) database: DatabaseOptionsSchema;
  @IsOptional() @IsIn(['run', 'skip']) migrations?: 'run' | 'skip';
  @IsOptional() @IsString() @MinLength(32, { message: 'must be at least 32 characters' }) bootstrapToken?: string;
  @IsOptional() @IsArray() @IsString({ each: true }) administrators?: string[];
  @IsOptional() @ValidateNested() @Type(() => SessionOptionsSchema) session?: SessionOptionsSchema;
  @IsOptional() @ValidateNested() @Type(() => SignInOptionsSchema) signIn?: SignInOptionsSchema;
  @IsOptional() @ValidateNested() @Type(() => PasswordHashOptionsSchema) passwordHash?: PasswordHashOptionsSchema;
  @IsOptional() @IsBoolean() allowWeakPasswordHash?: boolean;
  @IsOptional() @IsInt() @Min(1) @Max(36500) serviceAccountTokenMaxTtlDays?: number;
  @IsOptional() @ValidateNested() @Type(() => RedisOptionsSchema) redis?: RedisOptionsSchema;
  @IsOptional() @Matches(BODY_LIMIT_PATTERN, { message: 'must look like 100kb or 1mb' }) bodyLimit?: string;
  @IsOptional() @IsArray() @IsString({ each: true }) allowedOrigins?: string[];
  @IsOptional() @ValidateNested() @Type(() => AuditOptionsSchema) audit?: AuditOptionsSchema;
  @IsOptional() @ValidateNested() @Type(() => SsoOptionsSchema) sso?: SsoOptionsSchema;
  @IsOptional()
  @ValidateBy({
    name: 'swaggerOption',
    validator: {
      validate: (value: unknown) =>
        typeof value === 'boolean' ||
        (typeof value === 'object' &&
          value !== null &&
          Object.keys(value).every((key) => key === 'path') &&
          ((value as { path?: unknown }).path === undefined ||
            (typeof (value as { path?: unknown }).path === 'string' &&
              /^\/?[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*\/?$/.test((value as { path: string }).path)))),
      defaultMessage: () => 'must be true, false or { path: "docs" } (a URL path)',
    },
  })
  swagger?: boolean | { path?: string };

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @Matches(HOST_ACTION, {
    each: true,
    message: 'each must be service:Operation, the service not iam (e.g. widgets:Read)',
  })
  actions?: string[];
}

/** Options whose values may be secrets: a message about them never repeats the value. */
const SECRET_OPTIONS = new Set(['bootstrapToken', 'database.url', 'redis.url', 'sso.oidc.clientSecret']);

function problems(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((error) => {
    const name = prefix ? `${prefix}.${error.property}` : error.property;
    if (error.constraints?.whitelistValidation) {
      const hint = ['routePrefix', 'protectAllRoutes'].includes(name)
        ? ' (it shapes the module: pass it to forRoot() or next to useFactory in forRootAsync())'
        : '';
      return [`  - ${name}: is not an IamModule option${hint}`];
    }
    const own = Object.values(error.constraints ?? {}).map(
      (message) =>
        `  - ${name}: ${message.replace(new RegExp(`^(each value in )?${error.property} `), '$1')}` +
        (SECRET_OPTIONS.has(name) ? '' : ` (got ${JSON.stringify(error.value)})`),
    );
    return [...own, ...problems(error.children ?? [], name)];
  });
}

export class IamOptionsError extends Error {}

/** Validates what a host passed and applies the defaults. Throws IamOptionsError naming every bad option. */
export function resolveIamOptions(given: IamModuleOptions): ResolvedIamOptions {
  if (typeof given !== 'object' || given === null) {
    throw new IamOptionsError('IamModule options must be an object with at least `database: { url }`');
  }
  const options = withDatabaseUrl(given);
  const schema = plainToInstance(IamModuleOptionsSchema, options);
  const found = problems(
    validateSync(schema, { forbidUnknownValues: false, whitelist: true, forbidNonWhitelisted: true }),
  );
  const defaults = new EnvironmentVariables();
  const hash = options.passwordHash ?? {
    memoryKib: defaults.IAM_PASSWORD_HASH_MEMORY_KIB,
    timeCost: defaults.IAM_PASSWORD_HASH_TIME_COST,
    parallelism: defaults.IAM_PASSWORD_HASH_PARALLELISM,
  };
  if (options.passwordHash && found.length === 0) {
    const problem = passwordHashProblem(
      hash.memoryKib,
      hash.timeCost,
      hash.parallelism,
      options.allowWeakPasswordHash === true,
    );
    if (problem === 'lanes') {
      found.push('  - passwordHash.memoryKib: argon2 needs at least 8 KiB per lane (passwordHash.parallelism)');
    } else if (problem === 'below-floor') {
      found.push(
        `  - passwordHash: ${hash.memoryKib} KiB × ${hash.timeCost} passes is below OWASP's minimum for argon2id`,
      );
    }
  }
  for (const origin of options.allowedOrigins ?? []) {
    if (!isSerialisedOrigin(origin)) {
      found.push(`  - allowedOrigins: ${JSON.stringify(origin)} is not an origin (scheme://host[:port])`);
    }
  }
  for (const origin of options.sso?.redirectOrigins ?? []) {
    if (!isSerialisedOrigin(origin)) {
      found.push(`  - sso.redirectOrigins: ${JSON.stringify(origin)} is not an origin (scheme://host[:port])`);
    }
  }
  if (options.sso?.oidc && found.length === 0) {
    found.push(...oidcSettingsProblems(options.sso.oidc).map((problem) => `  - sso.oidc.${problem}`));
  }
  const saml = options.sso?.saml && found.length === 0 ? resolveSamlSettings(options.sso.saml) : undefined;
  found.push(...(saml?.problems ?? []).map((problem) => `  - sso.saml.${problem}`));
  if (options.database?.schema !== undefined && !/^postgres(ql)?:/.test(String(options.database.url))) {
    found.push('  - database.schema: only for PostgreSQL (a SQLite database is a file of its own)');
  }
  if (found.length > 0) {
    throw new IamOptionsError(`Invalid IamModule options:\n${found.join('\n')}`);
  }
  const { database, session = {}, signIn = {}, audit = {}, sso = {} } = options;
  return {
    database: {
      url: database.url!,
      logging: database.logging ?? false,
      connectTimeoutMs: database.connectTimeoutMs,
      statementTimeoutMs: database.statementTimeoutMs,
      busyTimeoutMs: database.busyTimeoutMs,
      schema: database.schema,
    },
    migrations: options.migrations ?? 'run',
    auth: {
      bootstrapToken: options.bootstrapToken,
      administrators: (options.administrators ?? [])
        .map((name) => name.trim().toLowerCase())
        .filter((name) => name.length > 0),
      sessionTtlMinutes: session.ttlMinutes ?? defaults.IAM_SESSION_TTL_MINUTES,
      sessionIdleMinutes: session.idleMinutes ?? defaults.IAM_SESSION_IDLE_MINUTES,
      sessionCookieName: session.cookieName ?? DEFAULT_SESSION_COOKIE,
      sessionCookieSecure: session.cookieSecure ?? defaults.IAM_SESSION_COOKIE_SECURE,
      sessionCookieSameSite: session.cookieSameSite ?? 'lax',
      saTokenMaxTtlDays: options.serviceAccountTokenMaxTtlDays,
      loginRateLimit: signIn.rateLimit ?? defaults.IAM_LOGIN_RATE_LIMIT,
      loginRateWindowSeconds: signIn.rateWindowSeconds ?? defaults.IAM_LOGIN_RATE_WINDOW_SECONDS,
      authFailureLimit: signIn.authFailureLimit ?? defaults.IAM_AUTH_FAILURE_LIMIT,
      lockoutThreshold: signIn.lockoutThreshold ?? defaults.IAM_LOCKOUT_THRESHOLD,
      lockoutMinutes: signIn.lockoutMinutes ?? defaults.IAM_LOCKOUT_MINUTES,
      passwordHash: hash,
      redis: options.redis
        ? { url: options.redis.url, keyPrefix: options.redis.keyPrefix ?? defaults.REDIS_KEY_PREFIX }
        : undefined,
    },
    http: { bodyLimit: options.bodyLimit ?? defaults.BODY_LIMIT, allowedOrigins: options.allowedOrigins },
    actions: options.actions ?? [],
    swagger:
      options.swagger === true
        ? { path: 'docs' }
        : typeof options.swagger === 'object'
          ? { path: (options.swagger.path ?? 'docs').replace(/^\/+|\/+$/g, '') }
          : false,
    audit: {
      retentionDays: audit.retentionDays ?? defaults.IAM_AUDIT_RETENTION_DAYS,
      log: audit.log ?? defaults.IAM_AUDIT_LOG,
    },
    sso: {
      passwordLogin: sso.passwordLogin ?? defaults.IAM_PASSWORD_LOGIN,
      groupSync: sso.groupSync ?? defaults.IAM_SSO_GROUP_SYNC,
      linkExistingUsers: sso.linkExistingUsers ?? defaults.IAM_SSO_LINK_EXISTING_USERS,
      redirectOrigins: sso.redirectOrigins ?? [],
      scimLenient: sso.scimLenient ?? defaults.IAM_SCIM_LENIENT,
      oidc: sso.oidc && {
        issuer: sso.oidc.issuer,
        clientId: sso.oidc.clientId,
        clientSecret: sso.oidc.clientSecret,
        redirectUri: sso.oidc.redirectUri,
        scopes: sso.oidc.scopes ?? defaults.IAM_OIDC_SCOPES,
        usernameClaim: sso.oidc.usernameClaim,
        groupsClaim: sso.oidc.groupsClaim ?? defaults.IAM_OIDC_GROUPS_CLAIM,
      },
      saml: saml?.config,
    },
  };
}

/**
 * `database.dataSource` (a host's DataSource) turned into the `database.url` of the same database, so that the
 * rest of the module knows one form. Anything else is left for the validation to judge.
 */
function withDatabaseUrl(options: IamModuleOptions): IamModuleOptions {
  const database: unknown = options.database;
  if (typeof database !== 'object' || database === null || !('dataSource' in database)) {
    return options;
  }
  const { dataSource, ...rest } = database as IamDatabaseOptions;
  const refuse = (problem: string): never => {
    throw new IamOptionsError(`Invalid IamModule options:\n  - database.dataSource: ${problem}`);
  };
  if (!(dataSource instanceof DataSource)) {
    return refuse('must be a TypeORM DataSource (inject it with getDataSourceToken())');
  }
  if (rest.url !== undefined) {
    return refuse('give either database.url or database.dataSource, not both');
  }
  const source = dataSource.options;
  if (source.type === 'better-sqlite3' && typeof source.database === 'string' && source.database !== ':memory:') {
    return { ...options, database: { ...rest, url: `sqlite:${source.database}` } };
  }
  if (source.type === 'postgres') {
    if (source.url) {
      return { ...options, database: { ...rest, url: source.url } };
    }
    const credentials = source.username
      ? `${encodeURIComponent(source.username)}${source.password !== undefined && typeof source.password === 'string' ? `:${encodeURIComponent(source.password)}` : ''}@`
      : '';
    const url = `postgres://${credentials}${source.host ?? 'localhost'}:${source.port ?? 5432}/${encodeURIComponent(source.database ?? '')}`;
    return { ...options, database: { ...rest, url } };
  }
  return refuse(`a ${source.type} DataSource is not supported: better-sqlite3 (a file) or postgres`);
}
