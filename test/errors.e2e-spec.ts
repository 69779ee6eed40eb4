import { createTestApp, TEST_DATABASES, type TestApp } from './utils/create-app.js';
import { adminAuth, createGroup, expectError, uniqueName } from './utils/fixtures.js';

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
      expect(expectError(res, 400, 'bad_request').title).toBe('Request body must be a JSON object');
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

  it('reports a missing required field as required, not as a wrong type', async () => {
    const res = await t.http().post('/api/v1/users').set(adminAuth).send({ display_name: 'No name' });
    expect(expectError(res, 400, 'bad_request').invalid_fields).toEqual([
      { name: 'name', error: 'required', title: 'name is required' },
    ]);
  });

  it('refuses nesting deeper than 32 levels with 400, before anything walks it (login included)', async () => {
    const deep = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
    for (const levels of [40, 5000]) {
      const res = await t
        .http()
        .post('/api/v1/login')
        .set('Content-Type', 'application/json')
        .send(`{"username":"x","password":"y","z":${deep(levels)}}`);
      const error = expectError(res, 400, 'bad_request');
      expect(error.title).toMatch(/nested more than 32 levels/);
      expect(error.invalid_fields).toEqual([expect.objectContaining({ name: 'z', error: 'invalid_value' })]);
    }
    const metadata = await t
      .http()
      .post('/api/v1/users')
      .set(adminAuth)
      .set('Content-Type', 'application/json')
      .send(`{"name":"${uniqueName()}","metadata":${deep(31)}}`);
    expect(expectError(metadata, 400, 'bad_request').invalid_fields?.[0]).toMatchObject({ name: 'metadata' });
  });

  it('refuses a NUL character or a lone surrogate anywhere in a body, naming the field', async () => {
    const group = await createGroup(t);
    const cases: [string, string, Record<string, unknown>, string][] = [
      ['post', '/api/v1/users', { name: 'a\u0000b' }, 'name'],
      ['post', '/api/v1/users', { name: uniqueName(), display_name: 'x\u0000' }, 'display_name'],
      ['post', '/api/v1/users', { name: 'x\ud800y' }, 'name'],
      ['post', '/api/v1/users', { name: 'x\udfffy' }, 'name'],
      ['post', '/api/v1/users', { name: uniqueName(), metadata: { 'k\u0000': 'v' } }, 'metadata'],
      ['post', '/api/v1/users', { name: uniqueName(), metadata: { k: 'v\ud83d' } }, 'metadata.k'],
      ['post', '/api/v1/groups', { name: uniqueName('g'), description: 'd\u0000' }, 'description'],
      ['post', '/api/v1/groups', { name: uniqueName('g'), sso_name: 's\u0000' }, 'sso_name'],
      ['patch', `/api/v1/groups/${group.name}`, { add_members: ['a\u0000'] }, 'add_members.0'],
      ['post', '/api/v1/login', { username: 'a\u0000', password: 'whatever-long' }, 'username'],
    ];
    for (const [method, path, body, field] of cases) {
      const res = await (method === 'post' ? t.http().post(path) : t.http().patch(path)).set(adminAuth).send(body);
      const error = expectError(res, 400, 'bad_request');
      expect({ path, fields: error.invalid_fields?.map((f) => [f.name, f.error]) }).toEqual({
        path,
        fields: [[field, 'invalid_value']],
      });
    }
    const self = await t.http().get('/api/v1/users').set(adminAuth);
    expect(self.status).toBe(200);
    // Ordinary non-ASCII text, surrogate pairs included (an emoji in a display name, a Han letter of plane 2 in
    // a name), is of course fine.
    const fine = await t
      .http()
      .post('/api/v1/users')
      .set(adminAuth)
      .send({ name: `z\u{20000}${uniqueName()}`, display_name: 'Zo\u00eb \u{1F600}\tTab' });
    expect(fine.status).toBe(201);
    expect(fine.body.display_name).toBe('Zo\u00eb \u{1F600}\tTab');
  });

  it('refuses a path parameter with a NUL character with 400, and one that is not UTF-8 with 400', async () => {
    for (const path of [
      '/api/v1/users/a%00b',
      '/api/v1/groups/g%00',
      '/api/v1/service-accounts/%00',
      '/api/v1/roles/r%00',
    ]) {
      const res = await t.http().get(path).set(adminAuth);
      expect({ path, ...expectError(res, 400, 'bad_request').invalid_fields?.[0] }).toMatchObject({
        path,
        name: 'name',
        error: 'invalid_value',
      });
    }
    const patch = await t.http().patch('/api/v1/users/a%00b/profile').set(adminAuth).send({ full_name: 'x' });
    expectError(patch, 400, 'bad_request');
    const badUtf8 = await t.http().get('/api/v1/users/%ED%A0%80').set(adminAuth);
    expectError(badUtf8, 400, 'bad_request');
  });

  it('counts lengths in characters as the database does (a variation selector is a character)', async () => {
    const display = '\u2764\uFE0F'.repeat(76); // 152 code points, 76 to class-validator's own MaxLength
    const res = await t.http().post('/api/v1/users').set(adminAuth).send({ name: uniqueName(), display_name: display });
    expect(expectError(res, 400, 'bad_request').invalid_fields).toEqual([
      expect.objectContaining({ name: 'display_name', error: 'too_long' }),
    ]);
    const fits = '\u2764\uFE0F'.repeat(75);
    const ok = await t.http().post('/api/v1/users').set(adminAuth).send({ name: uniqueName(), display_name: fits });
    expect(ok.status).toBe(201);
    expect(ok.body.display_name).toBe(fits);
  });
});
