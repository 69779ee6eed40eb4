/** The load generator: autocannon's programmatic API, a warm-up run, then the measured window. */
import autocannon from 'autocannon';

export interface LoadRequest {
  method?: 'GET' | 'POST' | 'PUT';
  path: string;
  headers?: Record<string, string>;
  /** For requests that differ (unique names): the next request's path and body. */
  next?: () => { path: string; body?: string };
  /** Called with each response whose status is 2xx. */
  onSuccess?: (body: string) => void;
}

export interface LoadOptions {
  baseUrl: string;
  connections: number;
  seconds: number;
  warmupSeconds: number;
  /** A fixed number of requests instead of a window (for rows too slow for one). */
  amount?: number;
  timeoutSeconds?: number;
}

export interface LoadResult {
  requests: number;
  ok: number;
  /** Non-2xx answers plus connection errors and timeouts. */
  failures: number;
  statusCodes: Record<string, number>;
  durationSeconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
}

function run(request: LoadRequest, options: LoadOptions, window: { seconds?: number; amount?: number }) {
  const requests: autocannon.Request[] = [
    {
      method: request.method ?? 'GET',
      path: request.path,
      headers: request.headers,
      ...(request.next
        ? {
            setupRequest: (raw: autocannon.Request) => {
              const { path, body } = request.next!();
              return { ...raw, path, ...(body === undefined ? {} : { body }) };
            },
          }
        : {}),
      ...(request.onSuccess
        ? {
            onResponse: (status: number, body: string) => {
              if (status >= 200 && status < 300) {
                request.onSuccess!(body);
              }
            },
          }
        : {}),
    },
  ];
  return autocannon({
    url: options.baseUrl,
    connections: options.connections,
    ...(window.amount !== undefined ? { amount: window.amount } : { duration: window.seconds }),
    timeout: options.timeoutSeconds ?? 30,
    requests,
  });
}

/** The warm-up: the same requests for warmupSeconds, not measured (none for a row of a fixed amount). */
export async function warmUp(request: LoadRequest, options: LoadOptions): Promise<void> {
  if (options.warmupSeconds > 0 && options.amount === undefined) {
    await run(request, options, { seconds: options.warmupSeconds });
  }
}

/** The measured window (or amount). */
export async function measureOnly(request: LoadRequest, options: LoadOptions): Promise<LoadResult> {
  return summarize(await run(request, options, { seconds: options.seconds, amount: options.amount }));
}

function summarize(result: autocannon.Result): LoadResult {
  const statusCodes = Object.fromEntries(
    Object.entries(result.statusCodeStats ?? {}).map(([code, stats]) => [code, stats.count ?? 0]),
  );
  const requests = Object.values(statusCodes).reduce((sum, count) => sum + count, 0);
  return {
    requests,
    ok: result['2xx'],
    failures: result.non2xx + result.errors,
    statusCodes,
    durationSeconds: result.duration,
    requestsPerSecond: result['2xx'] / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    meanMs: result.latency.mean,
  };
}
