import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import Provider from 'oidc-provider';

/** The redirect URI the test client is registered with (never fetched: the test carries the answer over). */
export const OIDC_REDIRECT_URI = 'https://iam.example.test/api/v1/login/oidc/callback';
export const OIDC_CLIENT_ID = 'iam-service';
export const OIDC_CLIENT_SECRET = 'iam-service-secret-0123456789abcdefghijklmnopqrstuvwxyz';

/** Claims of an account at the test provider (beyond `sub`, its id). */
export type AccountClaims = Record<string, unknown>;

/** A JSON answer of the provider, rewritten by the test on its way to the service. */
export type AnswerRewrite = (
  body: Record<string, unknown>,
) => Record<string, unknown> | Promise<Record<string, unknown>>;

export interface TestOidcProvider {
  issuer: string;
  /** The provider's accounts by id (= `sub`): set or change them between sign-ins. */
  accounts: Map<string, AccountClaims>;
  /** The provider's ID token signing key (RS256, the only key of its published JWKS), to re-sign tokens with. */
  signingKey: { kid: string; privateKey: CryptoKey };
  /** When set, rewrites the token endpoint's answer (POST /token) before the service reads it. */
  rewriteTokenAnswer?: AnswerRewrite;
  /** When set, rewrites the userinfo endpoint's answer (/me) before the service reads it. */
  rewriteUserInfoAnswer?: AnswerRewrite;
  close(): Promise<void>;
}

/** The provider's routes whose JSON answer a test may rewrite (oidc-provider's default paths). */
const REWRITABLE: Partial<Record<string, 'rewriteTokenAnswer' | 'rewriteUserInfoAnswer'>> = {
  '/token': 'rewriteTokenAnswer',
  '/me': 'rewriteUserInfoAnswer',
};

/**
 * A real OIDC provider (panva's oidc-provider) in this process, with its development sign-in pages (any login name is
 * an account; no password checked) and one confidential client that must use PKCE. Its accounts' claims come from
 * `accounts`; `groups` is released with the `profile` scope. It signs ID tokens with a key the test holds
 * (`signingKey`).
 *
 * The issuer is a small HTTP proxy on a free port of 127.0.0.1, in front of the provider on another: it passes
 * everything through as it is, except the token and userinfo endpoints' answers while the test has set
 * `rewriteTokenAnswer`/`rewriteUserInfoAnswer` (a man in the middle, or a provider gone wrong).
 */
export async function startOidcProvider(): Promise<TestOidcProvider> {
  const listen = async (server: Server) => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  };
  let handler: (req: IncomingMessage, res: ServerResponse) => unknown = (_req, res) => res.end();
  const backend: Server = createServer((req, res) => void handler(req, res));
  const backendPort = await listen(backend);
  const proxy: Server = createServer((req, res) => forward(req, res));
  const issuer = `http://127.0.0.1:${await listen(proxy)}`;

  const kid = 'test-signing-key';
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
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
    jwks: { keys: [{ ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' }] },
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

  const idp: TestOidcProvider = {
    issuer,
    accounts,
    signingKey: { kid, privateKey },
    close: async () => {
      for (const server of [proxy, backend]) {
        await new Promise<void>((resolve, reject) => {
          server.closeAllConnections();
          server.close((error) => (error ? reject(error) : resolve()));
        });
      }
    },
  };

  /** The request passed to the provider (Host kept, so its URLs name the proxy), its answer back, maybe rewritten. */
  function forward(req: IncomingMessage, res: ServerResponse) {
    const upstream = request(
      { host: '127.0.0.1', port: backendPort, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        const route = REWRITABLE[new URL(req.url ?? '/', issuer).pathname];
        const rewrite = route === undefined ? undefined : idp[route];
        const json = /^application\/json\b/.test(answer.headers['content-type'] ?? '');
        if (!rewrite || answer.statusCode !== 200 || !json) {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          return;
        }
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          Promise.resolve()
            .then(() => rewrite(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>))
            .then(
              (body) => {
                const text = JSON.stringify(body);
                const headers = { ...answer.headers, 'content-length': String(Buffer.byteLength(text)) };
                delete headers.etag;
                res.writeHead(200, headers);
                res.end(text);
              },
              (error: unknown) => {
                res.writeHead(500, { 'content-type': 'text/plain' });
                res.end(`the test's rewrite failed: ${String(error)}`);
              },
            );
        });
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  }

  return idp;
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
