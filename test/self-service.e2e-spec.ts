import { createTestApp, TEST_DATABASES, type TestApp } from './utils/create-app.js';
import { adminAuth, createUser, expectError, signedInUser } from './utils/fixtures.js';

describe.each(TEST_DATABASES)('profiles and settings (%s)', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(kind);
  });
  afterAll(() => t.close());

  const patchProfile = (name: string, body: object, auth: Record<string, string> = adminAuth) =>
    t.http().patch(`/api/v1/users/${name}/profile`).set(auth).send(body);

  it('updates a profile field by field; null or "" clears', async () => {
    const user = await createUser(t);
    const both = await patchProfile(user.name, { full_name: 'Mary Jane', email_address: 'mary.jane@doe.net' }).expect(
      200,
    );
    expect(both.body).toMatchObject({
      name: user.name,
      profile: { full_name: 'Mary Jane', email_address: 'mary.jane@doe.net' },
    });
    const one = await patchProfile(user.name, { full_name: 'MJ' }).expect(200);
    expect(one.body.profile).toEqual({ full_name: 'MJ', email_address: 'mary.jane@doe.net' });
    const none = await patchProfile(user.name, {}).expect(200);
    expect(none.body.profile).toEqual({ full_name: 'MJ', email_address: 'mary.jane@doe.net' });
    const cleared = await patchProfile(user.name, { full_name: null, email_address: '' }).expect(200);
    expect(cleared.body.profile).toEqual({ full_name: null, email_address: null });
  });

  it('validates profile fields', async () => {
    const user = await createUser(t);
    for (const [body, field, error] of [
      [{ email_address: 'not-an-email' }, 'email_address', 'invalid_format'],
      [{ email_address: `${'a'.repeat(95)}@b.com` }, 'email_address', 'too_long'],
      [{ full_name: 'x'.repeat(101) }, 'full_name', 'too_long'],
      [{ full_name: 5 }, 'full_name', 'invalid_type'],
      [{ nickname: 'x' }, 'nickname', 'unknown_field'],
    ] as const) {
      const res = await patchProfile(user.name, body);
      expect(expectError(res, 400, 'bad_request').invalid_fields).toEqual([
        expect.objectContaining({ name: field, error }),
      ]);
    }
    expectError(await patchProfile('no-such-user-here', { full_name: 'x' }), 404, 'not_found');
  });

  it("lets users change their own profile (name compared without regard to case) but not someone else's", async () => {
    const me = await signedInUser(t);
    const other = await createUser(t);
    const cookie = { Cookie: me.cookie };
    const own = await patchProfile(me.name.toUpperCase(), { full_name: 'Myself' }, cookie).expect(200);
    expect(own.body.profile.full_name).toBe('Myself');
    expectError(await patchProfile(other.name, { full_name: 'Not me' }, cookie), 403, 'forbidden');
    const alias = await patchProfile('me', { email_address: 'me@example.com' }, cookie).expect(200);
    expect(alias.body).toMatchObject({
      name: me.name,
      profile: { full_name: 'Myself', email_address: 'me@example.com' },
    });
    expectError(await patchProfile('me', { full_name: 'x' }), 403, 'forbidden');
  });

  it('returns default settings, then applies changes field by field', async () => {
    const me = await signedInUser(t);
    const cookie = { Cookie: me.cookie };
    const defaults = await t.http().get('/api/v1/users/me/settings').set(cookie).expect(200);
    expect(defaults.body).toEqual({ theme: 'system', timezone: 'UTC', language: 'en', week_start: 'monday' });
    const dark = await t.http().patch('/api/v1/users/me/settings').set(cookie).send({ theme: 'dark' }).expect(200);
    expect(dark.body).toEqual({ theme: 'dark', timezone: 'UTC', language: 'en', week_start: 'monday' });
    const more = await t
      .http()
      .patch('/api/v1/users/me/settings')
      .set(cookie)
      .send({ timezone: 'europe/paris', language: 'pt-br', week_start: 'sunday' })
      .expect(200);
    expect(more.body).toEqual({ theme: 'dark', timezone: 'Europe/Paris', language: 'pt-BR', week_start: 'sunday' });
    const again = await t.http().get('/api/v1/users/me/settings').set(cookie).expect(200);
    expect(again.body).toEqual(more.body);
    // Settings are per user.
    const other = await signedInUser(t);
    const theirs = await t.http().get('/api/v1/users/me/settings').set('Cookie', other.cookie).expect(200);
    expect(theirs.body.theme).toBe('system');
  });

  it('answers 400 naming the field for an invalid setting, and changes nothing', async () => {
    const me = await signedInUser(t);
    const cookie = { Cookie: me.cookie };
    for (const [body, field] of [
      [{ theme: 'purple' }, 'theme'],
      [{ week_start: 'friday' }, 'week_start'],
      [{ timezone: 'Mars/Olympus' }, 'timezone'],
      [{ timezone: '+01:00' }, 'timezone'],
      [{ language: 'not a tag!' }, 'language'],
      [{ language: 5 }, 'language'],
      // 34 characters as sent, 39 once canonicalised ("sh" → "sr-Latn"): too long for the column.
      [{ language: 'sh-u-ca-gregory-nu-latn-co-phonebk' }, 'language'],
      [{ language: 'en-' + 'x'.repeat(40) }, 'language'],
      [{ colour: 'red' }, 'colour'],
    ] as const) {
      const res = await t
        .http()
        .patch('/api/v1/users/me/settings')
        .set(cookie)
        .send({ theme: 'light', ...body });
      expect(expectError(res, 400, 'bad_request').invalid_fields?.map((f) => f.name)).toEqual([field]);
    }
    const after = await t.http().get('/api/v1/users/me/settings').set(cookie).expect(200);
    expect(after.body.theme).toBe('system');
  });
});
