import { QueryFailedError } from 'typeorm';

/** True when a write failed on a unique index (PostgreSQL 23505, SQLite SQLITE_CONSTRAINT_UNIQUE / PRIMARYKEY). */
export function isUniqueViolation(error: unknown): boolean {
  if (!(error instanceof QueryFailedError)) {
    return false;
  }
  const driverError = error.driverError as { code?: string } | undefined;
  const code = driverError?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** True when a write referenced a row that is gone (PostgreSQL 23503, SQLite SQLITE_CONSTRAINT_FOREIGNKEY). */
export function isForeignKeyViolation(error: unknown): boolean {
  if (!(error instanceof QueryFailedError)) {
    return false;
  }
  const code = (error.driverError as { code?: string } | undefined)?.code;
  return code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

/**
 * True when PostgreSQL aborted a transaction that may well succeed if run again: serialization_failure
 * (40001) or deadlock_detected (40P01), its deadlock victim.
 */
export function isTransientTransactionError(error: unknown): boolean {
  if (!(error instanceof QueryFailedError)) {
    return false;
  }
  const code = (error.driverError as { code?: string } | undefined)?.code;
  return code === '40001' || code === '40P01';
}

/**
 * What may be logged of an error: a failed statement keeps its SQL and the driver's code but loses its
 * parameters, which carry password and token hashes.
 */
export function loggableError(error: unknown): unknown {
  if (!(error instanceof QueryFailedError)) {
    return error;
  }
  const code = (error.driverError as { code?: string } | undefined)?.code;
  return { type: error.name, message: error.message, stack: error.stack, query: error.query, code };
}
