import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * Lets the event loop serve what is waiting (other requests, timers) before going on. better-sqlite3 runs each
 * statement synchronously and TypeORM continues in microtasks, so without this a request that reads a big page runs
 * from its first statement to its answer in one block, and fifty such requests together hold up everything else for
 * a second. Lists call it between their statements, so that the longest block is one statement or one mapping.
 */
export async function yieldToEventLoop(): Promise<void> {
  await nextTurn();
}
