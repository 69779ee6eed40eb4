import { isIP } from 'node:net';
import { applyDecorators } from '@nestjs/common';
import { plainToInstance, Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, validateSync } from 'class-validator';
import { IsOriginList } from '../common/cross-origin.js';
import { MinLength } from '../common/validators.js';
import { resolveSamlSettings, type SamlSettings } from './saml-settings.js';

const toBoolean = ({ value }: { value: unknown }): unknown => {
  if (typeof value !== 'string') {
    return value;
  }
  const v = value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) {
    return true;
  }
  if (['false', '0', 'no', 'off'].includes(v)) {
    return false;
  }
  return value;
};

/** A whole number from `min` to `max`, written in the environment as digits. */
const IntegerBetween = (min: number, max: number) =>
  applyDecorators(Transform(toInt), IsInt(), Min(min), Max(max)) as PropertyDecorator;

const toInt = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value;

/** Value shapes shared with IamModule's options (iam.options.ts), which check the same settings. */
export const DATABASE_URL_PATTERN = /^(sqlite:.+|postgres(ql)?:\/\/.+)$/;
export const REDIS_URL_PATTERN = /^rediss?:\/\/.+/;
export const REDIS_KEY_PREFIX_PATTERN = /^[\x21-\x7E]{1,64}$/;
export const BODY_LIMIT_PATTERN = /^\d+(b|kb|mb)$/i;

/**
 * Every environment variable the service reads. Validated once at start-up: a bad value stops the
 * process with a message naming the variable. Defaults live here and nowhere else.
 */
export class EnvironmentVariables {
  @IsOptional()
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  @IntegerBetween(0, 65535)
  PORT = 3000;

  @IsOptional()
  @IsString()
  HOST?: string;

  /** `sqlite:<path>`, `postgres://…` or `postgresql://…`; unset = SQLite at data/iam.sqlite. */
  @IsOptional()
  @Matches(DATABASE_URL_PATTERN, {
    message: 'DATABASE_URL must be sqlite:<path> or postgres://user:password@host:port/database',
  })
  DATABASE_URL?: string;

  @Transform(toBoolean)
  @IsBoolean()
  DATABASE_LOGGING = false;

  /** PostgreSQL: longest wait for a new connection, and for a free one from the pool. */
  @IntegerBetween(100, 600_000)
  DATABASE_CONNECT_TIMEOUT_MS = 5000;

  /** PostgreSQL: statement_timeout on the server; the client gives up on a silent server a second later. */
  @IntegerBetween(100, 600_000)
  DATABASE_STATEMENT_TIMEOUT_MS = 5000;

  /** SQLite: how long a statement waits for a lock held by another connection before failing (SQLITE_BUSY). */
  @IntegerBetween(0, 600_000)
  DATABASE_BUSY_TIMEOUT_MS = 5000;

  /** Connection attempts at start-up before the service gives up (exit 1). */
  @IntegerBetween(1, 1000)
  DATABASE_STARTUP_ATTEMPTS = 10;

  /** Pause between those attempts. */
  @IntegerBetween(0, 600_000)
  DATABASE_STARTUP_RETRY_MS = 3000;

  /** Token of the built-in `admin` service account; at least 32 characters. */
  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'IAM_BOOTSTRAP_TOKEN must be at least 32 characters' })
  IAM_BOOTSTRAP_TOKEN?: string;

  /** Comma-separated principal names with administrator rights. */
  @IsOptional()
  @IsString()
  IAM_ADMINISTRATORS?: string;

  @IntegerBetween(1, 60 * 24 * 365)
  IAM_SESSION_TTL_MINUTES = 60 * 24;

  /** A session not used for this long is refused and removed (besides its absolute lifetime above). */
  @IntegerBetween(1, 60 * 24 * 365)
  IAM_SESSION_IDLE_MINUTES = 60;

  @Transform(toBoolean)
  @IsBoolean()
  IAM_SESSION_COOKIE_SECURE = true;

  /** When set, service-account tokens must expire, at most this many days ahead. */
  @IsOptional()
  @IntegerBetween(1, 36500)
  IAM_SA_TOKEN_MAX_TTL_DAYS?: number;

  /** Comma-separated origins (`https://app.example.com`) whose pages may call the API with credentials. */
  @IsOptional()
  @IsOriginList()
  IAM_ALLOWED_ORIGINS?: string;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  IAM_LOGIN_RATE_LIMIT = 10;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  IAM_LOGIN_RATE_WINDOW_SECONDS = 60;

  /** Failed credential checks (bearer token, session cookie, password) per client address per that window. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  IAM_AUTH_FAILURE_LIMIT = 20;

  /** Failed password checks of one account, within IAM_LOCKOUT_MINUTES, that lock it. */
  @IntegerBetween(1, 1000)
  IAM_LOCKOUT_THRESHOLD = 10;

  /** How long a locked account stays locked (and the window its failures are counted in). */
  @IntegerBetween(1, 60 * 24 * 365)
  IAM_LOCKOUT_MINUTES = 15;

  /** argon2id memory cost in KiB (the argon2 library's default, 64 MiB); see PASSWORD_HASH_FLOOR. */
  @IntegerBetween(8, 4 * 1024 * 1024)
  IAM_PASSWORD_HASH_MEMORY_KIB = 65536;

  /** argon2id passes over memory (the library's default). */
  @IntegerBetween(1, 100)
  IAM_PASSWORD_HASH_TIME_COST = 3;

  /** argon2id lanes (the library's default). */
  @IntegerBetween(1, 64)
  IAM_PASSWORD_HASH_PARALLELISM = 4;

  /** Redis for the rate-limit counters, shared by every instance; unset = counted in each instance's memory. */
  @IsOptional()
  @Matches(REDIS_URL_PATTERN, { message: 'REDIS_URL must be redis://[user:password@]host:port[/db] or rediss://…' })
  REDIS_URL?: string;

  /** Prefix of every Redis key the service writes (several deployments may share one Redis). */
  @IsString()
  @Matches(REDIS_KEY_PREFIX_PATTERN, { message: 'REDIS_KEY_PREFIX must be 1 to 64 visible ASCII characters' })
  REDIS_KEY_PREFIX = 'iam:';

  @IsString()
  @Matches(BODY_LIMIT_PATTERN, { message: 'BODY_LIMIT must look like 100kb or 1mb' })
  BODY_LIMIT = '100kb';

  /**
   * Express "trust proxy": a hop count, or comma-separated addresses/subnets of the proxies in front (see
   * isTrustProxySetting). Not `true`: then every X-Forwarded-For would name a new client.
   */
  @IsOptional()
  @IsString()
  TRUST_PROXY?: string;

  /** Serve Swagger UI at /docs (and the document at /docs-json, /docs-yaml). */
  @Transform(toBoolean)
  @IsBoolean()
  IAM_SWAGGER = true;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL: string = 'info';

  /** Days an audit event is kept; older ones are deleted at start-up and daily. */
  @IntegerBetween(1, 36500)
  IAM_AUDIT_RETENTION_DAYS = 365;

  /** Also write each committed audit event to the log, one JSON line at level info (for a SIEM). */
  @Transform(toBoolean)
  @IsBoolean()
  IAM_AUDIT_LOG = false;

  /** `all`: every user may sign in with a password; `admins-only`: only administrators (IAM_ADMINISTRATORS). */
  @IsIn(['all', 'admins-only'])
  IAM_PASSWORD_LOGIN: 'all' | 'admins-only' = 'all';

  /** Single sign-on sets an SSO user's membership of the groups with an `sso_name` from the provider's groups. */
  @Transform(toBoolean)
  @IsBoolean()
  IAM_SSO_GROUP_SYNC = true;

  /**
   * Let a first single sign-on link an existing user that has a password or is an administrator (IAM_ADMINISTRATORS),
   * or create a user named in IAM_ADMINISTRATORS. Off: such a sign-in is refused (no takeover through the provider).
   */
  @Transform(toBoolean)
  @IsBoolean()
  IAM_SSO_LINK_EXISTING_USERS = false;

  /**
   * SCIM provisioning accepts Microsoft Entra ID's known departures from RFC 7644: PATCH `op` values in any case
   * (`Replace`), booleans as the strings "True"/"False", and a PATCH `path` naming the core schema URN.
   */
  @Transform(toBoolean)
  @IsBoolean()
  IAM_SCIM_LENIENT = true;

  /** Comma-separated origins (`https://app.example.com`) a single sign-on may send the browser back to (redirect_to). */
  @IsOptional()
  @IsOriginList()
  IAM_SSO_REDIRECT_ORIGINS?: string;

  /** OIDC: the provider's issuer URL (https; http only on a loopback address). With CLIENT_ID and REDIRECT_URI. */
  @IsOptional()
  @IsString()
  IAM_OIDC_ISSUER?: string;

  @IsOptional()
  @IsString()
  IAM_OIDC_CLIENT_ID?: string;

  /** Unset: a public client (PKCE alone). */
  @IsOptional()
  @IsString()
  IAM_OIDC_CLIENT_SECRET?: string;

  /** This service's callback as registered with the provider: https://iam.example.com/api/v1/login/oidc/callback. */
  @IsOptional()
  @IsString()
  IAM_OIDC_REDIRECT_URI?: string;

  @IsString()
  @Matches(/^[\x21-\x7E]+( [\x21-\x7E]+)*$/, { message: 'IAM_OIDC_SCOPES must be scopes separated by spaces' })
  IAM_OIDC_SCOPES = 'openid profile email';

  /** The claim holding the user name; unset: `preferred_username`, else `email`. */
  @IsOptional()
  @Matches(/^[\x21-\x7E]{1,100}$/, { message: 'IAM_OIDC_USERNAME_CLAIM must be a claim name' })
  IAM_OIDC_USERNAME_CLAIM?: string;

  @Matches(/^[\x21-\x7E]{1,100}$/, { message: 'IAM_OIDC_GROUPS_CLAIM must be a claim name' })
  IAM_OIDC_GROUPS_CLAIM = 'groups';

  /** SAML: this service provider's entity id (the audience). With ACS_URL and IDP_CERT or IDP_METADATA_FILE. */
  @IsOptional()
  @IsString()
  IAM_SAML_ENTITY_ID?: string;

  /** SAML: the assertion consumer service as registered: https://iam.example.com/api/v1/login/saml/acs. */
  @IsOptional()
  @IsString()
  IAM_SAML_ACS_URL?: string;

  /** SAML: the provider's single sign-on URL (HTTP-Redirect binding); from the metadata file when unset. */
  @IsOptional()
  @IsString()
  IAM_SAML_IDP_SSO_URL?: string;

  /** SAML: the provider's entity id (assertions of another issuer are refused); from the metadata file when unset. */
  @IsOptional()
  @IsString()
  IAM_SAML_IDP_ENTITY_ID?: string;

  /** SAML: the provider's signing certificate, PEM text or the path of a PEM file. */
  @IsOptional()
  @IsString()
  IAM_SAML_IDP_CERT?: string;

  /** SAML: the path of the provider's metadata XML (entity id, SSO URL and signing certificate read from it). */
  @IsOptional()
  @IsString()
  IAM_SAML_IDP_METADATA_FILE?: string;

  /** `NameID`, or the name of the attribute holding the user name. */
  @Matches(/^[\x21-\x7E]{1,300}$/, { message: 'IAM_SAML_USERNAME_ATTRIBUTE must be an attribute name' })
  IAM_SAML_USERNAME_ATTRIBUTE = 'NameID';

  @Matches(/^[\x21-\x7E]{1,300}$/, { message: 'IAM_SAML_GROUPS_ATTRIBUTE must be an attribute name' })
  IAM_SAML_GROUPS_ATTRIBUTE = 'groups';

  @Matches(/^[\x21-\x7E]{1,300}$/, { message: 'IAM_SAML_EMAIL_ATTRIBUTE must be an attribute name' })
  IAM_SAML_EMAIL_ATTRIBUTE = 'email';

  @Matches(/^[\x21-\x7E]{1,300}$/, { message: 'IAM_SAML_NAME_ATTRIBUTE must be an attribute name' })
  IAM_SAML_NAME_ATTRIBUTE = 'displayName';

  /** On SIGTERM, how long requests in flight may take before their connections are closed. */
  @IntegerBetween(0, 3600)
  SHUTDOWN_TIMEOUT_SECONDS = 10;
}

export class ConfigurationError extends Error {}

/** Variables whose value may hold a password or token: a message about them never repeats the value. */
const SECRET_VARIABLES = new Set(['IAM_BOOTSTRAP_TOKEN', 'DATABASE_URL', 'REDIS_URL', 'IAM_OIDC_CLIENT_SECRET']);

/** Express's names for subnets (proxy-addr): loopback, link-local and unique-local addresses. */
const NAMED_SUBNETS = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** `a.b.c.d`, an IPv6 address, either with `/prefix`, or one of NAMED_SUBNETS. */
function isAddressOrSubnet(entry: string): boolean {
  if (NAMED_SUBNETS.has(entry)) {
    return true;
  }
  const [address, prefix, ...rest] = entry.split('/');
  const version = isIP(address);
  if (version === 0 || rest.length > 0) {
    return false;
  }
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128));
}

/** Why a TRUST_PROXY value is refused, or undefined when it is a hop count or a list of addresses/subnets. */
function trustProxyProblem(value: string): string | undefined {
  const trimmed = value.trim();
  if (trimmed.toLowerCase() === 'true') {
    return (
      'TRUST_PROXY=true would trust every X-Forwarded-For: each request could claim a new client address and ' +
      'escape the per-address limits. Set the number of proxies in front (e.g. 1) or their addresses/subnets'
    );
  }
  if (/^\d{1,2}$/.test(trimmed)) {
    return undefined;
  }
  const entries = trimmed.split(',').map((entry) => entry.trim());
  if (entries.every((entry) => entry.length > 0 && isAddressOrSubnet(entry))) {
    return undefined;
  }
  return 'TRUST_PROXY must be a hop count (e.g. 1) or comma-separated proxy addresses/subnets (e.g. 10.0.0.0/8, loopback)';
}

/**
 * OWASP's minimum for argon2id (Password Storage Cheat Sheet): 19 MiB of memory with 2 passes, or more
 * memory with fewer passes; every configuration it lists has memory × passes ≥ 7168 KiB × 5. Cheaper settings
 * are accepted only with NODE_ENV=test.
 */
export const PASSWORD_HASH_FLOOR = { minMemoryKib: 7168, minMemoryTimesPasses: 7168 * 5 };

/**
 * What is wrong with argon2id settings: fewer than 8 KiB per lane (`lanes`, argon2 refuses them), or below
 * PASSWORD_HASH_FLOOR unless weak settings are allowed (`below-floor`); null when they are fine.
 */
export function passwordHashProblem(
  memoryKib: number,
  timeCost: number,
  parallelism: number,
  allowWeak: boolean,
): 'lanes' | 'below-floor' | null {
  if (memoryKib < 8 * parallelism) {
    return 'lanes';
  }
  const weak =
    memoryKib < PASSWORD_HASH_FLOOR.minMemoryKib || memoryKib * timeCost < PASSWORD_HASH_FLOOR.minMemoryTimesPasses;
  return weak && !allowWeak ? 'below-floor' : null;
}

const OIDC_VARIABLES = {
  issuer: 'IAM_OIDC_ISSUER',
  clientId: 'IAM_OIDC_CLIENT_ID',
  clientSecret: 'IAM_OIDC_CLIENT_SECRET',
  redirectUri: 'IAM_OIDC_REDIRECT_URI',
};

const SAML_VARIABLES: Record<keyof SamlSettings, string> = {
  entityId: 'IAM_SAML_ENTITY_ID',
  acsUrl: 'IAM_SAML_ACS_URL',
  idpSsoUrl: 'IAM_SAML_IDP_SSO_URL',
  idpEntityId: 'IAM_SAML_IDP_ENTITY_ID',
  idpCert: 'IAM_SAML_IDP_CERT',
  idpMetadataFile: 'IAM_SAML_IDP_METADATA_FILE',
  usernameAttribute: 'IAM_SAML_USERNAME_ATTRIBUTE',
  groupsAttribute: 'IAM_SAML_GROUPS_ATTRIBUTE',
  emailAttribute: 'IAM_SAML_EMAIL_ATTRIBUTE',
  nameAttribute: 'IAM_SAML_NAME_ATTRIBUTE',
};

/** The SAML settings of the environment, as resolveSamlSettings() takes them. */
export function samlSettingsOf(env: EnvironmentVariables): SamlSettings {
  return {
    entityId: env.IAM_SAML_ENTITY_ID,
    acsUrl: env.IAM_SAML_ACS_URL,
    idpSsoUrl: env.IAM_SAML_IDP_SSO_URL,
    idpEntityId: env.IAM_SAML_IDP_ENTITY_ID,
    idpCert: env.IAM_SAML_IDP_CERT,
    idpMetadataFile: env.IAM_SAML_IDP_METADATA_FILE,
    usernameAttribute: env.IAM_SAML_USERNAME_ATTRIBUTE,
    groupsAttribute: env.IAM_SAML_GROUPS_ATTRIBUTE,
    emailAttribute: env.IAM_SAML_EMAIL_ATTRIBUTE,
    nameAttribute: env.IAM_SAML_NAME_ATTRIBUTE,
  };
}

/** Whether a URL's host is a loopback address (where plain HTTP is allowed: development and tests). */
export function isLoopbackUrl(url: URL): boolean {
  return ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}

/** An http(s) URL without credentials or fragment, https unless on a loopback address; null when not one. */
export function secureUrl(value: string): URL | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  const httpsOrLoopback = url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackUrl(url));
  return httpsOrLoopback && !url.username && !url.password && !url.hash ? url : null;
}

/**
 * What is wrong with OIDC settings (shared by the environment and IamModule's `sso.oidc`): all of issuer, client id
 * and redirect URI or none (the client secret only with them), each URL https (http only on a loopback address).
 * Each problem starts with the setting's option name.
 */
export function oidcSettingsProblems(oidc: {
  issuer?: string;
  clientId?: string;
  clientSecret?: string;
  redirectUri?: string;
}): string[] {
  const required = ['issuer', 'clientId', 'redirectUri'] as const;
  const given = required.filter((name) => oidc[name] !== undefined);
  if (given.length === 0) {
    return oidc.clientSecret !== undefined
      ? ['clientSecret: is set, but OIDC is not (set the issuer, client id and redirect URI)']
      : [];
  }
  const problems = required
    .filter((name) => oidc[name] === undefined)
    .map((name) => `${name}: is required with the other OIDC settings (all of them or none)`);
  for (const name of ['issuer', 'redirectUri'] as const) {
    const value = oidc[name];
    if (value !== undefined && !secureUrl(value)) {
      problems.push(
        `${name}: must be an https URL (http only on 127.0.0.1 or localhost) (got ${JSON.stringify(value)})`,
      );
    }
  }
  return problems;
}

/** Rules that span several variables, or want a message of their own. */
function crossFieldProblems(env: EnvironmentVariables): string[] {
  const problems: string[] = [];
  if (env.TRUST_PROXY !== undefined) {
    const problem = trustProxyProblem(env.TRUST_PROXY);
    if (problem) {
      problems.push(`  - TRUST_PROXY: ${problem} (got ${JSON.stringify(env.TRUST_PROXY)})`);
    }
  }
  problems.push(
    ...oidcSettingsProblems({
      issuer: env.IAM_OIDC_ISSUER,
      clientId: env.IAM_OIDC_CLIENT_ID,
      clientSecret: env.IAM_OIDC_CLIENT_SECRET,
      redirectUri: env.IAM_OIDC_REDIRECT_URI,
    }).map(
      (problem) =>
        `  - ${problem.replace(/^(issuer|clientId|clientSecret|redirectUri)/, (name) => OIDC_VARIABLES[name as keyof typeof OIDC_VARIABLES])}`,
    ),
  );
  problems.push(
    ...resolveSamlSettings(samlSettingsOf(env)).problems.map(
      (problem) => `  - ${problem.replace(/^[A-Za-z]+/, (name) => SAML_VARIABLES[name as keyof SamlSettings] ?? name)}`,
    ),
  );
  const memory = env.IAM_PASSWORD_HASH_MEMORY_KIB;
  const passes = env.IAM_PASSWORD_HASH_TIME_COST;
  const hashProblem = passwordHashProblem(memory, passes, env.IAM_PASSWORD_HASH_PARALLELISM, env.NODE_ENV === 'test');
  if (hashProblem === 'lanes') {
    problems.push(
      '  - IAM_PASSWORD_HASH_MEMORY_KIB: argon2 needs at least 8 KiB per lane (IAM_PASSWORD_HASH_PARALLELISM)',
    );
  } else if (hashProblem === 'below-floor') {
    problems.push(
      `  - IAM_PASSWORD_HASH_MEMORY_KIB, IAM_PASSWORD_HASH_TIME_COST: ${memory} KiB × ${passes} passes is below ` +
        "OWASP's minimum for argon2id (19456 KiB × 2, 47104 KiB × 1, or memory ≥ 7168 KiB with memory × passes ≥ 35840)",
    );
  }
  return problems;
}

export function validateEnvironment(config: Record<string, unknown>): EnvironmentVariables {
  // An empty value (`IAM_BOOTSTRAP_TOKEN=` in a .env file) means "not set".
  const present = Object.fromEntries(Object.entries(config).filter(([, v]) => v !== ''));
  const validated = plainToInstance(EnvironmentVariables, present, { exposeDefaultValues: true });
  const errors = validateSync(validated, { skipMissingProperties: false });
  if (errors.length > 0) {
    const lines = errors.map(
      (e) =>
        `  - ${e.property}: ${Object.values(e.constraints ?? {}).join('; ')} ` +
        (SECRET_VARIABLES.has(e.property)
          ? '(value not shown: it may hold a secret)'
          : `(got ${JSON.stringify(e.value)})`),
    );
    throw new ConfigurationError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const problems = crossFieldProblems(validated);
  if (problems.length > 0) {
    throw new ConfigurationError(`Invalid configuration:\n${problems.join('\n')}`);
  }
  return validated;
}
