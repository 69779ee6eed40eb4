import { jest } from '@jest/globals';
import { Progress } from './progress.js';

/** A stream that keeps what is written. */
function stream(isTTY: boolean) {
  const written: string[] = [];
  return { isTTY, written, write: (text: string) => written.push(text), text: () => written.join('') };
}

describe('Progress', () => {
  let clock = 0;
  const now = () => clock;
  const advance = (ms: number) => {
    clock += ms;
    jest.advanceTimersByTime(ms);
  };

  beforeEach(() => {
    jest.useFakeTimers();
    clock = 0;
  });
  afterEach(() => jest.useRealTimers());

  it('shows nothing for what ends within the delay', () => {
    const out = stream(true);
    const progress = new Progress('Listing users', { stream: out, now });
    advance(999);
    progress.done('Listed 3 users');
    advance(5000);
    expect(out.written).toEqual([]);
  });

  it('on a terminal, redraws one line in place after the delay, then clears it and sums up', () => {
    const out = stream(true);
    const progress = new Progress('Listing users', { stream: out, now });
    advance(1000);
    expect(out.text()).toBe('\r\x1b[KListing users (1.0 s)');
    progress.update('Listing users: page 2, 2000 so far');
    advance(250);
    expect(out.written.at(-1)).toBe('\r\x1b[KListing users: page 2, 2000 so far (1.3 s)');
    progress.done('Listed 2500 users');
    expect(out.written.slice(-2)).toEqual(['\r\x1b[K', 'Listed 2500 users (1.3 s)\n']);
    const count = out.written.length;
    advance(5000);
    expect(out.written).toHaveLength(count); // stopped
  });

  it('elsewhere (a pipe, a log), writes whole lines, a few seconds apart', () => {
    const out = stream(false);
    const progress = new Progress('Applying migrations', { stream: out, now });
    advance(1000);
    advance(4999);
    expect(out.written).toEqual(['Applying migrations (1.0 s)\n']);
    advance(1);
    expect(out.written).toEqual(['Applying migrations (1.0 s)\n', 'Applying migrations (6.0 s)\n']);
    progress.done('Applied 6 migrations');
    expect(out.written.at(-1)).toBe('Applied 6 migrations (6.0 s)\n');
    expect(out.text()).not.toContain('\r');
  });
});
