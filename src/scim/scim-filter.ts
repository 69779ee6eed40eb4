/**
 * SCIM filters (RFC 7644, section 3.4.2.2) as a pure module: parseFilter() reads a filter into a tree or throws
 * ScimError 400 `invalidFilter` (never anything else, whatever the input), and matches() evaluates a tree against a
 * SCIM resource as this service renders it (scim-resources.ts).
 *
 *   FILTER    = attrExp / logExp / valuePath / "not" "(" FILTER ")" / "(" FILTER ")"
 *   valuePath = attrPath "[" valFilter "]"
 *   attrExp   = attrPath "pr" / attrPath compareOp compValue
 *   compValue = false / null / true / number / string (JSON)
 *   attrPath  = [schema URN ":"] ATTRNAME ["." subAttr]
 *
 * `and` binds tighter than `or`; operators, `and`, `or`, `not` and attribute names are case-insensitive. A filter is
 * at most MAX_FILTER_LENGTH characters and nests at most MAX_FILTER_DEPTH deep, so that neither parsing nor
 * evaluation can exhaust the stack.
 */
import { ScimError } from './scim-error.js';

export const MAX_FILTER_LENGTH = 4096;
export const MAX_FILTER_DEPTH = 32;

export type CompareOperator = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';
const COMPARE_OPERATORS: readonly string[] = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'];

export type FilterValue = string | number | boolean | null;

/** An attribute path, the schema URN removed; names as written (compared without regard to case). */
export interface AttrPath {
  attr: string;
  sub?: string;
}

export type Filter =
  | { kind: 'compare'; path: AttrPath; op: CompareOperator; value: FilterValue }
  | { kind: 'present'; path: AttrPath }
  | { kind: 'and' | 'or'; left: Filter; right: Filter }
  | { kind: 'not'; filter: Filter }
  /** `emails[type eq "work"]`: some value of the multi-valued `attr` matches `filter` (its paths are relative). */
  | { kind: 'valuePath'; attr: string; filter: Filter };

/** The schemas whose URN may prefix an attribute path (`urn:ietf:params:scim:schemas:core:2.0:User:userName`). */
export const SCIM_SCHEMA_URNS = [
  'urn:ietf:params:scim:schemas:core:2.0:User',
  'urn:ietf:params:scim:schemas:core:2.0:Group',
  'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
];

type Token =
  | { type: 'word'; text: string; at: number }
  | { type: 'value'; value: FilterValue; at: number }
  | { type: '(' | ')' | '[' | ']'; at: number };

const ATTR_NAME = /^[A-Za-z][\w$-]*$/;

/** `urn:…:User:name.formatted` → { attr: 'name', sub: 'formatted' }; null when it is no attribute path. */
export function parseAttrPath(text: string): AttrPath | null {
  let rest = text;
  if (/^urn:/i.test(rest)) {
    const urn = SCIM_SCHEMA_URNS.find((known) => rest.toLowerCase().startsWith(`${known.toLowerCase()}:`));
    if (!urn) {
      return null;
    }
    rest = rest.slice(urn.length + 1);
  }
  const parts = rest.split('.');
  if (parts.length > 2 || !parts.every((part) => ATTR_NAME.test(part))) {
    return null;
  }
  return parts.length === 2 ? { attr: parts[0], sub: parts[1] } : { attr: parts[0] };
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const char = text[i];
    if (char === ' ' || char === '\t' || char === '\n' || char === '\r') {
      i++;
    } else if (char === '(' || char === ')' || char === '[' || char === ']') {
      tokens.push({ type: char, at: i });
      i++;
    } else if (char === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') {
        j += text[j] === '\\' ? 2 : 1;
      }
      if (j >= text.length) {
        throw ScimError.invalidFilter(`unterminated string at ${i + 1}`);
      }
      let value: unknown;
      try {
        value = JSON.parse(text.slice(i, j + 1));
      } catch {
        throw ScimError.invalidFilter(`malformed string at ${i + 1}`);
      }
      tokens.push({ type: 'value', value: value as string, at: i });
      i = j + 1;
    } else {
      let j = i;
      while (j < text.length && !' \t\n\r()[]"'.includes(text[j])) {
        j++;
      }
      const word = text.slice(i, j);
      const lower = word.toLowerCase();
      if (lower === 'true' || lower === 'false') {
        tokens.push({ type: 'value', value: lower === 'true', at: i });
      } else if (lower === 'null') {
        tokens.push({ type: 'value', value: null, at: i });
      } else if (/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(word)) {
        tokens.push({ type: 'value', value: Number(word), at: i });
      } else {
        tokens.push({ type: 'word', text: word, at: i });
      }
      i = j;
    }
  }
  return tokens;
}

class Parser {
  private position = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly length: number,
  ) {}

  parse(): Filter {
    const filter = this.or(0, false);
    const extra = this.peek();
    if (extra) {
      throw ScimError.invalidFilter(`unexpected ${this.describe(extra)} at ${extra.at + 1}`);
    }
    return filter;
  }

  private or(depth: number, inValuePath: boolean): Filter {
    let left = this.and(depth, inValuePath);
    while (this.isWord('or')) {
      this.position++;
      left = { kind: 'or', left, right: this.and(depth, inValuePath) };
    }
    return left;
  }

  private and(depth: number, inValuePath: boolean): Filter {
    let left = this.unary(depth, inValuePath);
    while (this.isWord('and')) {
      this.position++;
      left = { kind: 'and', left, right: this.unary(depth, inValuePath) };
    }
    return left;
  }

  private unary(depth: number, inValuePath: boolean): Filter {
    if (depth >= MAX_FILTER_DEPTH) {
      throw ScimError.invalidFilter(`nested more than ${MAX_FILTER_DEPTH} levels deep`);
    }
    const token = this.next('an attribute path, "not" or "("');
    if (token.type === '(') {
      const inner = this.or(depth + 1, inValuePath);
      this.expect(')');
      return inner;
    }
    if (token.type === 'word' && token.text.toLowerCase() === 'not' && this.peek()?.type === '(') {
      this.position++;
      const inner = this.or(depth + 1, inValuePath);
      this.expect(')');
      return { kind: 'not', filter: inner };
    }
    if (token.type !== 'word') {
      throw ScimError.invalidFilter(`expected an attribute path at ${token.at + 1}, found ${this.describe(token)}`);
    }
    const path = parseAttrPath(token.text);
    if (!path) {
      throw ScimError.invalidFilter(`"${token.text}" at ${token.at + 1} is not an attribute path`);
    }
    if (this.peek()?.type === '[') {
      if (inValuePath || path.sub !== undefined) {
        throw ScimError.invalidFilter(`a value filter cannot be nested or follow a sub-attribute (at ${token.at + 1})`);
      }
      this.position++;
      const inner = this.or(depth + 1, true);
      this.expect(']');
      return { kind: 'valuePath', attr: path.attr, filter: inner };
    }
    const operator = this.next('an operator');
    const op = operator.type === 'word' ? operator.text.toLowerCase() : '';
    if (op === 'pr') {
      return { kind: 'present', path };
    }
    if (!COMPARE_OPERATORS.includes(op)) {
      throw ScimError.invalidFilter(`expected an operator at ${operator.at + 1}, found ${this.describe(operator)}`);
    }
    const value = this.next('a value');
    if (value.type !== 'value') {
      throw ScimError.invalidFilter(
        `expected a value (a string in double quotes, a number, true, false or null) at ${value.at + 1}, found ${this.describe(value)}`,
      );
    }
    return { kind: 'compare', path, op: op as CompareOperator, value: value.value };
  }

  private isWord(word: string): boolean {
    const token = this.peek();
    return token?.type === 'word' && token.text.toLowerCase() === word;
  }

  private peek(): Token | undefined {
    return this.tokens[this.position];
  }

  private next(expected: string): Token {
    const token = this.tokens[this.position++];
    if (!token) {
      throw ScimError.invalidFilter(`expected ${expected} at ${this.length + 1}, found the end of the filter`);
    }
    return token;
  }

  private expect(type: ')' | ']'): void {
    const token = this.next(`"${type}"`);
    if (token.type !== type) {
      throw ScimError.invalidFilter(`expected "${type}" at ${token.at + 1}, found ${this.describe(token)}`);
    }
  }

  private describe(token: Token): string {
    switch (token.type) {
      case 'word':
        return `"${token.text.slice(0, 40)}"`;
      case 'value':
        return 'a value';
      case '(':
      case ')':
      case '[':
      case ']':
        return `"${token.type}"`;
    }
  }
}

/** The filter as a tree; ScimError 400 `invalidFilter` for anything that is not one. */
export function parseFilter(text: unknown): Filter {
  if (typeof text !== 'string' || text.trim().length === 0) {
    throw ScimError.invalidFilter('the filter is empty');
  }
  if (text.length > MAX_FILTER_LENGTH) {
    throw ScimError.invalidFilter(`longer than ${MAX_FILTER_LENGTH} characters`);
  }
  return new Parser(tokenize(text), text.length).parse();
}

// ---------------------------------------------------------------------------------------------------------
// Evaluation

/** How the attributes of a resource type compare: the few that are case-exact, and the dates. */
export interface AttributeTraits {
  /** Lower-cased paths (`id`, `externalid`, `meta.version`) compared with case. */
  caseExact: ReadonlySet<string>;
  /** Lower-cased paths holding ISO-8601 date-times, ordered as dates. */
  dates: ReadonlySet<string>;
}

type Json = unknown;

/** The value of `name` in `object`, its key matched without regard to case. */
export function member(object: Json, name: string): Json {
  if (typeof object !== 'object' || object === null || Array.isArray(object)) {
    return undefined;
  }
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(object)) {
    if (key.toLowerCase() === lower) {
      return value;
    }
  }
  return undefined;
}

/**
 * The values a path reaches in the resource: one for a single-valued attribute, each value's for a multi-valued one
 * (of a complex multi-valued attribute without a sub-attribute, each value's `value`).
 */
function valuesAt(resource: Json, path: AttrPath): Json[] {
  const top = member(resource, path.attr);
  const items = Array.isArray(top) ? top : [top];
  const values: Json[] = [];
  for (const item of items as Json[]) {
    const complex = typeof item === 'object' && item !== null;
    const value =
      path.sub !== undefined ? member(item, path.sub) : complex && Array.isArray(top) ? member(item, 'value') : item;
    if (value !== undefined && value !== null) {
      values.push(value);
    }
  }
  return values;
}

function present(value: Json): boolean {
  if (value === undefined || value === null) {
    return false;
  }
  if (typeof value === 'string') {
    return value.length > 0;
  }
  if (Array.isArray(value)) {
    return value.length > 0;
  }
  if (typeof value === 'object') {
    return Object.values(value).some(present);
  }
  return true;
}

function pathKey(path: AttrPath, parent?: string): string {
  return [parent, path.attr, path.sub]
    .filter((part) => part !== undefined)
    .join('.')
    .toLowerCase();
}

function compareOne(actual: Json, op: CompareOperator, expected: FilterValue, key: string, traits: AttributeTraits) {
  if (expected === null) {
    // `eq null` is true of no value here (absent values are not visited); `ne null` of every value.
    if (op === 'eq' || op === 'ne') {
      return op === 'ne';
    }
    throw ScimError.invalidFilter(`"${op}" cannot compare with null`);
  }
  if (typeof expected === 'boolean') {
    if (op !== 'eq' && op !== 'ne') {
      throw ScimError.invalidFilter(`"${op}" cannot compare booleans`);
    }
    return (actual === expected) === (op === 'eq');
  }
  if (typeof expected === 'number') {
    if (['co', 'sw', 'ew'].includes(op)) {
      throw ScimError.invalidFilter(`"${op}" cannot compare numbers`);
    }
    return typeof actual === 'number' && order(op, actual - expected);
  }
  if (typeof actual !== 'string') {
    // A string compared with a boolean or a number attribute: no match, as for any other type mismatch.
    return op === 'ne';
  }
  if (traits.dates.has(key) && ['gt', 'ge', 'lt', 'le', 'eq', 'ne'].includes(op)) {
    const [a, b] = [Date.parse(actual), Date.parse(expected)];
    if (Number.isNaN(b)) {
      throw ScimError.invalidFilter(`${JSON.stringify(expected.slice(0, 40))} is not a date-time`);
    }
    return order(op, a - b);
  }
  const exact = traits.caseExact.has(key);
  const [a, b] = exact ? [actual, expected] : [actual.toLowerCase(), expected.toLowerCase()];
  switch (op) {
    case 'co':
      return a.includes(b);
    case 'sw':
      return a.startsWith(b);
    case 'ew':
      return a.endsWith(b);
    case 'eq':
    case 'ne':
    case 'gt':
    case 'ge':
    case 'lt':
    case 'le':
      return order(op, a < b ? -1 : a > b ? 1 : 0);
  }
}

function order(op: CompareOperator, difference: number): boolean {
  switch (op) {
    case 'eq':
      return difference === 0;
    case 'ne':
      return difference !== 0;
    case 'gt':
      return difference > 0;
    case 'ge':
      return difference >= 0;
    case 'lt':
      return difference < 0;
    case 'le':
      return difference <= 0;
    case 'co':
    case 'sw':
    case 'ew':
      return false;
  }
}

/**
 * Whether the resource matches the filter. `ne` on a multi-valued attribute is true when some value differs (and
 * of an absent attribute); operators that do not apply to a value's type throw ScimError `invalidFilter`.
 */
export function matches(resource: Json, filter: Filter, traits: AttributeTraits, parent?: string): boolean {
  switch (filter.kind) {
    case 'and':
      return matches(resource, filter.left, traits, parent) && matches(resource, filter.right, traits, parent);
    case 'or':
      return matches(resource, filter.left, traits, parent) || matches(resource, filter.right, traits, parent);
    case 'not':
      return !matches(resource, filter.filter, traits, parent);
    case 'present':
      return valuesAt(resource, filter.path).some(present);
    case 'valuePath': {
      const values = member(resource, filter.attr);
      const items = Array.isArray(values) ? values : values === undefined || values === null ? [] : [values];
      const key = pathKey({ attr: filter.attr }, parent);
      return items.some((item) => matches(item, filter.filter, traits, key));
    }
    case 'compare': {
      const key = pathKey(filter.path, parent);
      const values = valuesAt(resource, filter.path);
      if (values.length === 0) {
        // An absent attribute equals nothing; it differs from anything but null.
        if (filter.op === 'ne' && filter.value !== null) {
          return true;
        }
        compareOne(undefined, filter.op, filter.value, key, traits); // still refuses a meaningless operator
        return false;
      }
      return values.some((value) => compareOne(value, filter.op, filter.value, key, traits));
    }
  }
}

/**
 * Refuses (ScimError 400 `invalidFilter`) what no resource could make meaningful: an operator that does not apply to
 * its value (`gt true`, `co 5`, `lt null`), a date-time attribute compared with what is no date-time. Checked before
 * anything is read, so that the answer does not depend on whether some resource was there to compare with.
 */
export function validateFilter(filter: Filter, traits: AttributeTraits, parent?: string): void {
  switch (filter.kind) {
    case 'and':
    case 'or':
      validateFilter(filter.left, traits, parent);
      validateFilter(filter.right, traits, parent);
      return;
    case 'not':
      validateFilter(filter.filter, traits, parent);
      return;
    case 'present':
      return;
    case 'valuePath':
      validateFilter(filter.filter, traits, pathKey({ attr: filter.attr }, parent));
      return;
    case 'compare': {
      const key = pathKey(filter.path, parent);
      compareOne(undefined, filter.op, filter.value, key, traits);
      if (traits.dates.has(key) && typeof filter.value === 'string' && Number.isNaN(Date.parse(filter.value))) {
        throw ScimError.invalidFilter(`${JSON.stringify(filter.value.slice(0, 40))} is not a date-time`);
      }
    }
  }
}

/**
 * `attr eq "value" (or `value eq`-less forms like it) on one of `attributes`: the value, for a look-up an index
 * answers (userName, externalId, id, displayName); undefined for any other filter.
 */
export function equalityOn(filter: Filter, attributes: readonly string[]): { attr: string; value: string } | undefined {
  if (filter.kind !== 'compare' || filter.op !== 'eq' || filter.path.sub !== undefined) {
    return undefined;
  }
  const attr = attributes.find((name) => name.toLowerCase() === filter.path.attr.toLowerCase());
  return attr !== undefined && typeof filter.value === 'string' ? { attr, value: filter.value } : undefined;
}
