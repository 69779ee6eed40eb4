import { QueryFailedError } from 'typeorm';
import {
  isClientQueryTimeout,
  isDatabaseUnavailable,
  isForeignKeyViolation,
  isTransientTransactionError,
  isUniqueViolation,
  loggableError,
  unavailabilityReason,
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

  describe('isDatabaseUnavailable', () => {
    const coded = (message: string, code: string) => Object.assign(new Error(message), { code });

    it('takes PostgreSQL connection, resource, shutdown and timeout errors for unavailability', () => {
      for (const code of ['08000', '08001', '08003', '08006', '08P01', '53300', '53100', '57P01', '57P02', '57P03']) {
        expect(isDatabaseUnavailable(failed(code))).toBe(true);
      }
      expect(isDatabaseUnavailable(failed('57014'))).toBe(true); // canceling statement due to statement timeout
      expect(isDatabaseUnavailable(coded('terminating connection due to administrator command', '57P01'))).toBe(true);
    });

    it('takes a busy or broken SQLite database for unavailability', () => {
      for (const code of [
        'SQLITE_BUSY',
        'SQLITE_BUSY_SNAPSHOT',
        'SQLITE_LOCKED',
        'SQLITE_IOERR_WRITE',
        'SQLITE_FULL',
      ]) {
        expect(isDatabaseUnavailable(failed(code))).toBe(true);
      }
      expect(isDatabaseUnavailable(coded('database is locked', 'SQLITE_BUSY'))).toBe(true);
    });

    it("recognises node-postgres's own connection, pool and query timeouts, which carry no code", () => {
      for (const message of [
        'Connection terminated unexpectedly',
        'Connection terminated due to connection timeout',
        'Connection terminated',
        'Query read timeout',
        'timeout exceeded when trying to connect',
        'Client has encountered a connection error and is not queryable',
      ]) {
        expect(isDatabaseUnavailable(new Error(message))).toBe(true);
      }
    });

    it('recognises socket errors, also inside an AggregateError or as a cause', () => {
      const refused = coded('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED');
      expect(isDatabaseUnavailable(refused)).toBe(true);
      expect(
        isDatabaseUnavailable(new AggregateError([refused, coded('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED')])),
      ).toBe(true);
      expect(isDatabaseUnavailable(new Error('wrapped', { cause: coded('read ECONNRESET', 'ECONNRESET') }))).toBe(true);
      expect(unavailabilityReason(new AggregateError([refused]))).toEqual({
        code: 'ECONNREFUSED',
        message: 'connect ECONNREFUSED 127.0.0.1:5432',
      });
    });

    it('leaves errors of the request or of the code alone', () => {
      for (const code of [
        '23505',
        '23503',
        '40P01',
        '40001',
        '42P01',
        '22001',
        '55P03',
        'SQLITE_CONSTRAINT_UNIQUE',
        'SQLITE_ERROR',
      ]) {
        expect(isDatabaseUnavailable(failed(code))).toBe(false);
      }
      expect(isDatabaseUnavailable(new Error('Cannot read properties of undefined'))).toBe(false);
      expect(isDatabaseUnavailable(undefined)).toBe(false);
      expect(isDatabaseUnavailable('ECONNREFUSED')).toBe(false);
    });

    it('stops on an error that refers to itself', () => {
      const loop = new Error('loop') as Error & { cause?: unknown };
      loop.cause = loop;
      expect(isDatabaseUnavailable(loop)).toBe(false);
    });

    it("reports the driver's code and message without the statement's parameters", () => {
      const reason = unavailabilityReason(failed('57014', ['$argon2id$secret']));
      expect(reason).toEqual({ code: '57014', message: 'boom' });
    });
  });

  it('tells a client-side query timeout from other errors', () => {
    expect(isClientQueryTimeout(new Error('Query read timeout'))).toBe(true);
    expect(isClientQueryTimeout(failed('57014'))).toBe(false);
  });
});
