import {
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
  UseInterceptors,
} from '@nestjs/common';
import pLimit from 'p-limit';
import { from, lastValueFrom, type Observable } from 'rxjs';

/**
 * How many list requests an instance works on at once. A page of 1,000 items is some 20 ms of work on the one
 * JavaScript thread, split into a few blocks (it yields between its statements); fifty lists worked on together ran
 * one block of each in every turn of the event loop and held up every other request, /health included, for as long
 * as fifty blocks take (0.9 s measured). One at a time keeps a turn to one block; the others wait in the queue at no
 * cost, and the same number of lists is answered per second, as the work is the same (`npm run bench`, the list
 * rows). With two at a time the longest turn was about twice as long and no more lists were answered.
 */
export const LIST_CONCURRENCY = 1;

/** The queue of list requests (one per instance: PaginationModule is global). */
@Injectable()
export class ListConcurrency {
  private readonly limit = pLimit(LIST_CONCURRENCY);

  run<T>(work: () => Promise<T>): Promise<T> {
    return this.limit(work);
  }

  /** Lists waiting for their turn (for tests and diagnostics). */
  get pending(): number {
    return this.limit.pendingCount;
  }
}

/** Runs a list route's handler in its turn (ListConcurrency); the answer is written after it, outside the queue. */
@Injectable()
export class ListConcurrencyInterceptor implements NestInterceptor {
  constructor(private readonly lists: ListConcurrency) {}

  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return from(this.lists.run(() => lastValueFrom(next.handle(), { defaultValue: undefined })));
  }
}

/** A list route: worked on at most LIST_CONCURRENCY at a time per instance. */
export const QueuedList = () => UseInterceptors(ListConcurrencyInterceptor);
