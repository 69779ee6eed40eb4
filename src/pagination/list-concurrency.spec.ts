import { lastValueFrom, of, throwError, defer } from 'rxjs';
import { ListConcurrency, ListConcurrencyInterceptor } from './list-concurrency.js';
import type { CallHandler, ExecutionContext } from '@nestjs/common';

const context = {} as ExecutionContext;

describe('ListConcurrencyInterceptor', () => {
  it('runs one list handler at a time, in arrival order, each answer its own', async () => {
    const interceptor = new ListConcurrencyInterceptor(new ListConcurrency());
    const events: string[] = [];
    const handler = (name: string, ms: number): CallHandler => ({
      handle: () =>
        defer(async () => {
          events.push(`start ${name}`);
          await new Promise((resolve) => setTimeout(resolve, ms));
          events.push(`end ${name}`);
          return name;
        }),
    });
    const answers = await Promise.all([
      lastValueFrom(interceptor.intercept(context, handler('a', 30))),
      lastValueFrom(interceptor.intercept(context, handler('b', 1))),
      lastValueFrom(interceptor.intercept(context, handler('c', 1))),
    ]);
    expect(answers).toEqual(['a', 'b', 'c']);
    expect(events).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('passes a failure on and lets the next list run', async () => {
    const lists = new ListConcurrency();
    const interceptor = new ListConcurrencyInterceptor(lists);
    const failing: CallHandler = { handle: () => throwError(() => new Error('boom')) };
    const fine: CallHandler = { handle: () => of('next') };
    const [failed, next] = await Promise.allSettled([
      lastValueFrom(interceptor.intercept(context, failing)),
      lastValueFrom(interceptor.intercept(context, fine)),
    ]);
    expect(failed).toMatchObject({ status: 'rejected', reason: new Error('boom') });
    expect(next).toEqual({ status: 'fulfilled', value: 'next' });
    expect(lists.pending).toBe(0);
  });
});
