import { DataSource } from 'typeorm';
import { generateSecret, hashSecret } from '../src/auth/tokens.js';
import { buildDataSourceOptions } from '../src/database/data-source-options.js';
import { postgresMigrations } from '../src/database/migrations/postgres/postgres-migrations.js';
import { sqliteMigrations } from '../src/database/migrations/sqlite/sqlite-migrations.js';
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

  if (kind === 'sqlite') {
    it('commits durably: every commit syncs the write-ahead log (synchronous = FULL), not only checkpoints', async () => {
      const database = await createTestDatabase(kind);
      const options = buildDataSourceOptions({ url: database.url, logging: false });
      // Opened twice: better-sqlite3's SQLite opens a file already in WAL mode with synchronous = NORMAL.
      await (await new DataSource(options).initialize()).destroy();
      const dataSource = await new DataSource(options).initialize();
      try {
        expect(await dataSource.query('PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
        expect(await dataSource.query('PRAGMA synchronous')).toEqual([{ synchronous: 2 }]);
      } finally {
        await dataSource.destroy();
        await database.drop();
      }
    });
  }

  it('carries existing rows through every migration', async () => {
    const database = await createTestDatabase(kind);
    const all = kind === 'sqlite' ? sqliteMigrations : postgresMigrations;
    const options = buildDataSourceOptions({ url: database.url, logging: false });
    // The first migration only, then rows as the first release wrote them.
    const sql = (query: string) => (kind === 'sqlite' ? query.replace(/\$\d/g, '?') : query);
    const first = await new DataSource({ ...options, migrations: all.slice(0, 1) }).initialize();
    await first.runMigrations();
    // As TypeORM writes a Date column on each database.
    const asStored = (date: Date) => (kind === 'sqlite' ? date.toISOString().replace('T', ' ').replace('Z', '') : date);
    const now = asStored(new Date());
    await first.query(
      sql('INSERT INTO users (id, name, name_key, display_name, metadata, created_at) VALUES ($1, $2, $3, $4, $5, $6)'),
      ['11111111-1111-4111-8111-111111111111', 'Old', 'old', 'Old', '{}', now],
    );
    await first.query(
      sql('INSERT INTO groups (id, name, display_name, description, created_at) VALUES ($1, $2, $3, $4, $5)'),
      ['22222222-2222-4222-8222-222222222222', 'old-group', 'Old group', 'kept', now],
    );
    await first.query(sql('INSERT INTO user_groups (user_id, group_id) VALUES ($1, $2)'), [
      '11111111-1111-4111-8111-111111111111',
      '22222222-2222-4222-8222-222222222222',
    ]);
    // A session signed in three hours ago (longer than the idle timeout), still within its lifetime.
    const cookie = generateSecret();
    const signedIn = new Date(Date.now() - 3 * 3_600_000);
    await first.query(
      sql('INSERT INTO sessions (id, user_id, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)'),
      [
        '33333333-3333-4333-8333-333333333333',
        '11111111-1111-4111-8111-111111111111',
        hashSecret(cookie),
        asStored(signedIn),
        asStored(new Date(Date.now() + 3_600_000)),
      ],
    );
    await first.destroy();
    const upgradedFrom = Date.now() - 1000;

    const app = await createTestApp(kind, { database });
    try {
      const group = await app.http().get('/api/v1/groups/old-group').set(adminAuth).expect(200);
      expect(group.body).toMatchObject({
        name: 'old-group',
        // Defaulted to the name by one migration, cleared by a later one: no provider group maps to it by its name.
        sso_name: '',
        description: 'kept',
        metadata: {},
        user_count: 1,
        users: [expect.objectContaining({ name: 'Old' })],
      });
      // The session counts as used at the upgrade: it keeps working, and shows no address or agent (not recorded).
      const sessions = await app.http().get('/api/v1/users/me/sessions').set('Cookie', `session_id=${cookie}`);
      expect(sessions.status).toBe(200);
      expect(sessions.body.items).toEqual([
        expect.objectContaining({
          id: '33333333-3333-4333-8333-333333333333',
          created_at: signedIn.toISOString(),
          client_address: null,
          user_agent: null,
          current: true,
        }),
      ]);
      expect(Date.parse(sessions.body.items[0].last_seen_at as string)).toBeGreaterThan(upgradedFrom);
    } finally {
      await app.close();
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
