import { existsSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { ADMIN_TOKEN, createTestApp, TEST_DATABASES, type TestApp } from './utils/create-app.js';
import { adminAuth, createUser, uniqueName } from './utils/fixtures.js';

/**
 * Swagger UI as a person uses it: Debian's Chromium (never a browser playwright downloads), headless, at a host
 * name other than localhost over plain HTTP, so that the CSP, the cookie's attributes and the UI's own requests
 * are what a browser makes of them. `.ci/run` installs chromium when it is missing.
 */
const CHROMIUM = '/usr/bin/chromium';
const HOST = 'iam.test';
const ARTIFACTS = join(import.meta.dirname, 'artifacts');
/** Per browser step: generous, for a slow and busy machine. */
const STEP_TIMEOUT = 60_000;

/** The operation block of `METHOD path`, e.g. GET /api/v1/users. */
function operation(page: Page, method: 'get' | 'post', path: string): Locator {
  return page
    .locator(`.opblock.opblock-${method}`)
    .filter({ has: page.locator(`.opblock-summary-path[data-path="${path}"]`) });
}

/** Expands an operation, Try it out, optionally a JSON body, Execute; the answer's status and parsed body. */
async function tryItOut(op: Locator, body?: unknown): Promise<{ status: string; body: unknown }> {
  await op.locator('.opblock-summary-control').click();
  await op.getByRole('button', { name: 'Try it out' }).click();
  if (body !== undefined) {
    await op.locator('textarea.body-param__text').fill(JSON.stringify(body));
  }
  await op.getByRole('button', { name: 'Execute' }).click();
  const answer = op.locator('.live-responses-table tr.response');
  const status = await answer.locator('.response-col_status').innerText();
  const text = await answer.locator('.highlight-code code').first().innerText();
  return { status: status.trim(), body: JSON.parse(text) };
}

describe.each(TEST_DATABASES)('Swagger UI in Chromium (%s)', (kind) => {
  let t: TestApp;
  let browser: Browser;
  let docsUrl: string;
  /** What the pages said went wrong: uncaught errors and Content-Security-Policy refusals. */
  let pageProblems: string[];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
    }
    // Plain HTTP at a host name other than localhost: a Secure cookie would be dropped by the browser.
    t = await createTestApp(kind, { auth: { sessionCookieSecure: false } });
    await t.app.listen(0, '127.0.0.1');
    const { port } = t.app.getHttpServer().address() as AddressInfo;
    docsUrl = `http://${HOST}:${port}/docs`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [`--host-resolver-rules=MAP ${HOST} 127.0.0.1`],
      timeout: STEP_TIMEOUT,
    });
    mkdirSync(ARTIFACTS, { recursive: true });
  }, 3 * STEP_TIMEOUT);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  let context: BrowserContext;
  let page: Page;
  beforeEach(async () => {
    // A fresh context per test: no token in local storage, no cookie.
    context = await browser.newContext();
    context.setDefaultTimeout(STEP_TIMEOUT);
    page = await context.newPage();
    pageProblems = [];
    page.on('pageerror', (error) => pageProblems.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) {
        pageProblems.push(message.text());
      }
    });
  });
  afterEach(async () => {
    await context.close();
  });

  it(
    'renders the operations',
    async () => {
      await page.goto(docsUrl);
      await operation(page, 'get', '/api/v1/users').waitFor({ state: 'visible' });
      await operation(page, 'post', '/api/v1/login').waitFor({ state: 'visible' });
      expect(await page.locator('.opblock').count()).toBeGreaterThan(20);
      await page.screenshot({ path: join(ARTIFACTS, `swagger-ui-${kind}.png`) });
      expect(pageProblems).toEqual([]);
    },
    5 * STEP_TIMEOUT,
  );

  it(
    'authorizes with the bearer token and lists users with Try it out, and keeps the token across a reload',
    async () => {
      const { name } = await createUser(t, uniqueName('swagger'));
      await page.goto(docsUrl);

      await page.locator('.auth-wrapper button.authorize').click();
      const bearer = page.locator('.modal-ux .auth-container').filter({ hasText: '(http, Bearer)' });
      await bearer.getByRole('textbox').fill(ADMIN_TOKEN);
      await bearer.getByRole('button', { name: 'Apply credentials' }).click();
      await bearer.locator('button', { hasText: 'Logout' }).waitFor({ state: 'visible' });
      await bearer.getByRole('button', { name: 'Close' }).click();

      const list = await tryItOut(operation(page, 'get', '/api/v1/users'));
      expect(list.status).toBe('200');
      expect(list.body).toMatchObject({ items: expect.arrayContaining([expect.objectContaining({ name })]) });
      // The operation block: the request made and the answer shown.
      await operation(page, 'get', '/api/v1/users').screenshot({
        path: join(ARTIFACTS, `swagger-ui-${kind}-users.png`),
      });

      // Loaded anew (the same local storage): the token is still there.
      await page.goto(docsUrl);
      await page.locator('.auth-wrapper button.authorize.locked').waitFor({ state: 'visible' });
      const again = await tryItOut(operation(page, 'get', '/api/v1/users'));
      expect(again.status).toBe('200');
      expect(pageProblems).toEqual([]);
    },
    10 * STEP_TIMEOUT,
  );

  it(
    'signs in with POST /login in the UI, after which the browser sends the session cookie itself',
    async () => {
      const name = uniqueName('swagger-login');
      const password = 'correct horse battery';
      await createUser(t, name);
      await t.http().put(`/api/v1/users/${name}/password`).set(adminAuth).send({ password }).expect(204);
      await page.goto(docsUrl);

      const login = await tryItOut(operation(page, 'post', '/api/v1/login'), { username: name, password });
      expect(login).toMatchObject({ status: '200', body: { name } });
      // Set by the answer to the UI's request (HttpOnly: no script could have), kept by the browser.
      expect(await context.cookies()).toEqual([
        expect.objectContaining({ name: 'session_id', domain: HOST, httpOnly: true, secure: false, sameSite: 'Lax' }),
      ]);

      const sent = page.waitForRequest((request) => new URL(request.url()).pathname === '/api/v1/users/me');
      const me = await tryItOut(operation(page, 'get', '/api/v1/users/me'));
      // No token given to the UI: the cookie alone, added by the browser.
      const headers = await (await sent).allHeaders();
      expect(headers.authorization).toBeUndefined();
      expect(headers.cookie).toMatch(/(?:^|; )session_id=/);
      expect(me).toMatchObject({ status: '200', body: { name, is_admin: false } });
      await operation(page, 'get', '/api/v1/users/me').screenshot({
        path: join(ARTIFACTS, `swagger-ui-${kind}-me.png`),
      });
      expect(pageProblems).toEqual([]);
    },
    10 * STEP_TIMEOUT,
  );
});
