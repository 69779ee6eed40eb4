/**
 * Direct database access for what the API cannot do fast enough or should not be asked: making the PostgreSQL
 * database of a run, bulk-inserting users for the 100,000-user rows, and checking afterwards that every
 * acknowledged write is in the database. Columns are never listed from memory: a bulk user is a copy of a user
 * the API created (every column), with a new id and name, so the rows stay valid as migrations add columns.
 */
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import pg from 'pg';

export type DatabaseKind = 'sqlite' | 'postgres';

/** A fresh PostgreSQL database on the server of `serverUrl`, and a way to drop it (as the e2e tests do). */
export async function createPostgresDatabase(serverUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `iam_bench_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** `bench-g-` followed by a number padded to 3 digits, in each dialect. */
const GROUP_PREFIX = 'bench-g-';

export class BenchDatabase {
  private constructor(
    readonly kind: DatabaseKind,
    private readonly sqlite: Database.Database | undefined,
    private readonly postgres: pg.Client | undefined,
  ) {}

  static async open(url: string): Promise<BenchDatabase> {
    if (url.startsWith('sqlite:')) {
      const db = new Database(url.slice('sqlite:'.length));
      db.pragma('busy_timeout = 30000');
      return new BenchDatabase('sqlite', db, undefined);
    }
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    return new BenchDatabase('postgres', undefined, client);
  }

  async close(): Promise<void> {
    this.sqlite?.close();
    await this.postgres?.end();
  }

  private async all<T>(sqliteSql: string, postgresSql: string, params: unknown[] = []): Promise<T[]> {
    if (this.sqlite) {
      return this.sqlite.prepare(sqliteSql).all(...params) as T[];
    }
    return (await this.postgres!.query(postgresSql, params)).rows as T[];
  }

  private async run(sqliteSql: string, postgresSql: string, params: unknown[] = []): Promise<number> {
    if (this.sqlite) {
      return this.sqlite.prepare(sqliteSql).run(...params).changes;
    }
    return (await this.postgres!.query(postgresSql, params)).rowCount ?? 0;
  }

  async version(): Promise<string> {
    const [row] = await this.all<{ v: string }>(
      'SELECT sqlite_version() AS v',
      "SELECT current_setting('server_version') AS v",
    );
    return `${this.kind === 'sqlite' ? 'SQLite' : 'PostgreSQL'} ${row.v}`;
  }

  async countUsers(): Promise<number> {
    const [row] = await this.all<{ n: number | string }>(
      'SELECT COUNT(*) AS n FROM users',
      'SELECT COUNT(*) AS n FROM users',
    );
    return Number(row.n);
  }

  /** How many of these user names (lower-case ASCII, so their name_key) are in the database. */
  async countUsersNamed(names: string[]): Promise<number> {
    const [row] = await this.all<{ n: number | string }>(
      'SELECT COUNT(*) AS n FROM users WHERE name_key IN (SELECT value FROM json_each(?))',
      'SELECT COUNT(*) AS n FROM users WHERE name_key = ANY($1)',
      [this.kind === 'sqlite' ? JSON.stringify(names) : names],
    );
    return Number(row.n);
  }

  /** The group names of each of these users, sorted. */
  async groupsOf(names: string[]): Promise<Map<string, string[]>> {
    const rows = await this.all<{ user: string; group: string }>(
      'SELECT u.name_key AS "user", g.name AS "group" FROM user_groups ug JOIN users u ON u.id = ug.user_id ' +
        'JOIN groups g ON g.id = ug.group_id WHERE u.name_key IN (SELECT value FROM json_each(?))',
      'SELECT u.name_key AS "user", g.name AS "group" FROM user_groups ug JOIN users u ON u.id = ug.user_id ' +
        'JOIN groups g ON g.id = ug.group_id WHERE u.name_key = ANY($1)',
      [this.kind === 'sqlite' ? JSON.stringify(names) : names],
    );
    const groups = new Map<string, string[]>(names.map((name) => [name, []]));
    for (const row of rows) {
      groups.get(row.user)?.push(row.group);
    }
    for (const list of groups.values()) {
      list.sort();
    }
    return groups;
  }

  /**
   * Inserts users `<prefix>000001`… up to `<prefix><count>`, each a copy of the user `templateName` (every
   * column) with a new id, name, name_key and display name. One statement.
   */
  async insertUsersLike(templateName: string, prefix: string, count: number): Promise<number> {
    const columns = await this.userColumns();
    const quoted = columns.map((column) => `"${column}"`).join(', ');
    const expression = (column: string, dialect: DatabaseKind): string => {
      const name = dialect === 'sqlite' ? `? || printf('%06d', s.n)` : `$2 || lpad(s.n::text, 6, '0')`;
      switch (column) {
        case 'id':
          return dialect === 'sqlite'
            ? `lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))`
            : 'gen_random_uuid()';
        case 'name':
        case 'name_key':
        case 'display_name':
          return name;
        default:
          return `t."${column}"`;
      }
    };
    const sqliteSelect = columns.map((column) => expression(column, 'sqlite')).join(', ');
    const postgresSelect = columns.map((column) => expression(column, 'postgres')).join(', ');
    const nameParams = columns.filter((column) => ['name', 'name_key', 'display_name'].includes(column)).length;
    if (this.sqlite) {
      const sql =
        `WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ?) ` +
        `INSERT INTO users (${quoted}) SELECT ${sqliteSelect} FROM users t, s WHERE t.name_key = ?`;
      return this.sqlite.prepare(sql).run(count, ...Array<string>(nameParams).fill(prefix), templateName).changes;
    }
    const sql =
      `INSERT INTO users (${quoted}) SELECT ${postgresSelect} FROM users t CROSS JOIN generate_series(1, $3::int) ` +
      `AS s(n) WHERE t.name_key = $1`;
    return (await this.postgres!.query(sql, [templateName, prefix, count])).rowCount ?? 0;
  }

  private async userColumns(): Promise<string[]> {
    const rows = await this.all<{ name: string }>(
      "SELECT name FROM pragma_table_info('users')",
      "SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'users' ORDER BY ordinal_position",
    );
    return rows.map((row) => row.name);
  }

  /**
   * Puts every user that is in no group into three of the 200 bench groups (`bench-g-000`…`bench-g-199`),
   * numbered in name order: user n joins n, n+67 and n+134 (mod 200). One statement.
   */
  async addUsersWithoutGroupsToGroups(groupCount: number): Promise<number> {
    const select = (pad: string, offsets: string) =>
      `SELECT u.id, g.id FROM (SELECT id, row_number() OVER (ORDER BY name_key) AS n FROM users ` +
      `WHERE NOT EXISTS (SELECT 1 FROM user_groups ug WHERE ug.user_id = users.id)) u ` +
      `CROSS JOIN (${offsets}) k JOIN groups g ON g.name = '${GROUP_PREFIX}' || ${pad}`;
    const offsets = 'SELECT 0 AS o UNION ALL SELECT 67 UNION ALL SELECT 134';
    return this.run(
      `INSERT INTO user_groups (user_id, group_id) ${select(`printf('%03d', (u.n + k.o) % ${groupCount})`, offsets)}`,
      `INSERT INTO user_groups (user_id, group_id) ${select(`lpad(((u.n + k.o) % ${groupCount})::text, 3, '0')`, offsets)}`,
    );
  }

  /**
   * Brings the query planner's statistics up to date after a bulk insert, as an operator loading data would: until
   * autovacuum gets to it (within a minute or so), PostgreSQL plans for the tables as they were, and the row measured
   * meanwhile depends on that timing. SQLite keeps no statistics unless asked (ANALYZE), and the service does not.
   */
  async analyze(): Promise<void> {
    await this.postgres?.query('ANALYZE');
  }
}
