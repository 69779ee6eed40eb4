import { createTestApp, TEST_DATABASES, type TestApp } from './utils/create-app.js';
import { adminAuth, expectError } from './utils/fixtures.js';

describe.each(TEST_DATABASES)('error model (%s)', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(kind);
  });
  afterAll(() => t.close());

  it('answers 401 with WWW-Authenticate and the error body when no credentials are sent', async () => {
    const res = await t.http().get('/api/v1/users');
    expectError(res, 401, 'unauthorised');
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
  });

  it('rejects an unknown bearer token with 401', async () => {
    const res = await t.http().get('/api/v1/users').set('Authorization', 'Bearer nope-not-a-token');
    expectError(res, 401, 'unauthorised');
  });

  it('does not accept a token from the query string', async () => {
    const res = await t.http().get(`/api/v1/users?access_token=${adminAuth.Authorization.slice(7)}`);
    expectError(res, 401, 'unauthorised');
  });

  it('echoes an acceptable X-Request-Id and makes one otherwise', async () => {
    const given = await t.http().get('/api/v1/users').set('X-Request-Id', 'trace-abc.123');
    expect(given.headers['x-request-id']).toBe('trace-abc.123');
    expect(given.body.request_id).toBe('trace-abc.123');
    const made = await t.http().get('/api/v1/users').set('X-Request-Id', 'bad id with spaces');
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const ok = await t.http().get('/api/v1/users').set(adminAuth);
    expect(ok.status).toBe(200);
    expect(ok.headers['x-request-id']).toBeTruthy();
  });

  it('answers malformed JSON with 400', async () => {
    const res = await t
      .http()
      .post('/api/v1/users')
      .set(adminAuth)
      .set('Content-Type', 'application/json')
      .send('{"name": ');
    expectError(res, 400, 'bad_request');
  });

  it('answers a JSON value that is not an object with 400', async () => {
    for (const body of ['[]', '"text"', 'null', '42']) {
      const res = await t
        .http()
        .post('/api/v1/users')
        .set(adminAuth)
        .set('Content-Type', 'application/json')
        .send(body);
      expectError(res, 400, 'bad_request');
    }
  });

  it('answers a non-JSON body with 415', async () => {
    const form = await t.http().post('/api/v1/users').set(adminAuth).type('form').send('name=alice');
    expectError(form, 415, 'unsupported_media_type');
    const text = await t.http().post('/api/v1/users').set(adminAuth).set('Content-Type', 'text/plain').send('alice');
    expectError(text, 415, 'unsupported_media_type');
  });

  it('answers an oversized body with 413', async () => {
    const res = await t
      .http()
      .post('/api/v1/users')
      .set(adminAuth)
      .send({ name: 'big', metadata: { a: 'x'.repeat(200 * 1024) } });
    expectError(res, 413, 'payload_too_large');
  });

  it('rejects unknown fields, naming them', async () => {
    const res = await t.http().post('/api/v1/users').set(adminAuth).send({ name: 'typo-user', dispaly_name: 'Typo' });
    const body = expectError(res, 400, 'bad_request');
    expect(body.invalid_fields).toEqual([expect.objectContaining({ name: 'dispaly_name', error: 'unknown_field' })]);
  });

  it('rejects a wrong type with 400 naming the field', async () => {
    const res = await t.http().post('/api/v1/users').set(adminAuth).send({ name: 5 });
    const body = expectError(res, 400, 'bad_request');
    expect(body.invalid_fields).toEqual([expect.objectContaining({ name: 'name', error: 'invalid_type' })]);
  });

  it('refuses an explicit null where a value is optional but not nullable', async () => {
    const create = await t.http().post('/api/v1/users').set(adminAuth).send({ name: 'nullish', display_name: null });
    expect(expectError(create, 400, 'bad_request').invalid_fields).toEqual([
      expect.objectContaining({ name: 'display_name', error: 'invalid_type' }),
    ]);
    await t.http().post('/api/v1/users').set(adminAuth).send({ name: 'nullish' }).expect(201);
    for (const body of [{ display_name: null }, { metadata: null }]) {
      expectError(await t.http().patch('/api/v1/users/nullish').set(adminAuth).send(body), 400, 'bad_request');
    }
  });

  it('gives one invalid_fields entry per bad field', async () => {
    const res = await t
      .http()
      .post('/api/v1/users')
      .set(adminAuth)
      .send({ name: '', display_name: 'x'.repeat(151), metadata: [] });
    const body = expectError(res, 400, 'bad_request');
    const byName = Object.fromEntries(body.invalid_fields!.map((f) => [f.name, f.error]));
    expect(byName).toEqual({ name: 'too_short', display_name: 'too_long', metadata: 'invalid_type' });
  });

  it('answers an unknown route with 404 in the error body', async () => {
    const res = await t.http().get('/api/v1/nothing-here').set(adminAuth);
    expectError(res, 404, 'not_found');
  });
});
