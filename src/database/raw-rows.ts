import type { DataSource, EntityMetadata, ObjectLiteral } from 'typeorm';

/**
 * Hand-written SQL for the few reads on the path of every request (a user by name, its groups), where TypeORM's
 * query builder costs more than the statements themselves: it builds and rewrites the SQL text on every call. The
 * values are still read as TypeORM reads them (the driver's own hydration, per column), so dates, booleans and JSON
 * columns come back the same on SQLite and PostgreSQL.
 */

/** The select lists made so far, per entity and `alias prefix`: the same on every call. */
const selectLists = new WeakMap<EntityMetadata, Map<string, string>>();

/** The select list of an entity's readable columns (not `select: false`), each as `"<prefix><column>"`. */
export function selectColumns(metadata: EntityMetadata, alias: string, prefix: string): string {
  let lists = selectLists.get(metadata);
  if (!lists) {
    lists = new Map();
    selectLists.set(metadata, lists);
  }
  const key = `${alias} ${prefix}`;
  let list = lists.get(key);
  if (list === undefined) {
    list = metadata.columns
      .filter((column) => column.isSelect)
      .map((column) => `"${alias}"."${column.databaseName}" AS "${prefix}${column.databaseName}"`)
      .join(', ');
    lists.set(key, list);
  }
  return list;
}

/** An entity from a row selected with selectColumns(), or null when the row holds none (a LEFT JOIN missed). */
export function hydrate<T extends ObjectLiteral>(
  dataSource: DataSource,
  metadata: EntityMetadata,
  row: Record<string, unknown>,
  prefix: string,
): T | null {
  const primary = metadata.primaryColumns[0];
  if (row[`${prefix}${primary.databaseName}`] === null || row[`${prefix}${primary.databaseName}`] === undefined) {
    return null;
  }
  const entity = metadata.create() as ObjectLiteral;
  for (const column of metadata.columns) {
    if (column.isSelect) {
      const value: unknown = dataSource.driver.prepareHydratedValue(row[`${prefix}${column.databaseName}`], column);
      column.setEntityValue(entity, value);
    }
  }
  return entity as T;
}

/** Runs `sql` with `:name` parameters, as the driver wants them written ($1… on PostgreSQL, ? on SQLite). */
export function queryRows(
  dataSource: DataSource,
  sql: string,
  parameters: ObjectLiteral,
): Promise<Record<string, unknown>[]> {
  const [text, values] = dataSource.driver.escapeQueryWithParameters(sql, parameters);
  return dataSource.query(text, values);
}
