/**
 * The query of a SCIM list (GET /Users, GET /Groups; RFC 7644 section 3.4.2): filter, sorting, paging and the
 * attributes to return, read and checked (400 with a scimType for a bad one), and applied to mapped resources.
 */
import { ScimError } from './scim-error.js';
import { type Filter, matches, member, parseAttrPath, parseFilter, validateFilter } from './scim-filter.js';
import {
  LIST_SCHEMA,
  parseAttributeList,
  project,
  SCIM_TRAITS,
  type Json,
  type ScimResource,
} from './scim-resources.js';

/** The most resources one page holds (ServiceProviderConfig `filter.maxResults`); a larger `count` is cut to it. */
export const MAX_PAGE_SIZE = 200;

/**
 * The most rows a filter that no index answers (anything but `eq` on userName, externalId, id or displayName), or a
 * sort, is evaluated over, in memory: beyond it the list is refused (400 `tooMany`) rather than read whole.
 */
export const MAX_SCANNED_RESOURCES = 10_000;

export interface ScimListQuery {
  filter?: Filter;
  sortBy?: { attr: string; sub?: string };
  descending: boolean;
  startIndex: number;
  count: number;
  attributes: { attr: string; sub?: string }[];
  excludedAttributes: { attr: string; sub?: string }[];
}

const single = (query: Record<string, unknown>, name: string): string | undefined => {
  const key = Object.keys(query).find((k) => k.toLowerCase() === name.toLowerCase());
  const value = key === undefined ? undefined : query[key];
  if (value === undefined) {
    return undefined;
  }
  if (typeof value !== 'string') {
    throw ScimError.invalidValue(`${name} must be given once`);
  }
  return value;
};

function integer(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined || text === '') {
    return fallback;
  }
  if (!/^-?\d{1,9}$/.test(text.trim())) {
    throw ScimError.invalidValue(`${name} must be an integer`);
  }
  return Number(text.trim());
}

const validated = (filter: Filter) => {
  validateFilter(filter, SCIM_TRAITS);
  return filter;
};

/** The list query from the request's query string. */
export function readListQuery(query: Record<string, unknown>): ScimListQuery {
  const filterText = single(query, 'filter');
  const sortByText = single(query, 'sortBy');
  const sortOrder = single(query, 'sortOrder');
  const sortBy = sortByText !== undefined ? parseAttrPath(sortByText.trim()) : undefined;
  if (sortBy === null) {
    throw ScimError.invalidValue('sortBy must be an attribute path');
  }
  if (sortOrder !== undefined && !['ascending', 'descending'].includes(sortOrder.toLowerCase())) {
    throw ScimError.invalidValue('sortOrder must be "ascending" or "descending"');
  }
  return {
    filter: filterText !== undefined ? validated(parseFilter(filterText)) : undefined,
    sortBy,
    descending: sortOrder?.toLowerCase() === 'descending',
    // RFC 7644: a startIndex below 1 is read as 1, a negative count as 0.
    startIndex: Math.max(1, integer(single(query, 'startIndex'), 'startIndex', 1)),
    count: Math.min(MAX_PAGE_SIZE, Math.max(0, integer(single(query, 'count'), 'count', MAX_PAGE_SIZE))),
    attributes: parseAttributeList(single(query, 'attributes'), 'attributes'),
    excludedAttributes: parseAttributeList(single(query, 'excludedAttributes'), 'excludedAttributes'),
  };
}

/** `attributes` and `excludedAttributes` alone (GET of one resource). */
export function readAttributesQuery(
  query: Record<string, unknown>,
): Pick<ScimListQuery, 'attributes' | 'excludedAttributes'> {
  return {
    attributes: parseAttributeList(single(query, 'attributes'), 'attributes'),
    excludedAttributes: parseAttributeList(single(query, 'excludedAttributes'), 'excludedAttributes'),
  };
}

/** Whether the answer will show `attr` (so that it need not be read when it will not: a group's members). */
export function shows(query: Pick<ScimListQuery, 'attributes' | 'excludedAttributes'>, attr: string): boolean {
  const named = (list: { attr: string; sub?: string }[]) =>
    list.some((p) => p.attr.toLowerCase() === attr.toLowerCase());
  if (query.attributes.length > 0) {
    return named(query.attributes);
  }
  return !query.excludedAttributes.some((p) => p.attr.toLowerCase() === attr.toLowerCase() && p.sub === undefined);
}

function sortValue(resource: ScimResource, path: { attr: string; sub?: string }): Json {
  const top = member(resource, path.attr);
  const value = path.sub !== undefined ? member(Array.isArray(top) ? top[0] : top, path.sub) : top;
  if (Array.isArray(value)) {
    const primary: Json = (value as Json[]).find((item) => member(item, 'primary') === true) ?? (value as Json[])[0];
    return member(primary, 'value') ?? primary;
  }
  return value;
}

function compare(a: Json, b: Json): number {
  // Resources without the value go last, whatever the order (RFC 7644 3.4.2.3).
  if (a === undefined || a === null) {
    return b === undefined || b === null ? 0 : 1;
  }
  if (b === undefined || b === null) {
    return -1;
  }
  const [x, y] =
    typeof a === 'string' && typeof b === 'string'
      ? [a.toLowerCase(), b.toLowerCase()]
      : [JSON.stringify(a), JSON.stringify(b)];
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Filters and sorts resources in memory (the caller bounds how many: MAX_SCANNED_RESOURCES). */
export function filterAndSort(resources: ScimResource[], query: ScimListQuery): ScimResource[] {
  const kept = query.filter ? resources.filter((resource) => matches(resource, query.filter!, SCIM_TRAITS)) : resources;
  if (!query.sortBy) {
    return kept;
  }
  const sortBy = query.sortBy;
  const direction = query.descending ? -1 : 1;
  return [...kept].sort((a, b) => {
    const [va, vb] = [sortValue(a, sortBy), sortValue(b, sortBy)];
    if (va === undefined || va === null || vb === undefined || vb === null) {
      return compare(va, vb);
    }
    return direction * compare(va, vb);
  });
}

/** A ListResponse of one page of `total` resources, each projected. */
export function listResponse(page: ScimResource[], total: number, query: ScimListQuery): ScimResource {
  return {
    schemas: [LIST_SCHEMA],
    totalResults: total,
    startIndex: query.startIndex,
    itemsPerPage: page.length,
    Resources: page.map((resource) => project(resource, query.attributes, query.excludedAttributes)),
  };
}

export function tooMany(kind: string): ScimError {
  return ScimError.scim(
    'tooMany',
    `This ${kind} filter or sort would be evaluated over more than ${MAX_SCANNED_RESOURCES} ${kind}s: filter with ` +
      '`eq` on userName, externalId, id or displayName (answered by an index), or narrow the token’s grant',
  );
}
