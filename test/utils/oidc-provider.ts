import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

/** The redirect URI the test client is registered with (never fetched: the test carries the answer over). */
export const OIDC_REDIRECT_URI = 'https://iam.example.test/api/v1/login/oidc/callback';
export const OIDC_CLIENT_ID = 'iam-service';
export const OIDC_CLIENT_SECRET = 'iam-service-secret-0123456789abcdefghijklmnopqrstuvwxyz';

/** Claims of an account at the test provider (beyond `sub`, its id). */
export type AccountClaims = Record<string, unknown>;

export interface TestOidcProvider {
  issuer: string;
  /** The provider's accounts by id (= `sub`): set or change them between sign-ins. */
  accounts: Map<string, AccountClaims>;
  close(): Promise<void>;
}

/**
 * A real OIDC provider (panva's oidc-provider) in this process, on a free port of 127.0.0.1, with its development
 * sign-in pages (any login name is an account; no password checked) and one confidential client that must use PKCE.
 * Its accounts' claims come from `accounts`; `groups` is released with the `profile` scope.
 */
export async function startOidcProvider(): Promise<TestOidcProvider> {
  let handler: (req: IncomingMessage, res: ServerResponse) => unknown = (_req, res) => res.end();
  const server: Server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const accounts = new Map<string, AccountClaims>();
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: OIDC_CLIENT_ID,
        client_secret: OIDC_CLIENT_SECRET,
        redirect_uris: [OIDC_REDIRECT_URI],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    claims: {
      openid: ['sub'],
      profile: ['name', 'preferred_username', 'groups'],
      email: ['email', 'email_verified'],
    },
    cookies: { keys: ['test-provider-cookie-key-0123456789'] },
    ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 600, IdToken: 600, Interaction: 600, Session: 600 },
    findAccount: (_ctx, id) => ({
      accountId: id,
      claims: () => ({ sub: id, ...(accounts.get(id) ?? {}) }),
    }),
  });
  handler = provider.callback();
  return {
    issuer,
    accounts,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/**
 * A browser at the provider: follows its redirects by hand with a cookie jar, signs in as `accountId` on its login
 * page and consents, and returns the URL the provider finally sends the browser to (the redirect URI with the code).
 */
export async function signInAtProvider(authorizationUrl: string, accountId: string): Promise<URL> {
  const jar = new Map<string, string>();
  const send = async (url: URL, body?: URLSearchParams) => {
    const res = await fetch(url, {
      method: body ? 'POST' : 'GET',
      redirect: 'manual',
      headers: {
        cookie: [...jar].map(([name, value]) => `${name}=${value}`).join('; '),
        ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body,
    });
    for (const cookie of res.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const at = pair.indexOf('=');
      jar.set(pair.slice(0, at), pair.slice(at + 1));
    }
    return res;
  };
  let url = new URL(authorizationUrl);
  for (let step = 0; step < 20; step++) {
    if (url.href.startsWith(OIDC_REDIRECT_URI)) {
      return url;
    }
    const res = await send(url);
    if (res.status >= 300 && res.status < 400) {
      url = new URL(res.headers.get('location')!, url);
      continue;
    }
    const page = await res.text();
    const prompt = /name="prompt" value="(\w+)"/.exec(page)?.[1];
    if (res.status !== 200 || !prompt) {
      throw new Error(`unexpected page at the provider: ${res.status} ${page.slice(0, 500)}`);
    }
    const submitted = await send(
      url,
      new URLSearchParams(prompt === 'login' ? { prompt, login: accountId, password: 'any' } : { prompt }),
    );
    if (submitted.status < 300 || submitted.status >= 400) {
      throw new Error(`the provider refused the ${prompt} form: ${submitted.status} ${await submitted.text()}`);
    }
    url = new URL(submitted.headers.get('location')!, url);
  }
  throw new Error('too many redirects at the provider');
}
