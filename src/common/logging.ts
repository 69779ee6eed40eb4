import type { Params } from 'nestjs-pino';
import type { Options } from 'pino-http';
import type { AppConfig } from '../config/app.config.js';

export const REDACTED = '[Redacted]';

/**
 * A URL as it may be logged: the path, and `?[Redacted]` in place of any query string. The API reads no
 * query parameters, and a query can carry a credential (`?access_token=…`, refused but still sent), so
 * no part of it is logged: not even parameter names, since a bare token can be a name.
 */
export function loggableUrl(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : `${url.slice(0, query)}?${REDACTED}`;
}

/** The request log: one short JSON line per request, without credentials. */
export function loggerParams(config: AppConfig): Params & { pinoHttp: Options } {
  return {
    pinoHttp: {
      level: config.logLevel,
      genReqId: (req) => req.id, // set by requestId(), first middleware of all
      // No headers (and so no credentials) and no query string in the line.
      serializers: {
        req: (req: { id: unknown; method: string; url: string; remoteAddress?: string }) => ({
          id: req.id,
          method: req.method,
          url: loggableUrl(req.url),
          remoteAddress: req.remoteAddress,
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      // Should a serializer above ever let headers through, the credentials among them are still censored.
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
        censor: REDACTED,
      },
      autoLogging: { ignore: (req) => req.url === '/health' },
      // No error object in the request line of a 5xx: pino-http would add a made-up one ("failed with status
      // code 503") with a stack to every such line. ApiExceptionFilter logs the real error, once per request.
      customErrorObject: (_req, _res, _error, line: Record<string, unknown>) =>
        Object.fromEntries(Object.entries(line).filter(([key]) => key !== 'err')),
    },
  };
}
