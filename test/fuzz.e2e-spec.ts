import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Ajv, type ValidateFunction } from 'ajv';
import fc from 'fast-check';
import { DataSource } from 'typeorm';
import { ERROR_TYPE_BY_STATUS } from '../src/common/api-error.js';
import { ADMIN_TOKEN, createTestApp, TEST_DATABASES, type TestApp, type TestDatabaseKind } from './utils/create-app.js';
import { type DatabaseSnapshot, snapshotDatabase, snapshotDifferences } from './utils/db-snapshot.js';
import {
  adminAuth,
  createGroup,
  createServiceAccount,
  createUser,
  signedInUser,
  uniqueName,
} from './utils/fixtures.js';
import { getDataSourceToken } from '@nestjs/typeorm';
import { IAM_DATA_SOURCE } from '../src/database/iam-data-source.js';

/*
 * Property-based test of the whole API: every operation of the OpenAPI document, sent with generated bodies,
 * path parameters and headers, as the administrator, as an unprivileged signed-in user, as a service account
 * with a narrow role and as nobody. Properties: never a 5xx; every error answer has the error body; and a 4xx
 * leaves the database as it was.
 *
 * A failure prints fast-check's seed and counterexample path. To replay it: FUZZ_SEED=<seed> (and
 * FUZZ_RUNS=<runs per operation>) npm test -- test/fuzz.e2e-spec.ts. The database state a request meets also
 * depends on the requests before it, so replay with the same seed from the start.
 */
const RUNS_PER_OPERATION = Number(process.env.FUZZ_RUNS ?? 20);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
/** No answer within this is a hang, reported as a failure (sized for a slow, busy machine). */
const REQUEST_TIMEOUT_MS = 30_000;
const PASSWORD = 'correct horse battery';

// ---------------------------------------------------------------------------------------------------------
// The OpenAPI document, as much of it as the generators read.

interface SchemaObject {
  $ref?: string;
  type?: string;
  enum?: string[];
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  nullable?: boolean;
  properties?: Record<string, SchemaObject>;
  required?: string[];
  additionalProperties?: SchemaObject | boolean;
  maxProperties?: number;
  items?: SchemaObject;
  minItems?: number;
  maxItems?: number;
  oneOf?: SchemaObject[];
  example?: unknown;
}

interface OpenApiDocument {
  paths: Record<
    string,
    Record<
      string,
      {
        parameters?: { name: string; in: string }[];
        requestBody?: { content: Record<string, { schema: SchemaObject }> };
      }
    >
  >;
  components: { schemas: Record<string, SchemaObject> };
}

interface Operation {
  method: string;
  path: string;
  pathParams: string[];
  body?: SchemaObject;
}

function operationsOf(doc: OpenApiDocument): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      pathParams: (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name),
      body: op.requestBody?.content['application/json']?.schema,
    })),
  );
}

// ---------------------------------------------------------------------------------------------------------
// Generators.

/** Text a careless parser, a database or a comparison may trip on. */
const oddCharacter = fc.constantFrom(
  '\u0000', // NUL: PostgreSQL cannot store it
  '\ud800', // lone surrogates: not encodable as UTF-8
  '\udfff',
  '\u200b', // zero-width space
  '\u202e', // right-to-left override
  '\ufeff', // byte-order mark
  '\uffff',
  '\u034f', // combining grapheme joiner (invisible)
  'e\u0301', // NFD é
  'é',
  'а', // Cyrillic
  'Α', // Greek
  '😀',
  '%',
  '.',
  '/',
  '\\',
  ':',
  '*',
  '"',
  "'",
  ' ',
  '\t',
  '\n',
  '\u0085',
);

const hugeText = fc
  .tuple(fc.constantFrom(1_000, 20_000, 120_000), fc.constantFrom('x', 'é', '😀', '\u0000', '\ud800'))
  .map(([length, unit]) => unit.repeat(length));

const oddText: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 3, arbitrary: fc.string({ unit: oddCharacter, minLength: 1, maxLength: 20 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      '..',
      '%',
      'null',
      '__proto__',
      'constructor',
      "' OR '1'='1",
      'iam:user:*',
      '*',
      'admin',
      'ADMIN',
      'me',
    ),
  },
  { weight: 1, arbitrary: hugeText },
);

const slug = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,30}$/);

/** Values of any JSON type, for a field that expects another. */
function nested(depth: number, leaf: unknown): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) {
    value = i % 2 === 0 ? { a: value } : [value];
  }
  return value;
}
const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(null, true, false, 0, -1, 1.5, 1e308, -0, [], {}, [null], { '': '' }),
  oddText,
  fc.integer({ min: 20, max: 300 }).map((depth) => nested(depth, 'x')),
);

/** Sets a key the way JSON.parse would (`__proto__` included), not through the prototype setter. */
function withKey(object: object, key: string, value: unknown): Record<string, unknown> {
  const copy = { ...(object as Record<string, unknown>) };
  Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
  return copy;
}

class Generators {
  constructor(
    private readonly doc: OpenApiDocument,
    /** Names that exist (or existed) in the database, so that requests reach past the 404s. */
    private readonly names: KnownNames,
  ) {}

  private get known() {
    return fc.constantFrom(...Object.values(this.names).flat(), PASSWORD);
  }

  /** Known names of the kind a field or path refers to, by its name; all known names otherwise. */
  private knownFor(hint: string | undefined) {
    const kind: keyof KnownNames | undefined =
      hint === undefined
        ? undefined
        : /group/.test(hint)
          ? 'group'
          : /role/.test(hint)
            ? 'role'
            : /service-account/.test(hint)
              ? 'service-account'
              : /user|member/.test(hint)
                ? 'user'
                : undefined;
    if (kind === undefined) {
      return this.known;
    }
    const names =
      kind === 'user' && hint !== undefined && /member/.test(hint)
        ? [...this.names.user, ...this.names['service-account']]
        : this.names[kind];
    return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...names) }, { weight: 1, arbitrary: this.known });
  }

  private resolve(schema: SchemaObject): SchemaObject {
    if (schema.$ref) {
      return this.doc.components.schemas[schema.$ref.replace('#/components/schemas/', '')];
    }
    return schema;
  }

  /** Strings of the schema; `valid` keeps to what the API accepts (so that writes happen), else anything goes. */
  private string(schema: SchemaObject, valid: boolean, field?: string): fc.Arbitrary<string> {
    const min = schema.minLength ?? 0;
    const max = schema.maxLength ?? 500;
    if (schema.enum) {
      const values = fc.constantFrom(...schema.enum);
      return valid ? values : fc.oneof({ weight: 4, arbitrary: values }, { weight: 1, arbitrary: oddText });
    }
    if (schema.format === 'date-time') {
      const future = fc
        .date({ min: new Date('2031-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true })
        .map((date) => date.toISOString());
      if (valid) {
        return future;
      }
      const odd = fc.constantFrom(
        '2035-01-01T00:00:00+14:00',
        '2035-01-01',
        '2035-02-30T00:00:00Z',
        '2035-01-01T24:00:00Z',
        '2035-01-01T23:59:60Z',
        '1970-01-01T00:00:00Z',
        '+275760-09-13T00:00:00Z',
        '9999-12-31T23:59:59.999999999-23:59',
        'tomorrow',
      );
      return fc.oneof(
        { weight: 3, arbitrary: future },
        { weight: 1, arbitrary: odd },
        { weight: 1, arbitrary: oddText },
      );
    }
    if (schema.format === 'email') {
      const email = slug.map((local) => `${local}@example.com`);
      return valid ? email : fc.oneof(email, fc.emailAddress(), oddText);
    }
    const fits = (text: string) => [...text].length >= min && [...text].length <= max;
    if (valid) {
      const candidates = fc.oneof(
        this.knownFor(field).filter(fits),
        slug.filter(fits),
        fc.constant('x'.repeat(Math.max(min, 8))),
      );
      if (schema.pattern === undefined) {
        return candidates;
      }
      // A candidate that breaks the pattern (a slug for a resource pattern) is replaced by one made from it.
      const pattern = new RegExp(schema.pattern, 'u');
      return candidates.chain((text) =>
        pattern.test(text) ? fc.constant(text) : fc.stringMatching(pattern).filter(fits),
      );
    }
    return fc.oneof(
      { weight: 3, arbitrary: this.knownFor(field) },
      { weight: 3, arbitrary: slug },
      { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: min, maxLength: Math.min(max, 40) }) },
      { weight: 1, arbitrary: fc.constantFrom('x'.repeat(max), 'x'.repeat(max + 1), '😀'.repeat(max)) },
      { weight: 1, arbitrary: oddText },
    );
  }

  /** A value of the schema: `valid` ones pass validation, the others mostly fit but not always. */
  value(raw: SchemaObject, valid: boolean, field?: string): fc.Arbitrary<unknown> {
    const schema = this.resolve(raw);
    const fitting =
      valid && raw.example !== undefined
        ? fc.oneof(fc.constant(raw.example), this.fitting(schema, valid, field))
        : this.fitting(schema, valid, field);
    return schema.nullable
      ? fc.oneof({ weight: 4, arbitrary: fitting }, { weight: 1, arbitrary: fc.constant(null) })
      : fitting;
  }

  private fitting(schema: SchemaObject, valid: boolean, field?: string): fc.Arbitrary<unknown> {
    if (schema.oneOf) {
      return fc.oneof(...schema.oneOf.map((option) => this.value(option, valid, field)));
    }
    if (schema.type === 'string') {
      return this.string(schema, valid, field);
    }
    if (schema.type === 'array') {
      const items = schema.items ? this.value(schema.items, valid, field) : wrongValue;
      return fc.array(items, { minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 4, 4) });
    }
    if (schema.type === 'object' && schema.properties) {
      return this.object(schema, valid);
    }
    const key = valid ? slug : fc.oneof(slug, oddText);
    if (schema.type === 'object' && typeof schema.additionalProperties === 'object') {
      return fc.dictionary(key, this.value(schema.additionalProperties, valid), {
        maxKeys: Math.min(schema.maxProperties ?? 4, 4),
      });
    }
    return fc.dictionary(key, valid ? slug : wrongValue, { maxKeys: 4 });
  }

  private object(schema: SchemaObject, valid: boolean): fc.Arbitrary<Record<string, unknown>> {
    const properties = schema.properties ?? {};
    return fc.record(
      Object.fromEntries(
        Object.entries(properties).map(([name, property]) => [name, this.value(property, valid, name)]),
      ),
      { requiredKeys: (schema.required ?? []).filter((name) => name in properties) },
    );
  }

  /** A body for the operation: fitting, slightly off, arbitrary JSON, or no JSON at all. */
  body(op: Operation): fc.Arbitrary<Body> {
    const json = (arbitrary: fc.Arbitrary<unknown>) => arbitrary.map((value): Body => ({ kind: 'json', value }));
    const raw = fc.oneof(
      fc.constantFrom(
        '',
        '{',
        '{"name": ',
        '{"a":1}{"b":2}',
        '{"a":1,}',
        "{'a':1}",
        'NaN',
        '\ufeff{}',
        '{"a":"\\ud800"}',
        '{"a":"\\u0000"}',
        '{"__proto__":{"isAdmin":true}}',
        '{"constructor":{"prototype":{"x":1}}}',
        '{"a":1e999999}',
        '{"a":-0,"a":1}',
        'name=alice',
      ),
      fc.string({ unit: 'binary', maxLength: 60 }),
    );
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 60 }),
      fc.constantFrom(
        Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), // {"a":"<invalid UTF-8>"}
        Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d]), // an encoded surrogate
        Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc0, 0xae, 0x22, 0x7d]), // an overlong dot
        Buffer.from('{"name":"x"}', 'utf16le'),
      ),
    );
    const deep = fc.tuple(fc.integer({ min: 30, max: 60_000 }), fc.boolean()).map(([depth, inObject]): Body => {
      const text = `${'['.repeat(depth)}1${']'.repeat(depth)}`;
      return { kind: 'text', text: inObject ? `{"metadata":${text}}` : text };
    });
    const anything = fc.oneof(
      { weight: 1, arbitrary: json(wrongValue) },
      { weight: 1, arbitrary: raw.map((text): Body => ({ kind: 'text', text })) },
      { weight: 1, arbitrary: bytes.map((data): Body => ({ kind: 'bytes', data: Buffer.from(data) })) },
      { weight: 1, arbitrary: deep },
      { weight: 1, arbitrary: json(fc.dictionary(fc.oneof(slug, oddText), wrongValue, { maxKeys: 4 })) },
    );
    const none = fc.constant<Body>({ kind: 'none' });
    if (!op.body) {
      return fc.oneof(
        { weight: 6, arbitrary: none },
        { weight: 1, arbitrary: json(fc.constant({})) },
        { weight: 2, arbitrary: anything },
      );
    }
    const schema = this.resolve(op.body);
    const valid = this.value(schema, true);
    const fitting = this.value(schema, false);
    const fields = Object.keys(schema.properties ?? {});
    const unknownKey = fc.oneof(
      oddText,
      fc.constantFrom(
        '__proto__',
        'constructor',
        'prototype',
        'access_token',
        'id',
        'password_hash',
        'token_hash',
        'is_builtin_admin',
        'NAME',
        'name ',
      ),
    );
    return fc.oneof(
      { weight: 8, arbitrary: json(valid) },
      { weight: 3, arbitrary: json(fitting) },
      {
        weight: 1,
        arbitrary: fc
          .tuple(fitting, unknownKey, wrongValue)
          .map(([value, key, extra]): Body => ({ kind: 'json', value: withKey(value as object, key, extra) })),
      },
      ...(fields.length > 0
        ? [
            {
              weight: 2,
              arbitrary: fc
                .tuple(fitting, fc.constantFrom(...fields), wrongValue)
                .map(([value, key, wrong]): Body => ({ kind: 'json', value: withKey(value as object, key, wrong) })),
            },
          ]
        : []),
      { weight: 1, arbitrary: none },
      { weight: 2, arbitrary: anything },
    );
  }

  /** A path parameter: a known name, a plain one, odd text (percent-encoded), or raw URL syntax. */
  pathParam(op: Operation): fc.Arbitrary<PathParam> {
    const encoded = (arbitrary: fc.Arbitrary<string>) => arbitrary.map((value): PathParam => ({ value, raw: false }));
    return fc.oneof(
      { weight: 8, arbitrary: encoded(this.knownFor(op.path.split('/')[3])) },
      { weight: 2, arbitrary: encoded(slug) },
      { weight: 1, arbitrary: encoded(this.known.map((name) => name.toUpperCase())) },
      { weight: 3, arbitrary: encoded(oddText.filter((text) => text.length < 5000)) },
      { weight: 1, arbitrary: encoded(fc.integer({ min: 64, max: 5000 }).map((length) => 'a'.repeat(length))) },
      {
        weight: 2,
        arbitrary: fc
          .constantFrom(
            '%',
            '%00',
            '%zz',
            '%E0%A4%A',
            '%C0%AE',
            '%ED%A0%80',
            '%FF',
            '%u0041',
            '..',
            '.',
            '%2e%2e',
            '%2E',
            'a%2Fb',
            'a/b',
            '..%2F..%2Fhealth',
            '%252e',
            'a;b=c',
            '*',
            '~',
            "'",
            '$',
            '!',
          )
          .map((value): PathParam => ({ value, raw: true })),
      },
    );
  }
}

/** Names that exist (or did) in the database, by kind. */
type KnownNames = Record<'user' | 'group' | 'role' | 'service-account', string[]>;

type Body =
  | { kind: 'none' }
  | { kind: 'json'; value: unknown }
  | { kind: 'text'; text: string }
  | { kind: 'bytes'; data: Buffer };

interface PathParam {
  value: string;
  /** Sent as it is (URL syntax) instead of percent-encoded. */
  raw: boolean;
}

type Who = 'admin' | 'user' | 'service_account' | 'anonymous';

/** How the caller's credential is presented. `proper` is how a well-behaved client sends it. */
const AUTH_VARIANTS = [
  'lowercase-scheme',
  'double-space',
  'extra-word',
  'basic',
  'scheme-only',
  'empty',
  'twice',
  'tab',
  'garbage',
  'malformed-sa-token',
  'long',
  'session-as-bearer',
  'none',
] as const;
type AuthVariant = 'proper' | (typeof AUTH_VARIANTS)[number];

const COOKIE_VARIANTS = ['garbage', 'two', 'bad-encoding', 'among-others', 'long', 'token-as-cookie', 'none'] as const;
type CookieVariant = 'proper' | (typeof COOKIE_VARIANTS)[number];

const CONTENT_TYPES = [
  undefined,
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/json; charset="UTF-8"',
  'application/json;charset=latin1',
  'application/json; charset=utf-16le',
  'application/json; charset=bogus',
  'application/json; charset=',
  'application/merge-patch+json',
  'application/vnd.api+json',
  'application/jsonx',
  'application/json, text/plain',
  'text/plain',
  'text/json',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  '*/*',
  '',
];

interface FuzzRequest {
  /** Another method on the operation's path than the document's (undefined: the document's). */
  method: string | undefined;
  who: Who;
  pathParam: PathParam;
  query: string;
  body: Body;
  auth: AuthVariant;
  cookie: CookieVariant;
  /** Random header-safe text for the garbage variants. */
  noise: string;
  contentType: string | undefined;
  contentEncoding: string | undefined;
  chunked: boolean;
  requestId: string | undefined;
  origin: string | undefined;
}

/** Text Node lets us put in a header value. */
const headerText = fc.string({
  unit: fc
    .integer({ min: 0x20, max: 0xff })
    .filter((code) => code !== 0x7f)
    .map((code) => String.fromCharCode(code)),
  maxLength: 40,
});

function sometimes<T>(usual: T, others: fc.Arbitrary<T>, oddsAgainst = 6): fc.Arbitrary<T> {
  return fc.oneof({ weight: oddsAgainst, arbitrary: fc.constant(usual) }, { weight: 1, arbitrary: others });
}

/** How a well-behaved client sends a request: the baseline that the odd variants depart from. */
const WELL_BEHAVED: Omit<FuzzRequest, 'who' | 'pathParam' | 'body' | 'noise' | 'chunked' | 'requestId'> = {
  method: undefined,
  query: '',
  auth: 'proper',
  cookie: 'proper',
  contentType: 'application/json',
  contentEncoding: undefined,
  origin: undefined,
};

function requestArbitrary(generators: Generators, op: Operation): fc.Arbitrary<FuzzRequest> {
  const common = {
    who: fc.constantFrom<Who>(
      'admin',
      'admin',
      'admin',
      'user',
      'user',
      'service_account',
      'service_account',
      'anonymous',
    ),
    pathParam: generators.pathParam(op),
    body: generators.body(op),
    noise: headerText,
    chunked: fc.boolean(),
    requestId: sometimes<string | undefined>(
      undefined,
      fc.oneof(fc.stringMatching(/^[A-Za-z0-9._:-]{1,128}$/), headerText),
      3,
    ),
  };
  const odd = fc.record({
    ...common,
    method: sometimes<string | undefined>(
      undefined,
      fc.constantFrom('GET', 'HEAD', 'OPTIONS', 'TRACE', 'POST', 'PUT', 'PATCH', 'DELETE', 'PROPFIND'),
      10,
    ),
    query: sometimes(
      '',
      fc.constantFrom(
        '?access_token=x',
        '?a=b',
        '?__proto__[x]=1',
        '?a[b][c][d][e][f]=1',
        '?%zz=1',
        '?a=%ff',
        '?a&a&a',
        '?name=admin',
      ),
      3,
    ),
    auth: sometimes<AuthVariant>('proper', fc.constantFrom(...AUTH_VARIANTS), 2),
    cookie: sometimes<CookieVariant>('proper', fc.constantFrom(...COOKIE_VARIANTS), 2),
    contentType: sometimes<string | undefined>('application/json', fc.constantFrom(...CONTENT_TYPES), 2),
    contentEncoding: sometimes<string | undefined>(
      undefined,
      fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'x-bogus'),
      6,
    ),
    origin: sometimes<string | undefined>(
      undefined,
      fc.constantFrom('https://evil.example', 'null', 'http://127.0.0.1'),
      4,
    ),
  });
  return fc.oneof(
    { weight: 2, arbitrary: fc.record(common).map((req): FuzzRequest => ({ ...WELL_BEHAVED, ...req })) },
    { weight: 1, arbitrary: odd },
  );
}

// ---------------------------------------------------------------------------------------------------------
// Sending: node:http directly, so that paths, headers and bodies go out exactly as generated.

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

function bodyBytes(body: Body): Buffer | undefined {
  switch (body.kind) {
    case 'none':
      return undefined;
    case 'json':
      return Buffer.from(JSON.stringify(body.value) ?? 'null', 'utf8');
    case 'text':
      return Buffer.from(body.text, 'utf8');
    case 'bytes':
      return body.data;
  }
}

/** Percent-encodes text, writing a lone surrogate as the bytes a lenient encoder would (WTF-8). */
function encodePathSegment(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (code >= 0xd800 && code <= 0xdfff) {
      out += [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)]
        .map((byte) => `%${byte.toString(16).toUpperCase()}`)
        .join('');
    } else {
      out += encodeURIComponent(char);
    }
  }
  return out;
}

function send(
  port: number,
  method: string,
  path: string,
  headers: OutgoingHttpHeaders,
  body: Buffer | undefined,
  chunked: boolean,
) {
  return new Promise<Answer>((resolve, reject) => {
    let answered = false;
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        answered = true;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', reject);
    });
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', (error) => {
      if (!answered) {
        reject(error);
      }
    });
    if (body !== undefined && chunked) {
      req.write(body);
      req.end();
    } else {
      req.end(body);
    }
  });
}

// ---------------------------------------------------------------------------------------------------------
// The world the requests act on: a running app, its principals, and names that exist.

class World {
  private t: TestApp;
  private port = 0;
  user = { name: '', cookie: '' };
  serviceAccount = { name: '', token: '' };
  private readonly teamGroup = uniqueName('team');
  names: KnownNames = { user: [], group: [], role: [], 'service-account': [] };

  constructor(private readonly kind: TestDatabaseKind) {}

  get dataSource(): DataSource {
    return this.t.app.get<DataSource>(getDataSourceToken(IAM_DATA_SOURCE));
  }

  async start(): Promise<void> {
    await this.boot();
    const role = uniqueName('role');
    await this.t
      .http()
      .post('/api/v1/roles')
      .set(adminAuth)
      .send({ name: role, policy: [{ effect: 'allow', action: 'iam:*', resource: 'iam:group:team-*' }] })
      .expect(201);
    await createGroup(this.t, this.teamGroup, { roles: [role] });
    const plainGroup = await createGroup(this.t);
    const plainUser = await createUser(this.t);
    const mailUser = await createUser(this.t, `${uniqueName('mail')}@example.com`);
    await this.newUser();
    await this.newServiceAccount();
    this.names = {
      user: ['me', this.user.name, plainUser.name, mailUser.name],
      group: [this.teamGroup, plainGroup.name],
      role: [role],
      'service-account': ['admin', this.serviceAccount.name],
    };
  }

  http() {
    return this.t.http();
  }

  async docs(): Promise<OpenApiDocument> {
    const res = await this.t.http().get('/docs-json').expect(200);
    return res.body as OpenApiDocument;
  }

  async close(): Promise<void> {
    await this.t.close();
  }

  credential(who: Who): string | undefined {
    switch (who) {
      case 'admin':
        return ADMIN_TOKEN;
      case 'service_account':
        return this.serviceAccount.token;
      case 'user':
        return this.user.cookie.slice('session_id='.length);
      case 'anonymous':
        return undefined;
    }
  }

  headersFor(req: FuzzRequest, body: Buffer | undefined): OutgoingHttpHeaders {
    const headers: Record<string, string | string[] | number> = {};
    const credential = this.credential(req.who);
    const bearer = req.who === 'admin' || req.who === 'service_account' ? credential : undefined;
    const session = req.who === 'user' ? credential : undefined;
    const token = credential ?? 'iamsa_nothing';
    const authorization = ((): string | string[] | undefined => {
      switch (req.auth) {
        case 'proper':
          return bearer === undefined ? undefined : `Bearer ${bearer}`;
        case 'none':
          return undefined;
        case 'lowercase-scheme':
          return `bearer ${token}`;
        case 'double-space':
          return `Bearer  ${token}`;
        case 'extra-word':
          return `Bearer ${token} ${req.noise}`;
        case 'basic':
          return `Basic ${Buffer.from(`${token}:`).toString('base64')}`;
        case 'scheme-only':
          return 'Bearer';
        case 'empty':
          return '';
        case 'twice':
          return [`Bearer ${token}`, `Bearer ${token}`];
        case 'tab':
          return `Bearer\t${token}`;
        case 'garbage':
          return `Bearer ${req.noise}`;
        case 'malformed-sa-token':
          return `Bearer iamsa_${req.noise.replace(/[^A-Za-z0-9]/g, '')}x`;
        case 'long':
          return `Bearer ${'a'.repeat(8_000)}`;
        case 'session-as-bearer':
          return `Bearer ${this.user.cookie.slice('session_id='.length)}`;
      }
    })();
    if (authorization !== undefined) {
      headers.authorization = authorization;
    }
    const cookie = ((): string | undefined => {
      switch (req.cookie) {
        case 'proper':
          return session === undefined ? undefined : `session_id=${session}`;
        case 'none':
          return undefined;
        case 'garbage':
          return `session_id=${req.noise}`;
        case 'two':
          return `session_id=${token}; session_id=${req.noise}`;
        case 'bad-encoding':
          return `session_id=%zz${token}%`;
        case 'among-others':
          return `a=b; session_id=${token}; c="d"`;
        case 'long':
          return `session_id=${'x'.repeat(6_000)}`;
        case 'token-as-cookie':
          return `session_id=${ADMIN_TOKEN}`;
      }
    })();
    if (cookie !== undefined) {
      headers.cookie = cookie;
    }
    if (body !== undefined) {
      if (req.contentType !== undefined) {
        headers['content-type'] = req.contentType;
      }
      if (req.contentEncoding !== undefined) {
        headers['content-encoding'] = req.contentEncoding;
      }
      if (req.chunked) {
        headers['transfer-encoding'] = 'chunked';
      } else {
        headers['content-length'] = body.length;
      }
    }
    if (req.requestId !== undefined) {
      headers['x-request-id'] = req.requestId;
    }
    if (req.origin !== undefined) {
      headers.origin = req.origin;
    }
    return headers;
  }

  async request(op: Operation, req: FuzzRequest): Promise<{ line: string; answer: Answer }> {
    let path = op.path;
    for (const name of op.pathParams) {
      path = path.replace(
        `{${name}}`,
        req.pathParam.raw ? req.pathParam.value : encodePathSegment(req.pathParam.value),
      );
    }
    path += req.query;
    const body = bodyBytes(req.body);
    const headers = this.headersFor(req, body);
    const method = req.method ?? op.method;
    const answer = await send(this.port, method, path, headers, body, req.chunked);
    return { line: `${method} ${path.length > 200 ? `${path.slice(0, 200)}…` : path}`, answer };
  }

  /**
   * Puts back what a successful request may have taken away: the administrator's token (by restarting on
   * the same database, as IAM_BOOTSTRAP_TOKEN does), the user's session, the service account.
   */
  async restorePrincipals(): Promise<void> {
    const admin = await this.t.http().get('/api/v1/service-accounts/admin').set(adminAuth);
    if (admin.status !== 200) {
      await this.t.close({ keepDatabase: true });
      await this.boot(this.t.database);
    }
    const me = await this.t.http().get('/api/v1/users/me').set('Cookie', this.user.cookie);
    if (me.status !== 200) {
      await this.newUser();
    }
    const groups = await this.t
      .http()
      .get('/api/v1/groups')
      .set('Authorization', `Bearer ${this.serviceAccount.token}`);
    if (groups.status !== 200) {
      await this.newServiceAccount();
    }
  }

  private async boot(database?: TestApp['database']): Promise<void> {
    // Generous sign-in limits: the generated requests sign in often, and a 429 would hide what lies behind.
    this.t = await createTestApp(this.kind, {
      database,
      auth: { loginRateLimit: 1_000_000, authFailureLimit: 1_000_000, lockoutThreshold: 1_000_000 },
    });
    await this.t.app.listen(0, '127.0.0.1');
    this.port = (this.t.app.getHttpServer().address() as AddressInfo).port;
  }

  private async newUser(): Promise<void> {
    const { name, cookie } = await signedInUser(this.t, uniqueName('fuzz'), PASSWORD);
    this.user = { name, cookie };
  }

  private async newServiceAccount(): Promise<void> {
    const { name, token } = await createServiceAccount(this.t);
    // Best effort: the group may have been deleted by a generated request; the account then has no rights.
    await this.t
      .http()
      .put(`/api/v1/service-accounts/${name}/groups`)
      .set(adminAuth)
      .send({ add_to_groups: [this.teamGroup] });
    this.serviceAccount = { name, token };
  }
}

// ---------------------------------------------------------------------------------------------------------
// What the document says of a body.

/** `invalid_fields` codes for what a schema says exactly (types, unknown and missing fields). */
const STRUCTURAL_CODES = new Set(['unknown_field', 'invalid_type', 'required']);

/**
 * Whether a JSON body is one the document allows (its request schema, formats aside: the server's own
 * checks of e-mail addresses and date-times are the finer ones, and the document names them).
 */
class BodySchemas {
  private readonly ajv = new Ajv({ strict: false, validateFormats: false, allErrors: false });
  private readonly compiled = new Map<SchemaObject, ValidateFunction>();

  constructor(private readonly doc: OpenApiDocument) {}

  /** null when the document allows the body, else why not. */
  problem(schema: SchemaObject, value: unknown): string | null {
    let validate = this.compiled.get(schema);
    if (validate === undefined) {
      validate = this.ajv.compile({ ...schema, components: this.doc.components });
      this.compiled.set(schema, validate);
    }
    // As the server reads it (JSON.stringify drops undefined, turns NaN into null, …).
    const sent: unknown = JSON.parse(JSON.stringify(value) ?? 'null');
    return validate(sent) ? null : this.ajv.errorsText(validate.errors);
  }
}

// ---------------------------------------------------------------------------------------------------------
// The properties.

/**
 * The request schema of the operation the request really reaches: a path parameter can make the path another
 * operation's (`/users/{name}/password` with `me` is `/users/me/password`; routes ignore case).
 */
function bodySchemaOf(operations: Operation[], op: Operation, req: FuzzRequest): SchemaObject | undefined {
  const value = req.pathParam.raw ? req.pathParam.value : encodePathSegment(req.pathParam.value);
  const path = op.pathParams.reduce((filled, name) => filled.replace(`{${name}}`, value), op.path).toLowerCase();
  const reached = operations.find(
    (other) => other.method === op.method && !other.path.includes('{') && other.path.toLowerCase() === path,
  );
  return (reached ?? op).body;
}

/** The `invalid_fields` of a 400 that say the body's shape is wrong, or null. */
function structuralRefusal(answer: Answer): string | null {
  let body: { invalid_fields?: { name: string; error: string }[] };
  try {
    body = JSON.parse(answer.text) as typeof body;
  } catch {
    return null;
  }
  const fields = (body.invalid_fields ?? []).filter((field) => STRUCTURAL_CODES.has(field.error));
  return fields.length > 0 ? fields.map((field) => `${field.name} (${field.error})`).join(', ') : null;
}

function bodyText(body: Body): string {
  const text = body.kind === 'json' ? JSON.stringify(body.value) : body.kind;
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/** What is wrong with an error answer, or null: the one error body, its status and request id matching. */
function errorBodyProblem(answer: Answer): string | null {
  let body: { type?: unknown; title?: unknown; status?: unknown; request_id?: unknown };
  try {
    body = JSON.parse(answer.text) as typeof body;
  } catch {
    return `the body is not JSON: ${answer.text.slice(0, 200)}`;
  }
  const expectedType = ERROR_TYPE_BY_STATUS[answer.status];
  const problems = [
    expectedType === undefined ? `no error type is defined for status ${answer.status}` : null,
    body.type !== expectedType ? `type ${JSON.stringify(body.type)}, expected ${expectedType}` : null,
    typeof body.title !== 'string' || body.title.length === 0 ? 'no title' : null,
    body.status !== answer.status ? `status ${JSON.stringify(body.status)} in the body` : null,
    typeof body.request_id !== 'string' || body.request_id !== answer.headers['x-request-id']
      ? `request_id ${JSON.stringify(body.request_id)} is not the X-Request-Id ${String(answer.headers['x-request-id'])}`
      : null,
  ].filter((problem) => problem !== null);
  return problems.length > 0 ? `${problems.join('; ')}: ${answer.text.slice(0, 300)}` : null;
}

describe.each(TEST_DATABASES)('every operation under generated requests (%s)', (kind) => {
  const world = new World(kind);
  beforeAll(() => world.start(), 120_000);
  afterAll(() => world.close());

  it('sees a write in the snapshot, and not the last-seen stamp of an authentication', async () => {
    const before = await snapshotDatabase(world.dataSource);
    await world.http().get('/api/v1/users/me').set('Cookie', world.user.cookie).expect(200);
    await world.http().get('/api/v1/groups').set('Authorization', `Bearer ${world.serviceAccount.token}`).expect(200);
    expect(snapshotDifferences(before, await snapshotDatabase(world.dataSource))).toEqual([]);
    await world
      .http()
      .patch(`/api/v1/users/${encodeURIComponent(world.user.name)}`)
      .set(adminAuth)
      .send({ metadata: { seen: 'yes' } })
      .expect(200);
    const differences = snapshotDifferences(before, await snapshotDatabase(world.dataSource));
    expect(differences).toEqual([
      expect.stringMatching(/^audit_events: new .*"iam:UpdateUser"/),
      expect.stringMatching(/^users: gone /),
      expect.stringMatching(/^users: new /),
    ]);
  });

  it('never answers 5xx, answers every error with the error body, and changes nothing on a 4xx', async () => {
    const doc = await world.docs();
    const generators = new Generators(doc, world.names);
    const schemas = new BodySchemas(doc);
    // One seed for the whole run, so that a failure can be replayed from the start (see the top of the file).
    const seed = SEED ?? Math.floor(Math.random() * 2 ** 31);
    const statuses: number[] = [];
    let before: DatabaseSnapshot | null = null;

    const operations = operationsOf(doc);
    for (const [index, op] of operations.entries()) {
      const property = fc.asyncProperty(requestArbitrary(generators, op), async (req) => {
        before ??= await snapshotDatabase(world.dataSource);
        const { line, answer } = await world.request(op, req);
        statuses.push(answer.status);
        const context = `${line} as ${req.who} answered ${answer.status}`;
        if (answer.status >= 500) {
          throw new Error(`${context}: ${answer.text.slice(0, 300)}`);
        }
        // The document is exact about bodies: what it forbids is refused, and what it allows is never refused
        // for its shape (a type, an unknown or a missing field). Only a JSON body sent as the document says.
        const body = bodySchemaOf(operations, op, req);
        if (body !== undefined && req.body.kind === 'json' && req.method === undefined) {
          const forbidden = schemas.problem(body, req.body.value);
          if (forbidden !== null && answer.status < 300) {
            throw new Error(`${context}, but the document forbids the body (${forbidden}): ${bodyText(req.body)}`);
          }
          const refused = answer.status === 400 ? structuralRefusal(answer) : null;
          if (forbidden === null && refused !== null) {
            throw new Error(`${context}, refusing ${refused} of a body the document allows: ${bodyText(req.body)}`);
          }
        }
        if (answer.status >= 400) {
          // An answer to HEAD has no body, by definition.
          const problem = req.method === 'HEAD' ? null : errorBodyProblem(answer);
          if (problem !== null) {
            throw new Error(`${context} without the error body: ${problem}`);
          }
          const after = await snapshotDatabase(world.dataSource);
          const differences = snapshotDifferences(before, after);
          before = after;
          if (differences.length > 0) {
            throw new Error(`${context} but changed the database:\n${differences.join('\n').slice(0, 2000)}`);
          }
        } else {
          before = null;
          if ((req.method ?? op.method) !== 'GET') {
            await world.restorePrincipals();
          }
        }
      });
      try {
        await fc.assert(property, { numRuns: RUNS_PER_OPERATION, seed: seed + index });
      } catch (error) {
        // fast-check's report (seed, path, counterexample, the request and answer) follows as the cause.
        throw new Error(`${op.method} ${op.path}: replay with FUZZ_SEED=${seed} FUZZ_RUNS=${RUNS_PER_OPERATION}`, {
          cause: error,
        });
      }
    }

    // The generators must reach past authentication and validation, or the properties say little.
    expect(statuses.filter((status) => status < 300).length).toBeGreaterThan(0);
    expect(statuses.filter((status) => status === 400).length).toBeGreaterThan(0);
    expect(statuses.filter((status) => status === 401).length).toBeGreaterThan(0);
  }, 900_000);
});
