import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { AUTHORITY_POLL_MS, AUTHORITY_TRUST_MS, AuthorityVersionService } from './authority-version.service.js';

/** A DataSource whose counter row holds `state.version` (or whose reads fail while `state.down`). */
function counter(initial: number) {
  const state = { version: initial, down: false };
  const dataSource = {
    getRepository: () => ({
      findOne: () =>
        state.down
          ? Promise.reject(new Error('connection refused'))
          : Promise.resolve({ version: String(state.version) }),
    }),
  } as unknown as DataSource;
  return { state, dataSource };
}

/** Lets the interval's poll run and its promise settle. */
async function tick(ms = AUTHORITY_POLL_MS) {
  await jest.advanceTimersByTimeAsync(ms);
}

describe('AuthorityVersionService', () => {
  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('moves to a new generation when another instance moves the counter, within one poll', async () => {
    const { state, dataSource } = counter(7);
    const service = new AuthorityVersionService(dataSource);
    await service.onApplicationBootstrap();
    const before = service.current();
    expect(before).not.toBeNull();
    await tick();
    expect(service.current()).toBe(before);
    state.version = 8;
    await tick();
    expect(service.current()).not.toBe(before);
    service.beforeApplicationShutdown();
  });

  it('drops the cache once for its own commit, not a second time when its poll reads that commit', async () => {
    const { state, dataSource } = counter(3);
    const service = new AuthorityVersionService(dataSource);
    await service.onApplicationBootstrap();
    state.version = 4;
    service.changedHere(4n);
    const after = service.current();
    await tick();
    expect(service.current()).toBe(after);
    service.beforeApplicationShutdown();
  });

  it('after a rolled-back bump, takes the next reading as new, whatever it is', async () => {
    const { dataSource } = counter(5);
    const service = new AuthorityVersionService(dataSource);
    await service.onApplicationBootstrap();
    service.changedHere();
    const after = service.current();
    await tick();
    expect(service.current()).not.toBe(after);
    service.beforeApplicationShutdown();
  });

  it('counts a counter that went back (a restored backup) as a change', async () => {
    const { state, dataSource } = counter(10);
    const service = new AuthorityVersionService(dataSource);
    await service.onApplicationBootstrap();
    const before = service.current();
    state.version = 2;
    await tick();
    expect(service.current()).not.toBe(before);
    service.beforeApplicationShutdown();
  });

  it(`trusts nothing cached while the counter cannot be read for ${AUTHORITY_TRUST_MS} ms, and again once it can`, async () => {
    const { state, dataSource } = counter(1);
    const service = new AuthorityVersionService(dataSource);
    await service.onApplicationBootstrap();
    state.down = true;
    await tick(AUTHORITY_TRUST_MS);
    expect(service.current()).toBeNull();
    state.down = false;
    await tick();
    expect(service.current()).not.toBeNull();
    service.beforeApplicationShutdown();
  });

  it('reads the counter itself when its poll is late (a busy event loop), once for all who ask meanwhile', async () => {
    const { state, dataSource } = counter(1);
    let reads = 0;
    const repository = dataSource.getRepository('x');
    Object.assign(dataSource, {
      getRepository: () => ({ findOne: () => (reads++, repository.findOne({})) }),
    });
    const service = new AuthorityVersionService(dataSource);
    await service.onApplicationBootstrap();
    service.beforeApplicationShutdown(); // no more polls: as if the timer could not run
    jest.advanceTimersByTime(AUTHORITY_TRUST_MS);
    expect(service.current()).toBeNull();
    state.version = 2;
    const before = reads;
    const [first, second] = await Promise.all([service.confirmed(), service.confirmed()]);
    expect(reads - before).toBe(1);
    expect(first).not.toBeNull();
    expect(second).toBe(first);
  });

  it('trusts nothing before its first reading', () => {
    const { dataSource } = counter(1);
    expect(new AuthorityVersionService(dataSource).current()).toBeNull();
  });
});
