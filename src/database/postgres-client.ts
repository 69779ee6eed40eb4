import pg from 'pg';
import { isClientQueryTimeout } from './database-errors.js';

/**
 * node-postgres's Client, except that a query it gave up on (query_timeout: the server stopped answering,
 * e.g. frozen) also ends the connection. Left alone, the client would go back to the pool with the
 * statement still pending on it, and the next request to borrow it would queue behind that statement, or
 * run inside the transaction it belonged to. Closing the socket fails whatever is queued on the client at
 * once and makes the pool throw the client away.
 */
export class DeadlineClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    const query = super.query.bind(this) as (...args: unknown[]) => unknown;
    this.query = ((...args: unknown[]) => {
      const result = query(...args);
      if (result instanceof Promise) {
        result.catch((error: unknown) => {
          if (isClientQueryTimeout(error)) {
            this.dropConnection();
          }
        });
      }
      return result;
    }) as pg.Client['query'];
  }

  private dropConnection(): void {
    const { connection } = this as unknown as { connection?: { stream?: { destroy(): void } } };
    connection?.stream?.destroy();
  }
}
