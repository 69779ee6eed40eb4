/** A base no relative path can leave: a path that resolves elsewhere is not relative. */
const RELATIVE_BASE = 'http://relative.invalid';

/** Longest redirect_to accepted. */
export const REDIRECT_TO_MAX_LENGTH = 2000;

/**
 * Where a sign-in may send the browser back to: a path of this site (`/app?tab=1`: a single leading `/`, never `//`
 * or `/\`, which browsers read as another host), or a URL of one of `allowedOrigins` (http or https, no credentials).
 * No control characters or backslashes anywhere (browsers drop or turn them into `/`). The target as it will be sent
 * in Location, or null when refused.
 */
export function safeRedirectTarget(value: string, allowedOrigins: readonly string[]): string | null {
  if (value.length === 0 || value.length > REDIRECT_TO_MAX_LENGTH || /[\p{Cc}\\]/u.test(value)) {
    return null;
  }
  if (value.startsWith('/')) {
    if (value.startsWith('//')) {
      return null;
    }
    try {
      return new URL(value, RELATIVE_BASE).origin === RELATIVE_BASE ? value : null;
    } catch {
      return null;
    }
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password) {
    return null;
  }
  const allowed = allowedOrigins.map((origin) => new URL(origin).origin);
  return allowed.includes(url.origin) ? url.href : null;
}
