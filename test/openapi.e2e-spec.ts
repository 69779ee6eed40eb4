import { createTestApp, type TestApp } from './utils/create-app.js';

interface Operation {
  summary?: string;
  description?: string;
  security?: Record<string, unknown>[];
  requestBody?: { content: Record<string, { schema: { $ref?: string } }> };
  responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }>;
}
interface Schema {
  properties?: Record<
    string,
    { type?: string; format?: string; minLength?: number; maxLength?: number; pattern?: string }
  >;
  required?: string[];
}
interface OpenApiDoc {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema>; securitySchemes: Record<string, { type: string; in?: string }> };
}

describe('OpenAPI document', () => {
  let t: TestApp;
  let doc: OpenApiDoc;
  beforeAll(async () => {
    t = await createTestApp('sqlite');
    const res = await t.http().get('/docs-json').expect(200);
    doc = res.body as OpenApiDoc;
  });
  afterAll(() => t.close());

  const operations = () =>
    Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ path, method, op })),
    );

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
      if (!path.startsWith('/api/v1') || path === '/api/v1/login') {
        continue;
      }
      const described = /`iam:[A-Za-z]+`/.test(op.description ?? '') || /Self-service/.test(op.description ?? '');
      expect({ path, method, described }).toEqual({ path, method, described: true });
    }
  });

  it('gives every operation a summary, and every protected one its security and 401/403 answers', () => {
    for (const { path, method, op } of operations()) {
      expect({ path, method, summary: typeof op.summary }).toEqual({ path, method, summary: 'string' });
      if (path.startsWith('/api/v1') && path !== '/api/v1/login') {
        expect({ path, method, security: op.security }).toEqual({
          path,
          method,
          security: expect.arrayContaining([{ bearer: [] }, { session_cookie: [] }]),
        });
        expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['401', '403']));
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
    expect(doc.components.schemas.UpdateProfileDto.properties?.email_address).toMatchObject({ maxLength: 100 });
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
    expect(post.responses['400'].content?.['application/json'].schema.$ref).toBe(
      '#/components/schemas/ErrorResponseDto',
    );
    expect(Object.keys(doc.components.schemas.ErrorResponseDto.properties ?? {})).toEqual(
      expect.arrayContaining(['type', 'title', 'status', 'invalid_fields', 'request_id']),
    );
  });
});
