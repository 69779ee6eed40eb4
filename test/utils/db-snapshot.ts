import type { DataSource } from 'typeorm';

/**
 * Columns a refused request may change on purpose: authentication's last-seen stamp (on every request), and the
 * lockout's count of wrong passwords (on a 401 for one).
 */
export const VOLATILE_COLUMNS: ReadonlySet<string> = new Set([
  'last_seen_at',
  'failed_logins',
  'failed_logins_since',
  'locked_until',
]);

/**
 * Rows a refused request adds on purpose: the audit trail records every 403 (outcome `denied`) and every failed
 * sign-in or password check (`failed`). An event of a success, or a change to an existing event, is still a
 * difference.
 */
const expectedOnRefusal = (table: string, row: Record<string, unknown>) =>
  table === 'audit_events' && (row.outcome === 'denied' || row.outcome === 'failed');

/** Every table's rows, each row as canonical JSON (volatile columns left out), sorted. */
export type DatabaseSnapshot = Record<string, string[]>;

async function tableNames(dataSource: DataSource): Promise<string[]> {
  const rows: { name: string }[] =
    dataSource.options.type === 'postgres'
      ? await dataSource.query(`SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()`)
      : await dataSource.query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`);
  return rows.map((row) => row.name).sort();
}

function canonical(value: unknown): unknown {
  if (value instanceof Date) {
    return value.toISOString();
  }
  if (Buffer.isBuffer(value)) {
    return value.toString('hex');
  }
  return value;
}

/**
 * Reads every table of the database (from its catalogue, so tables added later are covered too) through
 * the app's own DataSource.
 */
export async function snapshotDatabase(dataSource: DataSource): Promise<DatabaseSnapshot> {
  const snapshot: DatabaseSnapshot = {};
  for (const table of await tableNames(dataSource)) {
    const rows: Record<string, unknown>[] = await dataSource.query(`SELECT * FROM ${dataSource.driver.escape(table)}`);
    snapshot[table] = rows
      .filter((row) => !expectedOnRefusal(table, row))
      .map((row) =>
        JSON.stringify(
          Object.keys(row)
            .filter((column) => !VOLATILE_COLUMNS.has(column))
            .sort()
            .map((column) => [column, canonical(row[column])]),
        ),
      )
      .sort();
  }
  return snapshot;
}

/** What differs between two snapshots, one line per table and direction; empty when they are equal. */
export function snapshotDifferences(before: DatabaseSnapshot, after: DatabaseSnapshot): string[] {
  const differences: string[] = [];
  for (const table of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const was = new Set(before[table] ?? []);
    const is = new Set(after[table] ?? []);
    const removed = [...was].filter((row) => !is.has(row));
    const added = [...is].filter((row) => !was.has(row));
    if (removed.length > 0) {
      differences.push(`${table}: gone ${removed.join(' ')}`);
    }
    if (added.length > 0) {
      differences.push(`${table}: new ${added.join(' ')}`);
    }
  }
  return differences;
}
