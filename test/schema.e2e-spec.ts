import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '../src/database/data-source-options.js';
import { runMigrations } from '../src/database/run-migrations.js';
import { createTestApp, createTestDatabase, TEST_DATABASES } from './utils/create-app.js';
import { adminAuth, uniqueName } from './utils/fixtures.js';

describe.each(TEST_DATABASES)('schema and persistence (%s)', (kind) => {
  it('has migrations that match the entities exactly (no drift)', async () => {
    const database = await createTestDatabase(kind);
    const dataSource = await new DataSource(buildDataSourceOptions({ url: database.url, logging: false })).initialize();
    try {
      await runMigrations(dataSource);
      expect(await dataSource.showMigrations()).toBe(false);
      const pending = await dataSource.driver.createSchemaBuilder().log();
      expect(pending.upQueries.map((q) => q.query)).toEqual([]);
      // A second run (another instance starting) finds nothing to do.
      await runMigrations(dataSource);
      expect(await dataSource.showMigrations()).toBe(false);
    } finally {
      await dataSource.destroy();
      await database.drop();
    }
  });

  it('keeps everything across a restart', async () => {
    const first = await createTestApp(kind);
    const name = uniqueName('Persist');
    const group = uniqueName('g');
    await first.http().post('/api/v1/groups').set(adminAuth).send({ name: group }).expect(201);
    await first
      .http()
      .post('/api/v1/users')
      .set(adminAuth)
      .send({ name, metadata: { k: 'v' } })
      .expect(201);
    await first
      .http()
      .put(`/api/v1/users/${name}/groups`)
      .set(adminAuth)
      .send({ add_to_groups: [group] })
      .expect(200);
    await first
      .http()
      .put(`/api/v1/users/${name}/password`)
      .set(adminAuth)
      .send({ password: 'long enough pw' })
      .expect(204);
    const login = await first
      .http()
      .post('/api/v1/login')
      .send({ username: name, password: 'long enough pw' })
      .expect(200);
    const cookie = ([] as string[]).concat(login.headers['set-cookie'] ?? [])[0].split(';')[0];
    await first.close({ keepDatabase: true });

    const second = await createTestApp(kind, { database: first.database });
    try {
      const user = await second.http().get(`/api/v1/users/${name.toLowerCase()}`).set(adminAuth).expect(200);
      expect(user.body).toMatchObject({
        name,
        metadata: { k: 'v' },
        groups: [expect.objectContaining({ name: group })],
      });
      const me = await second.http().get('/api/v1/users/me').set('Cookie', cookie).expect(200);
      expect(me.body.name).toBe(name);
    } finally {
      await second.close();
    }
  });
});
