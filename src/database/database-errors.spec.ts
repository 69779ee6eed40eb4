import { QueryFailedError } from 'typeorm';
import {
  isForeignKeyViolation,
  isTransientTransactionError,
  isUniqueViolation,
  loggableError,
} from './database-errors.js';

function failed(code: string, parameters: unknown[] = []): QueryFailedError {
  return new QueryFailedError(
    'INSERT INTO "sessions" ("token_hash") VALUES ($1)',
    parameters,
    Object.assign(new Error('boom'), { code }),
  );
}

describe('database errors', () => {
  it('recognises unique and foreign-key violations on both databases', () => {
    expect(isUniqueViolation(failed('23505'))).toBe(true);
    expect(isUniqueViolation(failed('SQLITE_CONSTRAINT_UNIQUE'))).toBe(true);
    expect(isUniqueViolation(failed('23503'))).toBe(false);
    expect(isForeignKeyViolation(failed('23503'))).toBe(true);
    expect(isForeignKeyViolation(failed('SQLITE_CONSTRAINT_FOREIGNKEY'))).toBe(true);
    expect(isForeignKeyViolation(new Error('23503'))).toBe(false);
  });

  it('takes a deadlock victim or a serialization failure, and nothing else, for worth running again', () => {
    expect(isTransientTransactionError(failed('40P01'))).toBe(true);
    expect(isTransientTransactionError(failed('40001'))).toBe(true);
    expect(isTransientTransactionError(failed('23505'))).toBe(false);
    expect(isTransientTransactionError(failed('55P03'))).toBe(false); // lock_not_available: NOWAIT, not a race
    expect(isTransientTransactionError(failed('SQLITE_BUSY'))).toBe(false);
    expect(isTransientTransactionError(Object.assign(new Error('deadlock'), { code: '40P01' }))).toBe(false);
  });

  it('logs a failed statement without its parameters', () => {
    const logged = loggableError(failed('XX000', ['$argon2id$v=19$secret-hash']));
    expect(logged).toEqual(
      expect.objectContaining({
        query: 'INSERT INTO "sessions" ("token_hash") VALUES ($1)',
        code: 'XX000',
        message: 'boom',
      }),
    );
    expect(JSON.stringify(logged)).not.toContain('secret-hash');
  });

  it('leaves other errors as they are', () => {
    const error = new Error('other');
    expect(loggableError(error)).toBe(error);
  });
});
