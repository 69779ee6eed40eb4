import { ScimError } from './scim-error.js';
import {
  equalityOn,
  MAX_FILTER_DEPTH,
  MAX_FILTER_LENGTH,
  matches,
  parseFilter,
  validateFilter,
} from './scim-filter.js';
import { SCIM_TRAITS } from './scim-resources.js';

const alice = {
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  id: '2819c223-7f76-453a-919d-413861904646',
  externalId: 'Ext-1',
  userName: 'alice@example.com',
  displayName: 'Alice Liddell',
  name: { formatted: 'Alice Pleasance Liddell' },
  emails: [
    { value: 'alice@example.com', type: 'work', primary: true },
    { value: 'alice@home.example', type: 'home' },
  ],
  active: true,
  groups: [{ value: 'a1b2c3d4-0000-4000-8000-000000000001', display: 'Readers' }],
  meta: {
    resourceType: 'User',
    created: '2026-01-01T10:00:00.000Z',
    lastModified: '2026-06-01T10:00:00.000Z',
    version: 'W/"abc"',
  },
};

const matching = (filter: string) => matches(alice, parseFilter(filter), SCIM_TRAITS);

describe('SCIM filters', () => {
  it.each([
    ['userName eq "alice@example.com"', true],
    ['USERNAME EQ "ALICE@EXAMPLE.COM"', true],
    ['urn:ietf:params:scim:schemas:core:2.0:User:userName eq "alice@example.com"', true],
    ['userName eq "bob"', false],
    ['userName ne "bob"', true],
    ['userName co "example"', true],
    ['userName sw "ALI"', true],
    ['userName ew ".com"', true],
    ['userName ew ".org"', false],
    ['externalId eq "Ext-1"', true],
    ['externalId eq "ext-1"', false], // case-exact
    ['id eq "2819c223-7f76-453a-919d-413861904646"', true],
    ['displayName gt "Alice"', true],
    ['displayName lt "Alice"', false],
    ['displayName ge "Alice Liddell"', true],
    ['displayName le "alice liddell"', true],
    ['name.formatted co "Pleasance"', true],
    ['title pr', false],
    ['name pr', true],
    ['emails pr', true],
    ['active eq true', true],
    ['active eq false', false],
    ['active ne false', true],
    ['emails.value eq "alice@home.example"', true],
    ['emails eq "alice@home.example"', true],
    ['emails[type eq "work"]', true],
    ['emails[type eq "work" and value co "@example.com"]', true],
    ['emails[type eq "home" and value co "@example.com"]', false],
    ['emails[not (type eq "work")]', true],
    ['groups[value eq "a1b2c3d4-0000-4000-8000-000000000001"]', true],
    ['meta.created gt "2025-12-31T00:00:00Z"', true],
    ['meta.lastModified lt "2026-06-01T10:00:00Z"', false],
    ['meta.lastModified ge "2026-06-01T10:00:00Z"', true],
    ['meta.created le "2026-01-01T10:00:00.000Z"', true],
    ['userName eq "bob" or displayName sw "Alice"', true],
    ['userName eq "bob" and displayName sw "Alice"', false],
    ['userName eq "bob" or userName eq "carol" or active eq true', true],
    ['userName eq "alice@example.com" and (active eq false or displayName co "Lid")', true],
    ['not (userName eq "alice@example.com")', false],
    ['not(userName eq "bob")', true],
    // `and` binds tighter than `or`.
    ['userName eq "x" and active eq true or displayName co "Alice"', true],
    ['displayName co "Alice" or userName eq "x" and active eq false', true],
    ['((userName eq "alice@example.com"))', true],
    ['title eq null', false],
    ['title ne "x"', true],
    ['userName eq "with \\"quotes\\""', false],
    ['userName eq 5', false],
  ])('%s → %s', (filter, expected) => {
    expect(matching(filter)).toBe(expected);
  });

  const malformed: unknown[] = [
    '',
    '   ',
    undefined,
    42,
    'userName',
    'userName eq',
    'userName eq bob',
    'userName eqq "bob"',
    'userName eq "bob',
    'userName eq "bob" and',
    'userName eq "bob" or or userName eq "x"',
    'and userName eq "bob"',
    '(userName eq "bob"',
    'userName eq "bob")',
    'emails[type eq "work"',
    'emails[type eq "work"]]',
    'emails[type eq "work"].value eq "x"',
    'emails[type[value eq "x"]]',
    'name.formatted[value eq "x"]',
    'a.b.c eq "x"',
    '1userName eq "x"',
    'urn:unknown:schema:userName eq "x"',
    'not userName eq "x"',
    'userName pr pr',
    'userName eq "x" "y"',
    '"x" eq userName',
    'userName eq "\\u12"',
    'userName gt true',
    'userName co 5',
    'active gt false',
    'meta.created gt "yesterday"',
    'title lt null',
    '[]',
    ')(',
    'userName eq "x" and not',
    'userName\u0000eq "x"',
    '('.repeat(MAX_FILTER_DEPTH + 1) + 'userName eq "x"' + ')'.repeat(MAX_FILTER_DEPTH + 1),
    `userName eq "${'x'.repeat(MAX_FILTER_LENGTH)}"`,
    'not ('.repeat(5000) + 'a pr' + ')'.repeat(5000),
    'a pr and '.repeat(500) + 'a pr',
  ];

  it.each(malformed.map((filter) => [typeof filter === 'string' ? filter.slice(0, 60) : String(filter), filter]))(
    'refuses %j with 400 invalidFilter, never anything else',
    (_label, filter) => {
      let caught: unknown;
      try {
        matches(alice, parseFilter(filter), SCIM_TRAITS);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ScimError);
      expect({ status: (caught as ScimError).getStatus(), scimType: (caught as ScimError).scimType }).toEqual({
        status: 400,
        scimType: 'invalidFilter',
      });
    },
  );

  it('refuses a meaningless comparison before any resource is read', () => {
    for (const filter of [
      'active gt false',
      'userName co 5',
      'title lt null',
      'meta.created gt "soon"',
      'emails[value gt true]',
    ]) {
      expect(() => validateFilter(parseFilter(filter), SCIM_TRAITS)).toThrow(ScimError);
    }
    for (const filter of [
      'active eq false',
      'meta.created gt "2026-01-01T00:00:00Z"',
      'title eq null',
      'userName gt "a"',
    ]) {
      expect(() => validateFilter(parseFilter(filter), SCIM_TRAITS)).not.toThrow();
    }
  });

  it('takes long but legal filters within its bounds', () => {
    const many = Array.from({ length: 100 }, (_, i) => `userName eq "u${i}"`).join(' or ');
    expect(matches(alice, parseFilter(`${many} or userName eq "alice@example.com"`), SCIM_TRAITS)).toBe(true);
    const nested = '('.repeat(MAX_FILTER_DEPTH - 1) + 'active eq true' + ')'.repeat(MAX_FILTER_DEPTH - 1);
    expect(matches(alice, parseFilter(nested), SCIM_TRAITS)).toBe(true);
  });

  it('never throws anything but a ScimError 400 on random input', () => {
    const alphabet = [
      'userName',
      'emails',
      'value',
      'eq',
      'pr',
      'and',
      'or',
      'not',
      '(',
      ')',
      '[',
      ']',
      '"x"',
      '"',
      '.',
      ' ',
      'true',
      '5',
      'null',
      'gt',
      '\\',
      'urn:ietf:params:scim:schemas:core:2.0:User:',
      'ü',
      '\u0000',
    ];
    let seed = 12345;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 3000; i++) {
      const filter = Array.from(
        { length: 1 + Math.floor(random() * 12) },
        () => alphabet[Math.floor(random() * alphabet.length)],
      ).join(random() < 0.5 ? ' ' : '');
      try {
        matches(alice, parseFilter(filter), SCIM_TRAITS);
      } catch (error) {
        expect({ filter, error: error instanceof ScimError && error.getStatus() === 400 }).toEqual({
          filter,
          error: true,
        });
      }
    }
  });

  it('recognises the look-ups an index answers', () => {
    expect(equalityOn(parseFilter('USERNAME eq "Alice"'), ['userName', 'externalId'])).toEqual({
      attr: 'userName',
      value: 'Alice',
    });
    expect(equalityOn(parseFilter('externalId eq "e1"'), ['userName', 'externalId'])).toEqual({
      attr: 'externalId',
      value: 'e1',
    });
    expect(equalityOn(parseFilter('userName co "A"'), ['userName'])).toBeUndefined();
    expect(equalityOn(parseFilter('userName eq "A" and active eq true'), ['userName'])).toBeUndefined();
    expect(equalityOn(parseFilter('name.formatted eq "A"'), ['name'])).toBeUndefined();
  });
});
