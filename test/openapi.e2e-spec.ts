import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { IAM_ACTIONS } from '../src/auth/actions.js';
import { ERROR_TYPE_BY_STATUS } from '../src/common/api-error.js';
import { ADMIN_TOKEN, createTestApp, type TestApp } from './utils/create-app.js';
import { adminAuth, createUser, signedInUser, uniqueName } from './utils/fixtures.js';
import { ensureBuilt } from './utils/service-process.js';

interface Ref {
  $ref?: string;
}
interface Example extends Ref {
  summary?: string;
  value?: { type?: string; title?: string; status?: number; request_id?: string; failed_checks?: string[] };
}
interface Response extends Ref {
  description?: string;
  headers?: Record<string, Ref & { description?: string }>;
  content?: Record<string, { schema: Ref; examples?: Record<string, Example> }>;
}
interface Parameter {
  name: string;
  in: string;
  description?: string;
}
interface Operation {
  operationId?: string;
  summary?: string;
  description?: string;
  security?: Record<string, unknown>[];
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: { $ref?: string } }> };
  responses: Record<string, Response>;
}
interface Schema {
  type?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  enum?: string[];
  nullable?: boolean;
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  items?: Schema;
  oneOf?: (Schema & Ref)[];
  not?: Schema;
  anyOf?: Schema[];
  required?: string[];
}
interface OpenApiDoc {
  servers?: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: {
    schemas: Record<string, Schema>;
    responses: Record<string, Response>;
    examples: Record<string, Example>;
    headers: Record<string, unknown>;
    securitySchemes: Record<string, { type: string; in?: string; bearerFormat?: string; description?: string }>;
  };
}

/** The public sign-in operations: POST /login, GET /login/methods and single sign-on's. */
/** The public sign-in routes: /login and its single sign-on, and the SAML service provider's metadata. */
const isSignInPath = (path: string) =>
  path === '/api/v1/login' || path.startsWith('/api/v1/login/') || path === '/api/v1/saml/metadata';
describe('OpenAPI document', () => {
  let t: TestApp;
  let doc: OpenApiDoc;
  /** openapi.json as `npm run openapi` writes it from the code now (built by `nest build`, as in production). */
  let produced: string;
  beforeAll(async () => {
    t = await createTestApp('sqlite');
    // ts-jest's build of the swagger plugin does not resolve types across files (response DTOs come out as bare
    // objects), so the document is taken from the real build: the one `npm start` serves.
    await ensureBuilt();
    const dir = mkdtempSync(join(tmpdir(), 'iam-openapi-test-'));
    try {
      const script = join(process.cwd(), 'dist', 'src', 'openapi', 'write-openapi.js');
      await promisify(execFile)(process.execPath, [script, join(dir, 'openapi.json')], { timeout: 120_000 });
      produced = readFileSync(join(dir, 'openapi.json'), 'utf8');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    doc = JSON.parse(produced) as OpenApiDoc;
  }, 600_000);
  afterAll(() => t.close());

  const operations = () =>
    Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ path, method, op })),
    );
  const operation = (path: string, method: string) => doc.paths[path][method];
  /** A `#/components/<kind>/<name>` reference, followed. */
  const resolve = <T extends Ref>(node: T): T => {
    if (node.$ref === undefined) {
      return node;
    }
    const [, , kind, name] = node.$ref.split('/');
    return (doc.components as unknown as Record<string, Record<string, T>>)[kind][name];
  };
  const response = (op: Operation, status: number) => resolve(op.responses[String(status)] ?? {});
  /** The `type`s of the documented examples of `status` for the operation. */
  const documentedTypes = (op: Operation, status: number) =>
    Object.values(response(op, status).content?.['application/json']?.examples ?? {}).map(
      (example) => resolve(example).value?.type,
    );
  const isList = (op: Operation) => /^list[A-Z]/.test(op.operationId ?? '');

  it('serves the document at /docs-json', async () => {
    const served = (await t.http().get('/docs-json').expect(200)).body as OpenApiDoc;
    expect(Object.keys(served.paths).sort()).toEqual(Object.keys(doc.paths).sort());
    expect(served.components.securitySchemes).toEqual(doc.components.securitySchemes);
  });

  it('serves Swagger UI at /docs', async () => {
    const res = await t.http().get('/docs/').redirects(1);
    expect(res.status).toBe(200);
    expect(res.text).toContain('swagger-ui');
  });

  it('serves it with a CSP that works over plain HTTP (no upgrade-insecure-requests) and keeps the token', async () => {
    const res = await t.http().get('/docs/').redirects(1).expect(200);
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).not.toContain('upgrade-insecure-requests');
    const init = await t.http().get('/docs/swagger-ui-init.js').expect(200);
    expect(init.text).toMatch(/"persistAuthorization":\s*true/);
  });

  it('documents every endpoint of the Users API', () => {
    const listed = operations().map(({ path, method }) => `${method.toUpperCase()} ${path}`);
    expect(listed).toEqual(
      expect.arrayContaining([
        'GET /api/v1/users',
        'POST /api/v1/users',
        'GET /api/v1/users/{name}',
        'PATCH /api/v1/users/{name}',
        'DELETE /api/v1/users/{name}',
        'PATCH /api/v1/users/{name}/profile',
        'PUT /api/v1/users/{name}/groups',
        'GET /api/v1/users/me',
        'GET /api/v1/users/me/settings',
        'PATCH /api/v1/users/me/settings',
        'DELETE /api/v1/users/me/sessions',
        'GET /api/v1/users/me/sessions',
        'DELETE /api/v1/users/me/sessions/{id}',
        'GET /api/v1/users/{name}/sessions',
        'DELETE /api/v1/users/{name}/sessions',
        'DELETE /api/v1/users/{name}/sessions/{id}',
        'POST /api/v1/login',
        'PUT /api/v1/users/{name}/password',
        'PUT /api/v1/users/me/password',
        'POST /api/v1/groups',
        'GET /api/v1/groups',
        'GET /api/v1/groups/{name}',
        'DELETE /api/v1/groups/{name}',
        'PATCH /api/v1/groups/{name}',
        'GET /api/v1/service-accounts',
        'POST /api/v1/service-accounts',
        'GET /api/v1/service-accounts/{name}',
        'PATCH /api/v1/service-accounts/{name}',
        'DELETE /api/v1/service-accounts/{name}',
        'PUT /api/v1/service-accounts/{name}/groups',
        'POST /api/v1/service-accounts/{name}/renew-token',
        'GET /api/v1/roles',
        'POST /api/v1/roles',
        'GET /api/v1/roles/{name}',
        'PATCH /api/v1/roles/{name}',
        'DELETE /api/v1/roles/{name}',
        'POST /api/v1/roles/{name}/policy',
      ]),
    );
  });

  it('names the required action in the description of every protected operation', () => {
    for (const { path, method, op } of operations()) {
      if (!path.startsWith('/api/v1') || isSignInPath(path)) {
        continue;
      }
      const described = /`iam:[A-Za-z]+`/.test(op.description ?? '') || /Self-service/.test(op.description ?? '');
      expect({ path, method, described }).toEqual({ path, method, described: true });
    }
  });

  it('gives every operation a summary, and every protected one its security and 401/403 answers', () => {
    for (const { path, method, op } of operations()) {
      expect({ path, method, summary: typeof op.summary }).toEqual({ path, method, summary: 'string' });
      if (path.startsWith('/api/v1') && !isSignInPath(path)) {
        expect({ path, method, security: op.security }).toEqual({
          path,
          method,
          security: expect.arrayContaining([{ bearer: [] }, { session_cookie: [] }]),
        });
        // A list answers what the caller may see (maybe nothing), never 403.
        expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(isList(op) ? ['401'] : ['401', '403']));
      }
    }
  });

  it('declares the bearer and cookie security schemes', () => {
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http' });
    expect(doc.components.securitySchemes.session_cookie).toMatchObject({ type: 'apiKey', in: 'cookie' });
  });

  it('carries the validation constraints in the request schemas', () => {
    const create = doc.components.schemas.CreateUserDto;
    expect(create.required).toEqual(['name']);
    expect(create.properties?.name).toMatchObject({ minLength: 1, maxLength: 100 });
    expect(create.properties?.display_name).toMatchObject({ minLength: 1, maxLength: 150 });
    expect(doc.components.schemas.CreateGroupDto.properties?.name).toMatchObject({ minLength: 1, maxLength: 63 });
    expect(doc.components.schemas.UpdateProfileDto.properties?.email_address?.oneOf?.[0]).toMatchObject({
      maxLength: 100,
    });
    for (const dto of ['CreateServiceAccountDto', 'RenewTokenDto']) {
      const schema = doc.components.schemas[dto];
      expect({ dto, expiry: schema.properties?.token_expires_at }).toEqual({
        dto,
        expiry: expect.objectContaining({ type: 'string', format: 'date-time' }),
      });
      expect(schema.required ?? []).not.toContain('token_expires_at');
    }
    for (const dto of ['CreateRoleDto', 'UpdateRoleDto']) {
      const policy = doc.components.schemas[dto].properties?.policy as { items?: { $ref?: string } } | undefined;
      expect({ dto, items: policy?.items }).toEqual({
        dto,
        items: { $ref: '#/components/schemas/PolicyStatementDto' },
      });
    }
  });

  it('describes error responses with the one error body', () => {
    const post = doc.paths['/api/v1/users'].post;
    expect(response(post, 400).content?.['application/json'].schema.$ref).toBe('#/components/schemas/ErrorResponseDto');
    expect(Object.keys(doc.components.schemas.ErrorResponseDto.properties ?? {})).toEqual(
      expect.arrayContaining(['type', 'title', 'status', 'invalid_fields', 'request_id']),
    );
  });
  it('is the committed openapi.json (run `npm run openapi` after changing the API)', () => {
    const committed = readFileSync(join(process.cwd(), 'openapi.json'), 'utf8');
    if (committed !== produced) {
      throw new Error('openapi.json differs from what the code produces: run `npm run openapi` and commit it');
    }
  });

  it('names every operation verb+noun, camelCase and unique', () => {
    const ids = operations().map(({ op }) => op.operationId);
    for (const id of ids) {
      expect(id).toMatch(/^[a-z]+(?:[A-Z][a-z]+)*$/);
    }
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(
      expect.arrayContaining([
        'listUsers',
        'createUser',
        'getUser',
        'updateUser',
        'deleteUser',
        'getCurrentUser',
        'listGroups',
        'createGroup',
        'listRoles',
        'listServiceAccounts',
        'renewServiceAccountToken',
        'login',
        'checkHealth',
      ]),
    );
    expect(operation('/api/v1/users', 'get').operationId).toBe('listUsers');
    expect(operation('/api/v1/users/{name}', 'delete').operationId).toBe('deleteUser');
  });

  it('gives every error status of every operation examples of that status, with the error body and its headers', () => {
    for (const { path, method, op } of operations()) {
      const statuses = Object.keys(op.responses).map(Number);
      // Every operation: a body that is not JSON, too large or malformed; the unexpected; a database that is down.
      expect({ path, method, statuses }).toEqual({
        path,
        method,
        statuses: expect.arrayContaining([400, 413, 415, 500, 503]),
      });
      for (const status of statuses) {
        const answer = response(op, status);
        expect({ path, method, status, header: answer.headers?.['X-Request-Id'] }).toEqual({
          path,
          method,
          status,
          header: { $ref: '#/components/headers/X-Request-Id' },
        });
        if (status < 400) {
          continue;
        }
        expect(answer.content?.['application/json'].schema.$ref).toBe('#/components/schemas/ErrorResponseDto');
        const examples = Object.values(answer.content?.['application/json'].examples ?? {}).map(resolve);
        expect({ path, method, status, examples: examples.length > 0 }).toEqual({
          path,
          method,
          status,
          examples: true,
        });
        for (const example of examples) {
          expect({ path, method, status, value: example.value }).toEqual({
            path,
            method,
            status,
            value: expect.objectContaining({
              type: ERROR_TYPE_BY_STATUS[status],
              status,
              title: expect.any(String),
              request_id: expect.any(String),
            }),
          });
        }
        const headers = Object.keys(answer.headers ?? {});
        if (status === 401) {
          expect(headers).toContain('WWW-Authenticate');
        }
        if (status === 429 || status === 503) {
          expect(headers).toContain('Retry-After');
        }
        expect(headers.filter((name) => /ratelimit/i.test(name))).toEqual([]);
      }
    }
  });

  it('documents the error types the server really answers with, per operation and status', async () => {
    const user = await signedInUser(t, uniqueName('doc'));
    const taken = await createUser(t, uniqueName('taken'));
    const create = operation('/api/v1/users', 'post');
    const cases: { op: Operation; answer: Promise<import('supertest').Response> }[] = [
      {
        op: create,
        answer: t
          .http()
          .post('/api/v1/users')
          .send({ name: uniqueName() })
          .then((r) => r),
      },
      {
        op: create,
        answer: t
          .http()
          .post('/api/v1/users')
          .set(adminAuth)
          .send({ name: 'x', nope: 1 })
          .then((r) => r),
      },
      {
        op: create,
        answer: t
          .http()
          .post('/api/v1/users')
          .set(adminAuth)
          .set('Content-Type', 'application/json')
          .send('{"name":')
          .then((r) => r),
      },
      {
        op: create,
        answer: t
          .http()
          .post('/api/v1/users')
          .set(adminAuth)
          .send({ name: taken.name })
          .then((r) => r),
      },
      {
        op: create,
        answer: t
          .http()
          .post('/api/v1/users')
          .set('Cookie', user.cookie)
          .send({ name: uniqueName() })
          .then((r) => r),
      },
      {
        op: create,
        answer: t
          .http()
          .post('/api/v1/users')
          .set(adminAuth)
          .set('Content-Type', 'text/plain')
          .send('name=x')
          .then((r) => r),
      },
      {
        op: create,
        answer: t
          .http()
          .post('/api/v1/users')
          .set(adminAuth)
          .send({ name: 'x', display_name: 'x'.repeat(200_000) })
          .then((r) => r),
      },
      {
        op: operation('/api/v1/users/{name}', 'get'),
        answer: t
          .http()
          .get('/api/v1/users/nobody-here')
          .set(adminAuth)
          .then((r) => r),
      },
      {
        op: operation('/api/v1/users/{name}', 'get'),
        answer: t
          .http()
          .get('/api/v1/users/a%00b')
          .set(adminAuth)
          .then((r) => r),
      },
      {
        op: operation('/api/v1/users/me', 'get'),
        answer: t
          .http()
          .get('/api/v1/users/me')
          .set(adminAuth)
          .then((r) => r),
      },
      {
        op: operation('/api/v1/login', 'post'),
        answer: t
          .http()
          .post('/api/v1/login')
          .send({ username: user.name, password: 'wrong password' })
          .then((r) => r),
      },
      {
        op: operation('/api/v1/users/{name}', 'get'),
        answer: t
          .http()
          .get('/api/v1/users/x')
          .set('Authorization', 'Bearer iamsa_nope')
          .then((r) => r),
      },
    ];
    const seen = new Set<number>();
    for (const { op, answer } of cases) {
      const res = await answer;
      seen.add(res.status);
      const body = res.body as { type: string };
      expect({ op: op.operationId, status: res.status, documented: documentedTypes(op, res.status) }).toEqual({
        op: op.operationId,
        status: res.status,
        documented: expect.arrayContaining([body.type]),
      });
      for (const header of Object.keys(response(op, res.status).headers ?? {})) {
        expect({
          op: op.operationId,
          status: res.status,
          header,
          sent: res.headers[header.toLowerCase()] !== undefined,
        }).toEqual({
          op: op.operationId,
          status: res.status,
          header,
          sent: true,
        });
      }
    }
    expect([...seen].sort()).toEqual([400, 401, 403, 404, 409, 413, 415]);
  });

  it('describes path parameters, the Set-Cookie of login and logout, and formats', async () => {
    for (const { path, method, op } of operations()) {
      for (const parameter of (op.parameters ?? []).filter((p) => p.in === 'path')) {
        expect({ path, method, parameter: parameter.name, description: typeof parameter.description }).toEqual({
          path,
          method,
          parameter: parameter.name,
          description: 'string',
        });
      }
    }
    expect(Object.keys(response(operation('/api/v1/login', 'post'), 200).headers ?? {})).toContain('Set-Cookie');
    expect(Object.keys(response(operation('/api/v1/logout', 'post'), 204).headers ?? {})).toContain('Set-Cookie');
    const login = await t.http().post('/api/v1/login').send({ username: 'nobody', password: 'x' });
    expect(Object.keys(login.headers).filter((name) => /ratelimit/i.test(name))).toEqual([]);

    for (const [name, schema] of Object.entries(doc.components.schemas)) {
      for (const [property, value] of Object.entries(schema.properties ?? {})) {
        const where = `${name}.${property}`;
        expect({ where, type: value.type }).not.toEqual({ where, type: 'number' });
        if (property.endsWith('_at')) {
          expect({ where, format: value.format }).toEqual({ where, format: 'date-time' });
        }
        if (property === 'id') {
          expect({ where, format: value.format }).toEqual({ where, format: 'uuid' });
        }
      }
    }
    expect(doc.components.schemas.CompactGroupDto.properties?.user_count.type).toBe('integer');
  });

  it('describes the token as opaque, the cookie as set by signing in, public operations and the server', () => {
    const bearer = doc.components.securitySchemes.bearer;
    expect(bearer.bearerFormat).not.toMatch(/jwt/i);
    expect(bearer.description).toContain('iamsa_');
    expect(doc.components.securitySchemes.session_cookie.description).toContain('POST /api/v1/login');
    expect(operation('/api/v1/login', 'post').security).toEqual([]);
    expect(operation('/api/v1/login/methods', 'get').security).toEqual([]);
    expect(operation('/health', 'get').security).toEqual([]);
    expect(doc.servers).toEqual([expect.objectContaining({ url: '/' })]);
  });

  it('documents the 503 of /health as the error body with failed_checks', () => {
    const unhealthy = response(operation('/health', 'get'), 503);
    expect(unhealthy.content?.['application/json'].schema.$ref).toBe('#/components/schemas/ErrorResponseDto');
    expect(documentedTypes(operation('/health', 'get'), 503)).toEqual(['service_unavailable']);
    const example = resolve(Object.values(unhealthy.content?.['application/json'].examples ?? {})[0]);
    expect(example.value?.failed_checks).toEqual(['database']);
  });

  it('says in the request schemas what the server enforces', () => {
    const schemas = doc.components.schemas;
    for (const { op } of operations()) {
      const content = op.requestBody?.content;
      const ref = (content?.['application/json'] ?? content?.['application/x-www-form-urlencoded'])?.schema.$ref;
      if (ref) {
        const schema = resolve({ $ref: ref }) as Schema;
        expect({ ref, closed: schema.additionalProperties }).toEqual({ ref, closed: false });
      }
    }
    expect(schemas.PolicyStatementDto.additionalProperties).toBe(false);
    for (const dto of ['CreateGroupDto', 'CreateRoleDto', 'CreateServiceAccountDto']) {
      expect(new RegExp(schemas[dto].properties?.name.pattern ?? '').test('platform-admins')).toBe(true);
      expect(new RegExp(schemas[dto].properties?.name.pattern ?? '').test('Platform')).toBe(false);
    }
    const userName = new RegExp(schemas.CreateUserDto.properties?.name.pattern ?? '');
    expect(['mary.jane@doe.net', 'josé'].map((name) => userName.test(name))).toEqual([true, true]);
    expect(['a b', 'a:b', 'a/b', 'a\u0000'].map((name) => userName.test(name))).toEqual([false, false, false, false]);
    const displayName = new RegExp(schemas.CreateUserDto.properties?.display_name.pattern ?? '');
    expect([displayName.test('Mary 😀'), displayName.test('a\u0000b'), displayName.test('\ud800')]).toEqual([
      true,
      false,
      false,
    ]);
    const metadata = schemas.CreateUserDto.properties?.metadata;
    expect(metadata).toMatchObject({ maxProperties: 50, additionalProperties: { type: 'string', maxLength: 500 } });
    const exclusive = {
      oneOf: [
        {
          required: ['set_groups'],
          not: { anyOf: [{ required: ['add_to_groups'] }, { required: ['remove_from_groups'] }] },
        },
        { not: { required: ['set_groups'] } },
      ],
    };
    expect(schemas.SetGroupsDto).toMatchObject(exclusive);
    expect(schemas.UpdateGroupDto.oneOf?.[0]).toMatchObject({ required: ['set_members'] });
    const email = schemas.UpdateProfileDto.properties?.email_address;
    expect(email?.oneOf).toEqual(
      expect.arrayContaining([expect.objectContaining({ format: 'email' }), expect.objectContaining({ enum: [''] })]),
    );
    const settings = schemas.UpdateSettingsDto.properties ?? {};
    expect(new RegExp(settings.timezone.pattern ?? '').test('Europe/Paris')).toBe(true);
    expect(new RegExp(settings.timezone.pattern ?? '').test('+01:00')).toBe(false);
    expect(new RegExp(settings.language.pattern ?? '').test('pt-BR')).toBe(true);
    expect(new RegExp(settings.language.pattern ?? '').test('en_US')).toBe(false);
    const statement = schemas.PolicyStatementDto.properties ?? {};
    const actions = statement.action.oneOf?.[0].enum ?? [];
    expect(actions).toEqual(expect.arrayContaining(['*', 'iam:*', ...IAM_ACTIONS]));
    const resource = new RegExp(statement.resource.oneOf?.[0].pattern ?? '');
    expect(['*', 'iam:*', 'iam:user:ops-*', 'iam:*:x', 'IAM:User:x'].every((r) => resource.test(r))).toBe(true);
    expect(['iam:widget:x', 'user:x', 'iam:user:a b'].some((r) => resource.test(r))).toBe(false);
  });

  it('answers 405 with Allow for a method a path does not support, and keeps 404 for unknown paths', async () => {
    const res = await t.http().delete('/api/v1/users').set(adminAuth).expect(405);
    expect(res.headers.allow).toBe('GET, POST');
    expect(res.body).toMatchObject({
      type: 'method_not_allowed',
      status: 405,
      request_id: res.headers['x-request-id'],
    });
    const unauthenticated = await t.http().put('/api/v1/users/someone').expect(405);
    expect(unauthenticated.headers.allow).toBe('GET, PATCH, DELETE');
    const health = await t.http().post('/health').expect(405);
    expect(health.headers.allow).toBe('GET');
    await t.http().head('/api/v1/users').set(adminAuth).expect(200);
    await t.http().get('/api/v1/no-such-thing').set(adminAuth).expect(404);
    await t.http().get('/api/v1/users/someone/nothing').set(adminAuth).expect(404);
    // Bearer of a real token is not needed to learn the methods; the token is not looked at.
    await t.http().patch('/api/v1/users').set('Authorization', `Bearer ${ADMIN_TOKEN}x`).expect(405);
  });
});

describe('IAM_SWAGGER=false', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp('sqlite', { app: { swagger: false } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('serves neither Swagger UI nor the document, and the API as before', async () => {
    for (const path of ['/docs', '/docs/', '/docs-json', '/docs-yaml']) {
      expect([path, (await t.http().get(path)).status]).toEqual([path, 404]);
    }
    await t.http().get('/api/v1/users').set(adminAuth).expect(200);
  });
});
