import type { IncomingHttpHeaders } from 'node:http';
import { ValidateBy, type ValidationOptions } from 'class-validator';

/** A DNS name (labels of letters, digits, `-`, `_`) or a bracketed IPv6 address: no `*` or other wildcard. */
const HOST_NAME = /^(?:[a-z0-9_-]+(?:\.[a-z0-9_-]+)*|\[[0-9a-f:.]+\])$/;

/**
 * True for an origin written exactly as a browser sends it in the `Origin` header: `http(s)://host[:port]`,
 * lower-case, without a default port, a path (not even `/`), a query, a fragment or credentials. Only such a
 * value can ever equal an `Origin` header, so IAM_ALLOWED_ORIGINS accepts nothing else.
 */
export function isSerialisedOrigin(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return (
    (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value && HOST_NAME.test(url.hostname)
  );
}

/** The origins of a comma-separated list (IAM_ALLOWED_ORIGINS), trimmed, empty items dropped. */
export function parseOriginList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin.length > 0);
}

/** A comma-separated list of at least one origin, each as isSerialisedOrigin() requires (IAM_ALLOWED_ORIGINS). */
export const IsOriginList = (options?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'isOriginList',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' &&
          parseOriginList(value).length > 0 &&
          parseOriginList(value).every(isSerialisedOrigin),
        defaultMessage: (args) =>
          `${args?.property ?? 'value'} must be comma-separated origins as browsers send them: http(s)://host[:port], lower-case, ` +
          'with no path or trailing slash, no default port and no wildcard (e.g. https://app.example.com)',
      },
    },
    options,
  );

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const header = (headers: IncomingHttpHeaders, name: string): string => {
  const value = headers[name];
  return typeof value === 'string' ? value : '';
};

/** Whether `origin` names the host the request was sent to (scheme not compared, as Go does). */
function isSameHost(origin: string, host: string): boolean {
  if (host.length === 0) {
    return false;
  }
  try {
    return new URL(origin).host === host.toLowerCase();
  } catch {
    return false; // `null` (sandboxed frames, some redirects) and other unparseable values
  }
}

/**
 * Cross-site request forgery protection by the rule of Go's `http.CrossOriginProtection` (and OWASP's
 * origin verification): why a browser request from another origin must not change anything, or null when
 * it may go on.
 *
 * - GET, HEAD and OPTIONS change nothing and always go on.
 * - `Sec-Fetch-Site` (every browser since 2023): `same-origin` and `none` (typed in the address bar) go on;
 *   anything else (`same-site`, `cross-site`) is refused unless `Origin` is one of `allowedOrigins`.
 * - Without it, an `Origin` header must name the host of the `Host` header or be one of `allowedOrigins`.
 * - Neither header: not a browser (curl, scripts), or a same-origin request of a very old browser: goes on.
 *
 * Requests authenticated by an `Authorization` header are not checked at all (a page on another site cannot
 * set one without a CORS preflight that only `allowedOrigins` pass): the caller decides that.
 */
export function crossOriginRefusal(
  req: { method: string; headers: IncomingHttpHeaders },
  allowedOrigins: ReadonlySet<string>,
): string | null {
  if (SAFE_METHODS.has(req.method.toUpperCase())) {
    return null;
  }
  const origin = header(req.headers, 'origin');
  const site = header(req.headers, 'sec-fetch-site');
  if (site !== '') {
    if (site === 'same-origin' || site === 'none' || allowedOrigins.has(origin)) {
      return null;
    }
    return `Cross-site request refused: a ${site} page may not send ${req.method} requests with the session cookie`;
  }
  if (origin === '' || isSameHost(origin, header(req.headers, 'host')) || allowedOrigins.has(origin)) {
    return null;
  }
  return `Cross-origin request refused: Origin ${JSON.stringify(origin)} is neither this service nor an allowed origin`;
}
