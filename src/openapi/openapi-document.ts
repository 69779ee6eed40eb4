import type { INestApplication } from '@nestjs/common';
import {
  DocumentBuilder,
  type OpenAPIObject,
  SwaggerModule,
  type ExampleObject,
  type HeaderObject,
  type OperationObject,
  type ParameterObject,
  type PathItemObject,
  type ReferenceObject,
  type ResponseObject,
  type SchemaObject,
} from '@nestjs/swagger';
import { SESSION_COOKIE_SECURITY } from '../auth/access.decorators.js';
import { IAM_ACTIONS } from '../auth/actions.js';
import { RESOURCE_TYPES } from '../auth/policy.js';
import { ERROR_TYPE_BY_STATUS } from '../common/api-error.js';
import { RETRY_AFTER_SECONDS } from '../common/api-exception.filter.js';
import { REQUEST_ID_HEADER } from '../common/request-id.js';
import { STORABLE_TEXT_PATTERN } from '../common/validators.js';
import { DEFAULT_SESSION_COOKIE } from '../sessions/session-cookie.js';
import { HealthModule } from '../health/health.module.js';
import { IAM_FEATURE_MODULES } from '../iam.module.js';

export interface IamDocumentOptions {
  /** Where the IAM's routes are mounted (`api/v1`); the document's paths carry it. */
  routePrefix: string;
  /** The `servers` of the document; by default the server the document is served from (`/`). */
  servers?: { url: string; description?: string }[];
}

/**
 * The OpenAPI document of the IAM's routes, as the server behaves: Nest's document from the controllers and
 * DTOs (the @nestjs/swagger plugin reads the validation decorators), then the parts decorators cannot say
 * (see finishDocument).
 */
export function createIamDocument(app: INestApplication, options: IamDocumentOptions): OpenAPIObject {
  const prefix = `/${options.routePrefix.replace(/^\/+|\/+$/g, '')}`.replace(/\/$/, '');
  const builder = new DocumentBuilder()
    .setTitle('IAM service')
    .setDescription(
      'Users, profiles, groups, roles, settings, sessions and service accounts, following the Lenses HQ IAM API, ' +
        'and the audit trail of every change, sign-in and refusal. ' +
        'Every operation names the action it needs (e.g. `iam:CreateUser` on `iam:user:<name>`). ' +
        'Authenticate with `Authorization: Bearer <service-account token>`, or sign in with ' +
        `\`POST ${prefix}/login\`: the browser then sends the \`${DEFAULT_SESSION_COOKIE}\` cookie itself. Every error has ` +
        'the body described by `ErrorResponseDto`, and every answer carries `X-Request-Id`.',
    )
    .setVersion('1')
    .setLicense('UNLICENSED', 'https://en.wikipedia.org/wiki/Proprietary_software')
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'opaque (iamsa_…)',
        description:
          'A service-account token: an opaque string `iamsa_` followed by 46 letters and digits, shown once when ' +
          'the account is created or its token renewed (only its hash is stored). Not a JWT: it carries nothing ' +
          'a client can read.',
      },
      'bearer',
    )
    .addCookieAuth(
      DEFAULT_SESSION_COOKIE,
      {
        type: 'apiKey',
        in: 'cookie',
        name: DEFAULT_SESSION_COOKIE,
        description:
          `The session cookie. Do not type it here: a browser never sends a Cookie header that a script set. Sign ` +
          `in instead with \`POST ${prefix}/login\` (Try it out, in this page), and the browser sends the ` +
          `\`${DEFAULT_SESSION_COOKIE}\` cookie itself with every later request. Other clients send the cookie that ` +
          'login set (`Set-Cookie`).',
      },
      SESSION_COOKIE_SECURITY,
    );
  for (const server of options.servers ?? [{ url: '/', description: 'This server' }]) {
    builder.addServer(server.url, server.description);
  }
  // The IAM's own routes only: in a host, the host's routes are not the IAM's to document.
  const document = SwaggerModule.createDocument(app, builder.build(), {
    operationIdFactory,
    include: [...IAM_FEATURE_MODULES, HealthModule],
  });
  return finishDocument(document, prefix);
}

/** The document as `npm run openapi` writes it: 2-space indent, a trailing newline, keys in a stable order. */
export function serializeDocument(document: OpenAPIObject): string {
  return `${JSON.stringify(stableOrder(document), null, 2)}\n`;
}

// ---------------------------------------------------------------------------------------------------------
// operationIds

const OPERATION_IDS: Record<string, string> = {
  'UsersController.me': 'getCurrentUser',
  'UsersController.unlock': 'unlockUser',
  'UsersController.setGroups': 'setUserGroups',
  'ProfilesController.update': 'updateUserProfile',
  'RolesController.appendStatement': 'appendRolePolicyStatement',
  'ServiceAccountsController.setGroups': 'setServiceAccountGroups',
  'ServiceAccountsController.renewToken': 'renewServiceAccountToken',
  'LoginController.login': 'login',
  'SessionsController.logout': 'logout',
  'SessionsController.endAll': 'endOwnSessions',
  'SessionsController.listOwn': 'listOwnSessions',
  'SessionsController.endOwn': 'endOwnSession',
  'SessionsController.listOfUser': 'listUserSessions',
  'SessionsController.endAllOfUser': 'endUserSessions',
  'SessionsController.endOneOfUser': 'endUserSession',
  'PasswordsController.changeOwn': 'changeOwnPassword',
  'PasswordsController.set': 'setUserPassword',
  'SettingsController.get': 'getOwnSettings',
  'SettingsController.update': 'updateOwnSettings',
  'HealthController.check': 'checkHealth',
};

/**
 * `listUsers`, `createUser`, `getUser`, …: the method's verb and the controller's noun (plural for `list`),
 * or a name from OPERATION_IDS where that rule reads badly.
 */
function operationIdFactory(controllerKey: string, methodKey: string): string {
  const named = OPERATION_IDS[`${controllerKey}.${methodKey}`];
  if (named !== undefined) {
    return named;
  }
  const plural = controllerKey.replace(/Controller$/, '');
  const singular = plural.replace(/s$/, '');
  return methodKey === 'list' ? `list${plural}` : `${methodKey}${singular}`;
}

// ---------------------------------------------------------------------------------------------------------
// Post-processing

const ERROR_SCHEMA: ReferenceObject = { $ref: '#/components/schemas/ErrorResponseDto' };
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
const EXAMPLE_REQUEST_ID = '3f6c1f7e-1d9e-4a55-8d0e-4a3f6b1c2d3e';

const DEFAULT_ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request: the body or a path parameter does not follow the rules (`invalid_fields` says which)',
  401: 'Missing, invalid or expired credentials',
  403: 'The caller may not do this',
  404: 'No such resource',
  409: 'Conflicts with the current state',
  413: 'The request body is larger than the limit (BODY_LIMIT, 100kb by default)',
  415: 'The request body is not JSON (`Content-Type: application/json`, UTF-8)',
  429: 'Too many requests; `Retry-After` says when to try again',
  500: 'Unexpected error (logged with its stack, never shown)',
  503: 'The database (or the rate-limit store) cannot serve the request now; `Retry-After` says when to retry',
};

interface OperationContext {
  path: string;
  method: string;
  op: OperationObject;
  /** The resource kind named by the first path segment after the prefix (`user`, `group`, …). */
  noun: string;
}

const NOUNS: Record<string, string> = {
  users: 'user',
  groups: 'group',
  roles: 'role',
  'service-accounts': 'service account',
  'audit-events': 'audit event',
};

const EXAMPLE_EVENT_ID = '01980b6e-6f1a-7c3e-9d2b-4f5a6b7c8d9e';
const INVALID_EVENT_ID = 'id must be a UUID (an audit event id)';

/**
 * What decorators cannot say, for every operation: the error statuses it can answer with (each with an
 * example of that status), the response headers, `security: []` on public operations, path parameter
 * descriptions; and the request-body rules that are not one property's (closed objects, exclusive fields,
 * no NUL).
 */
function finishDocument(document: OpenAPIObject, prefix: string): OpenAPIObject {
  // Filled while the operations are finished, then moved into this document's components.
  SHARED_EXAMPLES = {};
  SHARED_RESPONSES = {};
  for (const [path, item] of Object.entries<PathItemObject>(document.paths)) {
    for (const method of HTTP_METHODS) {
      const op = item[method];
      if (op === undefined) {
        continue;
      }
      const segment = path.startsWith(`${prefix}/`) ? path.slice(prefix.length + 1).split('/')[0] : '';
      const context: OperationContext = { path, method, op, noun: NOUNS[segment] ?? 'resource' };
      op.security ??= []; // no credentials needed (Nest leaves the key out)
      describePathParameters(context);
      addErrorResponses(context, prefix);
      addResponseHeaders(op);
    }
  }
  finishRequestSchemas(document);
  finishResponseSchemas(document);
  document.components = {
    ...document.components,
    responses: SHARED_RESPONSES,
    headers: HEADERS,
    examples: SHARED_EXAMPLES,
  };
  return document;
}

function describePathParameters({ path, op, noun }: OperationContext): void {
  for (const parameter of (op.parameters ?? []) as ParameterObject[]) {
    if (parameter.in !== 'path') {
      continue;
    }
    if (parameter.name === 'id') {
      parameter.description ??= path.includes('/sessions/')
        ? 'The session id: `id` in the list of sessions (a UUID; never the cookie).' // SessionIdPipe
        : `The ${noun}'s id (a UUID).`;
      parameter.schema = { type: 'string', format: 'uuid' };
      continue;
    }
    parameter.description ??=
      noun === 'user'
        ? 'The user name, compared without regard to case and Unicode form (width, NFC); `me` is the signed-in user' +
          (path.endsWith('/profile') ? '.' : ' only where the path says so.')
        : `The ${noun} name, compared without regard to case.`;
    parameter.schema = { type: 'string', minLength: 1, pattern: STORABLE_TEXT_PATTERN };
  }
}

function errorStatusesOf({ path, method, op }: OperationContext, prefix: string): number[] {
  const statuses = new Set(
    Object.keys(op.responses)
      .map(Number)
      .filter((status) => status >= 400),
  );
  if ((op.security ?? []).length > 0) {
    // Credentials missing or wrong; not allowed; too many failed credentials from the address.
    [401, 403, 429].forEach((status) => statuses.add(status));
  }
  if (((op.parameters ?? []) as ParameterObject[]).some((p) => p.in === 'path')) {
    // A NUL in a path parameter; no such resource.
    [400, 404].forEach((status) => statuses.add(status));
  }
  if (path.startsWith(`${prefix}/`) && method !== 'get') {
    statuses.add(403); // a state-changing request sent by a page of another site
  }
  // Every route reads a request body when one is sent (JsonBodyMiddleware): not JSON, too large, malformed.
  // Then anything unexpected, and a database that cannot answer.
  [400, 413, 415, 500, 503].forEach((status) => statuses.add(status));
  return [...statuses].sort((a, b) => a - b);
}

/** Error responses that many operations share, kept once under components.responses. */
let SHARED_RESPONSES: Record<string, ResponseObject> = {};

function addErrorResponses(context: OperationContext, prefix: string): void {
  const { op } = context;
  const responses: OperationObject['responses'] = {};
  for (const [status, response] of Object.entries(op.responses)) {
    if (Number(status) < 400) {
      responses[status] = response;
    }
  }
  for (const status of errorStatusesOf(context, prefix)) {
    const existing = op.responses[String(status)] as ResponseObject | undefined;
    const examples = errorExamples(status, context);
    if (Object.keys(examples).length === 0) {
      continue; // no way to get it here (a list answers what the caller may see, never 403)
    }
    const bodyless = op.requestBody === undefined && [400, 413, 415].includes(status);
    const description =
      existing?.description ||
      (bodyless && Object.keys(examples).length === 1
        ? `A request body was sent (this operation takes none): ${BODYLESS_DESCRIPTIONS[status]}`
        : DEFAULT_ERROR_DESCRIPTIONS[status]);
    const response: ResponseObject = {
      description,
      headers: errorHeaders(status),
      content: { 'application/json': { schema: ERROR_SCHEMA, examples } },
    };
    const names = Object.values(examples).map((example) =>
      '$ref' in example ? example.$ref.replace('#/components/examples/', '') : null,
    );
    if (
      (existing?.description && existing.description !== DEFAULT_ERROR_DESCRIPTIONS[status]) ||
      names.includes(null)
    ) {
      responses[String(status)] = response;
    } else {
      const name = names.join('Or');
      SHARED_RESPONSES[name] ??= response;
      responses[String(status)] = { $ref: `#/components/responses/${name}` };
    }
  }
  op.responses = responses;
}

const BODYLESS_DESCRIPTIONS: Record<number, string> = {
  400: 'it is not a JSON object',
  413: 'it is larger than the limit (BODY_LIMIT, 100kb by default)',
  415: 'it is not JSON',
};

const errorBody = (status: number, title: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  type: ERROR_TYPE_BY_STATUS[status],
  title,
  status,
  ...extra,
  request_id: EXAMPLE_REQUEST_ID,
});

type Example = ExampleObject | ReferenceObject;

/** Examples used by many operations, kept once under components.examples. */
let SHARED_EXAMPLES: Record<string, ExampleObject> = {};

function shared(
  name: string,
  summary: string,
  status: number,
  title: string,
  extra?: Record<string, unknown>,
): Example {
  SHARED_EXAMPLES[name] ??= { summary, value: errorBody(status, title, extra) };
  return { $ref: `#/components/examples/${name}` };
}

const NUL_IN_PATH =
  'Path parameter name contains a NUL character or an unpaired UTF-16 surrogate, which cannot be stored';
const INVALID_SESSION_ID = 'id must be a session id: a UUID from the list of sessions';

/** Realistic bodies of `status` for the operation, as ApiExceptionFilter writes them. */
function errorExamples(status: number, { op, noun, method, path }: OperationContext): Record<string, Example> {
  const action = /`(iam:[A-Za-z]+)` on `([^`]+)`/.exec(op.description ?? '');
  switch (status) {
    case 400:
      return {
        ...(op.requestBody === undefined
          ? { not_json: shared('InvalidJson', 'The body is not JSON', 400, 'Request body is not valid JSON') }
          : {
              validation: shared(
                'ValidationFailed',
                'A field breaks its rule',
                400,
                'Invalid request: unknown is not a known field',
                {
                  invalid_fields: [{ name: 'unknown', error: 'unknown_field', title: 'unknown is not a known field' }],
                },
              ),
              not_json: shared('InvalidJson', 'The body is not JSON', 400, 'Request body is not valid JSON'),
            }),
        ...(path.includes('{id}')
          ? {
              invalid_id: shared('InvalidAuditEventId', 'An id that is not a UUID', 400, INVALID_EVENT_ID, {
                invalid_fields: [{ name: 'id', error: 'invalid_format', title: INVALID_EVENT_ID }],
              }),
            }
          : {}),
        ...(path.includes('{name}')
          ? {
              path_parameter: shared(
                'UnstorablePathParameter',
                'A path parameter that cannot be stored',
                400,
                NUL_IN_PATH,
                {
                  invalid_fields: [{ name: 'name', error: 'invalid_value', title: NUL_IN_PATH }],
                },
              ),
            }
          : {}),
        ...(path.includes('{id}')
          ? {
              session_id: shared('InvalidSessionId', 'An id that is not a session id', 400, INVALID_SESSION_ID, {
                invalid_fields: [{ name: 'id', error: 'invalid_format', title: INVALID_SESSION_ID }],
              }),
            }
          : {}),
      };
    case 401:
      return {
        missing: shared(
          'Unauthenticated',
          'No credentials',
          401,
          'Authentication required: send a bearer token or a session cookie',
        ),
        ...(op.operationId === 'login'
          ? { wrong: shared('InvalidLogin', 'Wrong user name or password', 401, 'Invalid username or password') }
          : {
              expired: shared('SessionExpired', 'An ended or expired session', 401, 'Session expired: sign in again'),
            }),
      };
    case 403:
      return {
        ...(action
          ? {
              not_allowed: {
                summary: 'No grant for the action',
                value: errorBody(403, `Not allowed: ${action[1]} on ${action[2].replace(/[{<][a-z_]+[}>]/, 'alice')}`),
              },
            }
          : /Self-service/.test(op.description ?? '')
            ? {
                service_account: shared(
                  'SelfServiceOnly',
                  'A service account',
                  403,
                  'This endpoint is for signed-in users; a service account has no /users/me',
                ),
              }
            : {}),
        ...(method !== 'get'
          ? {
              cross_site: shared(
                'CrossSite',
                'Sent by a page of another site',
                403,
                `Cross-site request refused: a cross-site page may not send ${method.toUpperCase()} requests with the session cookie`,
              ),
            }
          : {}),
      };
    case 404:
      return {
        ...(path.includes('/sessions/{id}')
          ? {}
          : {
              not_found: shared(
                `${pascal(noun)}NotFound`,
                `No such ${noun}`,
                404,
                `${capitalise(noun)} "${path.includes('{id}') ? EXAMPLE_EVENT_ID : 'alice'}" not found`,
              ),
            }),
        ...(path.includes('/sessions/{id}')
          ? {
              ...(path.includes('{name}')
                ? {
                    not_found: shared(
                      `${pascal(noun)}NotFound`,
                      `No such ${noun}`,
                      404,
                      `${capitalise(noun)} "alice" not found`,
                    ),
                  }
                : {}),
              session_not_found: shared(
                'SessionNotFound',
                'Not one of the user’s sessions (or already ended)',
                404,
                'Session not found',
              ),
            }
          : {}),
      };
    case 409:
      return {
        ...(method === 'post' && !path.includes('{')
          ? {
              name_taken: shared(
                `${pascal(noun)}NameTaken`,
                'The name is taken',
                409,
                noun === 'user'
                  ? 'A user named "alice" already exists (names are compared without regard to case)'
                  : `A ${noun} named "alice" already exists`,
              ),
            }
          : {}),
        concurrent: shared(
          'ConcurrentChange',
          'A concurrent request changed what this one refers to',
          409,
          'The request collided with a concurrent change: retry',
        ),
      };
    case 413:
      return { too_large: shared('PayloadTooLarge', 'Body over the limit', 413, 'Request body is larger than 100kb') };
    case 415:
      return {
        not_json: shared(
          'UnsupportedMediaType',
          'Not JSON',
          415,
          'Request body must be JSON (Content-Type: application/json)',
        ),
      };
    case 429:
      return {
        too_many: shared(
          'TooManyFailedCredentials',
          'Too many failed credentials from this address',
          429,
          'Too many failed credentials from this address: try again in 60 s',
        ),
      };
    case 500:
      return { internal: shared('Internal', 'Unexpected error', 500, 'Internal server error') };
    case 503:
      return path === '/health'
        ? {
            unhealthy: shared('Unhealthy', 'A check failed', 503, 'Unhealthy: database', {
              failed_checks: ['database'],
            }),
          }
        : {
            database: shared(
              'DatabaseUnavailable',
              'The database is unavailable',
              503,
              'The database is unavailable: retry later',
            ),
          };
    default:
      return {};
  }
}

const capitalise = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
const pascal = (text: string) => text.split(' ').map(capitalise).join('');

const HEADERS: Record<string, HeaderObject> = {
  [REQUEST_ID_HEADER]: {
    description:
      'The id of this request, in the logs and in `request_id` of an error body: the `X-Request-Id` sent ' +
      '(1–128 of `A–Z a–z 0–9 . _ : -`), or a new UUID.',
    schema: { type: 'string', maxLength: 128, example: EXAMPLE_REQUEST_ID },
  },
  'WWW-Authenticate': {
    description: 'The authentication scheme to use.',
    schema: { type: 'string', example: 'Bearer realm="iam"' },
  },
  'Retry-After': {
    description: 'Seconds to wait before retrying.',
    schema: { type: 'integer', minimum: 1, example: RETRY_AFTER_SECONDS },
  },
};

const headerRef = (name: string): ReferenceObject => ({ $ref: `#/components/headers/${name}` });

function errorHeaders(status: number): Record<string, ReferenceObject> {
  return {
    [REQUEST_ID_HEADER]: headerRef(REQUEST_ID_HEADER),
    ...(status === 401 ? { 'WWW-Authenticate': headerRef('WWW-Authenticate') } : {}),
    ...(status === 429 || status === 503 ? { 'Retry-After': headerRef('Retry-After') } : {}),
  };
}

/** X-Request-Id on the answers that are not errors (errorHeaders has the errors'). */
function addResponseHeaders(op: OperationObject): void {
  for (const [status, response] of Object.entries(op.responses) as [string, ResponseObject | ReferenceObject][]) {
    if (Number(status) < 400 && !('$ref' in response)) {
      response.headers = {
        ...response.headers,
        ...errorHeaders(Number(status)),
      };
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Schemas

/** The request-body schemas and those they refer to. */
function requestSchemaNames(document: OpenAPIObject): Set<string> {
  const names = new Set<string>();
  const schemas = document.components?.schemas ?? {};
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(visit);
    } else if (typeof node === 'object' && node !== null) {
      const ref = (node as ReferenceObject).$ref;
      if (typeof ref === 'string') {
        const name = ref.replace('#/components/schemas/', '');
        if (!names.has(name)) {
          names.add(name);
          visit(schemas[name]);
        }
      }
      Object.values(node).forEach(visit);
    }
  };
  for (const item of Object.values<PathItemObject>(document.paths)) {
    for (const method of HTTP_METHODS) {
      visit(item[method]?.requestBody);
    }
  }
  return names;
}

/** Every action a policy statement may name: `*`, `iam:*` and the catalogue. */
const ACTION_ENUM = ['*', 'iam:*', ...IAM_ACTIONS];
/** `text` matched without regard to case (`iam` → `[iI][aA][mM]`), as policy.ts reads services and types. */
const anyCase = (text: string) => text.replace(/[a-z]/g, (letter) => `[${letter}${letter.toUpperCase()}]`);
/** policy.ts isValidResourcePattern: `*`, `iam:*`, or `iam:<type or *>:<1–200 characters, no space or control>`. */
const RESOURCE_PATTERN =
  `^(?:\\*|${anyCase('iam')}:\\*|${anyCase('iam')}:(?:${[...RESOURCE_TYPES.map(anyCase), '\\*'].join('|')}):` +
  '[^\\s\\u0000-\\u001f\\u007f-\\u009f]{1,200})$';

/** One set of these, and none of `others` (`set_groups` alone, or `add_…`/`remove_…`). */
function exclusive(alone: string, others: string[]): SchemaObject {
  return {
    oneOf: [
      { required: [alone], not: { anyOf: others.map((name) => ({ required: [name] })) } },
      { not: { required: [alone] } },
    ],
  };
}

function finishRequestSchemas(document: OpenAPIObject): void {
  const schemas = (document.components?.schemas ?? {}) as Record<string, SchemaObject>;
  for (const name of requestSchemaNames(document)) {
    const schema = schemas[name];
    if (schema === undefined || schema.type !== 'object') {
      continue;
    }
    // ValidationPipe({ whitelist, forbidNonWhitelisted }): an unknown key is a 400.
    schema.additionalProperties = false;
    for (const property of Object.values(schema.properties ?? {}) as SchemaObject[]) {
      forbidNul(property);
    }
  }
  Object.assign(schemas.SetGroupsDto ?? {}, exclusive('set_groups', ['add_to_groups', 'remove_from_groups']));
  Object.assign(schemas.UpdateGroupDto ?? {}, exclusive('set_members', ['add_members', 'remove_members']));
  const statement = schemas.PolicyStatementDto?.properties as Record<string, SchemaObject> | undefined;
  if (statement) {
    const list = (item: SchemaObject): SchemaObject => ({
      oneOf: [item, { type: 'array', items: item, minItems: 1, maxItems: 50 }],
    });
    statement.action = {
      ...list({ type: 'string', enum: ACTION_ENUM }),
      description: statement.action.description,
      example: statement.action.example as unknown,
    };
    statement.resource = {
      ...list({ type: 'string', maxLength: 300, pattern: RESOURCE_PATTERN }),
      description: statement.resource.description,
      example: statement.resource.example as unknown,
    };
  }
}

/**
 * UNSTORABLE_TEXT as a `pattern` on a string (or the strings of an array or map) without a pattern of its own.
 * A property whose alternatives are in `oneOf` keeps its constraints there only.
 */
function forbidNul(schema: SchemaObject): void {
  if (schema.oneOf !== undefined) {
    for (const key of ['type', 'format', 'maxLength', 'minLength', 'pattern', 'nullable'] as const) {
      delete schema[key];
    }
    schema.oneOf.forEach((option) => '$ref' in option || forbidNul(option));
    return;
  }
  if (
    schema.type === 'string' &&
    schema.pattern === undefined &&
    schema.enum === undefined &&
    schema.format === undefined
  ) {
    schema.pattern = STORABLE_TEXT_PATTERN;
  }
  if (schema.items !== undefined && !('$ref' in schema.items)) {
    forbidNul(schema.items);
  }
  if (typeof schema.additionalProperties === 'object' && !('$ref' in schema.additionalProperties)) {
    forbidNul(schema.additionalProperties);
  }
}

/** Formats the response DTOs imply by their names: times are date-times, ids UUIDs, counts integers. */
function finishResponseSchemas(document: OpenAPIObject): void {
  for (const schema of Object.values(document.components?.schemas ?? {}) as SchemaObject[]) {
    for (const [name, property] of Object.entries(schema.properties ?? {}) as [string, SchemaObject][]) {
      if (property.type === 'string' && name.endsWith('_at')) {
        property.format ??= 'date-time';
      }
      if (property.type === 'string' && name === 'id') {
        property.format ??= 'uuid';
      }
      if (property.type === 'number' && (name.endsWith('_count') || name.endsWith('_length') || name === 'status')) {
        property.type = 'integer';
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Serialisation

const TOP_LEVEL = ['openapi', 'info', 'servers', 'tags', 'paths', 'components', 'security', 'externalDocs'];

/** Top-level keys in the usual order; paths, methods and component names sorted; the rest as generated. */
function stableOrder(document: OpenAPIObject): Record<string, unknown> {
  const sorted = <T>(record: Record<string, T>, order?: readonly string[]): Record<string, T> =>
    Object.fromEntries(
      Object.entries(record).sort(([a], [b]) =>
        order ? rank(order, a) - rank(order, b) || a.localeCompare(b) : a < b ? -1 : a > b ? 1 : 0,
      ),
    );
  const paths = Object.fromEntries(
    Object.entries(sorted(document.paths)).map(([path, item]) => [
      path,
      sorted(item as Record<string, unknown>, HTTP_METHODS),
    ]),
  );
  const components = Object.fromEntries(
    Object.entries(document.components ?? {}).map(([kind, entries]) => [
      kind,
      sorted(entries as Record<string, unknown>),
    ]),
  );
  return sorted({ ...document, paths, components }, TOP_LEVEL);
}

function rank(order: readonly string[], key: string): number {
  const index = order.indexOf(key);
  return index === -1 ? order.length : index;
}
