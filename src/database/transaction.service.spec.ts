import { Logger } from '@nestjs/common';
import { QueryFailedError, type DataSource, type EntityManager } from 'typeorm';
import { ApiError } from '../common/api-error.js';
import type { AuthorityVersionService } from './authority-version.service.js';
import { TRANSACTION_ATTEMPTS, TransactionService } from './transaction.service.js';

function failed(code: string): QueryFailedError {
  return new QueryFailedError('SELECT 1 FOR UPDATE', [], Object.assign(new Error(`code ${code}`), { code }));
}

/** A DataSource whose transactions fail with the given errors, in turn, and then run the work. */
function dataSource(type: 'postgres' | 'better-sqlite3', failures: Error[]) {
  const calls = { transactions: 0 };
  const fake = {
    options: { type },
    manager: {},
    transaction: async <T>(work: (em: EntityManager) => Promise<T>): Promise<T> => {
      const failure = failures[calls.transactions++];
      if (failure !== undefined) {
        throw failure;
      }
      return work({} as EntityManager);
    },
  };
  return { dataSource: fake as unknown as DataSource, calls };
}

/** The authority version's two calls, as run() makes them; what they do is AuthorityVersionService's business. */
const authority = {
  bumpIn: () => Promise.resolve(),
  changedHere: () => undefined,
} as unknown as AuthorityVersionService;

describe('TransactionService.run', () => {
  beforeAll(() => Logger.overrideLogger(false));

  it('runs the work again after a deadlock or a serialization failure on PostgreSQL', async () => {
    const { dataSource: ds, calls } = dataSource('postgres', [failed('40P01'), failed('40001')]);
    await expect(new TransactionService(ds, authority).run(() => Promise.resolve('done'))).resolves.toBe('done');
    expect(calls.transactions).toBe(3);
  });

  it(`answers 409 when all ${TRANSACTION_ATTEMPTS} attempts were deadlock victims`, async () => {
    const { dataSource: ds, calls } = dataSource('postgres', Array(TRANSACTION_ATTEMPTS).fill(failed('40P01')));
    const error: unknown = await new TransactionService(ds, authority)
      .run(() => Promise.resolve('never'))
      .catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ type: 'conflict', status: 409 });
    expect(calls.transactions).toBe(TRANSACTION_ATTEMPTS);
  });

  it('passes any other error through at once', async () => {
    const unique = failed('23505');
    const { dataSource: ds, calls } = dataSource('postgres', [unique]);
    await expect(new TransactionService(ds, authority).run(() => Promise.resolve('never'))).rejects.toBe(unique);
    const notFound = ApiError.notFound('User "x" not found');
    const second = dataSource('postgres', []);
    await expect(new TransactionService(second.dataSource, authority).run(() => Promise.reject(notFound))).rejects.toBe(
      notFound,
    );
    expect([calls.transactions, second.calls.transactions]).toEqual([1, 1]);
  });

  it('does not retry on SQLite, where transactions are serialised', async () => {
    const deadlock = failed('40P01');
    const { dataSource: ds, calls } = dataSource('better-sqlite3', [deadlock]);
    await expect(new TransactionService(ds, authority).run(() => Promise.resolve('never'))).rejects.toBe(deadlock);
    expect(calls.transactions).toBe(1);
  });
});
