import { AsyncLocalStorage } from 'node:async_hooks';
import type { Request } from 'express';

/**
 * The request an IAM route is serving, for code far from its controller: the audit trail records who asked, from
 * where and under which request id without every service signature carrying the request. IamHttpMiddleware runs the
 * rest of each request's handling (guards, pipes, controller, services, filter) inside it; code that runs outside a
 * request (start-up, timers) finds none.
 *
 * Node's own AsyncLocalStorage rather than a library's (nestjs-cls): one store of our own, set by middleware that is
 * bound to the IAM's routes only, so a host's routes, and a host's own use of nestjs-cls, never meet it; and the
 * request object itself is the store, so nothing is copied per request.
 */
const current = new AsyncLocalStorage<Request>();

/** Runs `next` (the rest of the request's handling) with `req` as the current request. */
export function runWithRequest<T>(req: Request, next: () => T): T {
  return current.run(req, next);
}

/** The request being served, or undefined outside an IAM route. */
export function currentRequest(): Request | undefined {
  return current.getStore();
}
