/**
 * The SCIM representation of users and groups (RFC 7643) and back: the mapping functions, the version (ETag), the
 * projection by `attributes`/`excludedAttributes`, and the reading of what a client sends (POST, PUT, or the result
 * of a PATCH) into the fields this service stores. Pure: no database, no Nest.
 */
import { createHash } from 'node:crypto';
import { canonicalName, nameProblem } from '../common/names.js';
import { RESERVED_USER_NAMES, UNSTORABLE_TEXT } from '../common/validators.js';
import { ScimError } from './scim-error.js';
import { type AttributeTraits, member, parseAttrPath } from './scim-filter.js';

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';

export type Json = unknown;
export type ScimResource = Record<string, Json>;

/** How SCIM attributes of users and groups compare in filters and sorting. */
export const SCIM_TRAITS: AttributeTraits = {
  caseExact: new Set(['id', 'externalid', 'meta.version', 'members.value', 'groups.value']),
  dates: new Set(['meta.created', 'meta.lastmodified']),
};

/** What the mappers need of a user row (with its profile and its groups). */
export interface ScimUserSource {
  id: string;
  name: string;
  displayName: string;
  externalId: string | null;
  active: boolean;
  createdAt: Date;
  updatedAt: Date | null;
  fullName: string | null;
  emailAddress: string | null;
  groups: { id: string; displayName: string }[];
}

export interface ScimGroupSource {
  id: string;
  name: string;
  displayName: string;
  externalId: string | null;
  createdAt: Date;
  updatedAt: Date | null;
  /** Undefined when not read (`excludedAttributes=members`). */
  members?: { id: string; name: string; displayName: string }[];
}

/**
 * A weak ETag of what the resource says (meta aside, and whatever base URL it was reached by): any change of a mapped
 * attribute, members included, moves it.
 */
export function versionOf(resource: ScimResource, baseUrl: string): string {
  const content = Object.fromEntries(Object.entries(resource).filter(([key]) => key !== 'meta'));
  const text = JSON.stringify(content).split(baseUrl).join('');
  return `W/"${createHash('sha256').update(text).digest('hex').slice(0, 20)}"`;
}

/** `versioned`: false when the resource is not whole (a group read without its members): no version is claimed. */
function withMeta(
  resource: ScimResource,
  type: 'User' | 'Group',
  baseUrl: string,
  created: Date,
  updated: Date | null,
  versioned = true,
) {
  return {
    ...resource,
    meta: {
      resourceType: type,
      created: created.toISOString(),
      lastModified: (updated ?? created).toISOString(),
      location: `${baseUrl}/${type}s/${String(resource.id)}`,
      ...(versioned ? { version: versionOf(resource, baseUrl) } : {}),
    },
  };
}

export function toScimUser(user: ScimUserSource, baseUrl: string): ScimResource {
  const resource: ScimResource = {
    schemas: [USER_SCHEMA],
    id: user.id,
    ...(user.externalId !== null ? { externalId: user.externalId } : {}),
    userName: user.name,
    displayName: user.displayName,
    ...(user.fullName !== null ? { name: { formatted: user.fullName } } : {}),
    ...(user.emailAddress !== null ? { emails: [{ value: user.emailAddress, type: 'work', primary: true }] } : {}),
    active: user.active,
    groups: [...user.groups]
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .map((group) => ({ value: group.id, display: group.displayName, $ref: `${baseUrl}/Groups/${group.id}` })),
  };
  return withMeta(resource, 'User', baseUrl, user.createdAt, user.updatedAt);
}

export function toScimGroup(group: ScimGroupSource, baseUrl: string): ScimResource {
  const resource: ScimResource = {
    schemas: [GROUP_SCHEMA],
    id: group.id,
    ...(group.externalId !== null ? { externalId: group.externalId } : {}),
    displayName: group.displayName,
    ...(group.members !== undefined
      ? {
          members: [...group.members]
            .sort((a, b) => (a.id < b.id ? -1 : 1))
            .map((user) => ({
              value: user.id,
              display: user.displayName,
              type: 'User',
              $ref: `${baseUrl}/Users/${user.id}`,
            })),
        }
      : {}),
  };
  return withMeta(resource, 'Group', baseUrl, group.createdAt, group.updatedAt, group.members !== undefined);
}

// ---------------------------------------------------------------------------------------------------------
// attributes / excludedAttributes

/** Returned whatever `attributes`/`excludedAttributes` say (RFC 7643 `returned: always`). */
const ALWAYS_RETURNED = new Set(['id', 'schemas']);

/** A comma-separated list of attribute paths (`userName,name.formatted`); 400 `invalidValue` for a bad one. */
export function parseAttributeList(text: string | undefined, parameter: string): { attr: string; sub?: string }[] {
  if (text === undefined || text.trim() === '') {
    return [];
  }
  return text.split(',').map((part) => {
    const path = parseAttrPath(part.trim());
    if (!path) {
      throw ScimError.invalidValue(`${parameter}: "${part.trim().slice(0, 100)}" is not an attribute path`);
    }
    return path;
  });
}

/** The resource with only `attributes` (and what is always returned), or without `excluded`. */
export function project(
  resource: ScimResource,
  attributes: { attr: string; sub?: string }[],
  excluded: { attr: string; sub?: string }[],
): ScimResource {
  const keyOf = (name: string) => Object.keys(resource).find((key) => key.toLowerCase() === name.toLowerCase());
  if (attributes.length > 0) {
    const out: ScimResource = {};
    for (const [key, value] of Object.entries(resource)) {
      if (ALWAYS_RETURNED.has(key)) {
        out[key] = value;
      }
    }
    for (const path of attributes) {
      const key = keyOf(path.attr);
      if (key === undefined) {
        continue;
      }
      const value = resource[key];
      if (path.sub === undefined || typeof value !== 'object' || value === null) {
        out[key] = value;
        continue;
      }
      const pick = (item: Json) => {
        const sub = member(item, path.sub!);
        const subKey = Object.keys(item as object).find((k) => k.toLowerCase() === path.sub!.toLowerCase());
        return subKey === undefined ? {} : { [subKey]: sub };
      };
      if (Array.isArray(value)) {
        const previous = Array.isArray(out[key]) ? (out[key] as Record<string, Json>[]) : value.map(() => ({}));
        out[key] = value.map((item, index) => ({ ...previous[index], ...pick(item) }));
      } else {
        const previous = out[key];
        out[key] = { ...(typeof previous === 'object' && previous !== null ? previous : {}), ...pick(value) };
      }
    }
    return out;
  }
  const out: ScimResource = { ...resource };
  for (const path of excluded) {
    const key = keyOf(path.attr);
    if (key === undefined || ALWAYS_RETURNED.has(key)) {
      continue;
    }
    if (path.sub === undefined) {
      delete out[key];
      continue;
    }
    const strip = (item: Json) =>
      typeof item === 'object' && item !== null
        ? Object.fromEntries(Object.entries(item).filter(([k]) => k.toLowerCase() !== path.sub!.toLowerCase()))
        : item;
    out[key] = Array.isArray(out[key]) ? (out[key] as Json[]).map(strip) : strip(out[key]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Reading what a client sends

/** A boolean as sent: `true`/`false`, and with lenient mode Microsoft Entra's "True"/"False" strings. */
export function booleanOf(value: Json, field: string, lenient: boolean): boolean {
  if (typeof value === 'boolean') {
    return value;
  }
  if (lenient && typeof value === 'string' && ['true', 'false'].includes(value.toLowerCase())) {
    return value.toLowerCase() === 'true';
  }
  throw ScimError.invalidValue(`${field} must be a boolean${lenient ? ' (or "True"/"False")' : ''}`);
}

function optionalText(value: Json, field: string, max: number): string | null | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (value === null) {
    return null;
  }
  if (typeof value !== 'string') {
    throw ScimError.invalidValue(`${field} must be a string`);
  }
  const text = value.trim();
  if (UNSTORABLE_TEXT.test(text) || /\p{Cc}/u.test(text)) {
    throw ScimError.invalidValue(`${field} holds control characters or unpaired surrogates`);
  }
  if ([...text].length > max) {
    throw ScimError.invalidValue(`${field} is longer than ${max} characters`);
  }
  return text.length > 0 ? text : null;
}

function assertSchemas(body: ScimResource, schema: string): void {
  const schemas = member(body, 'schemas');
  if (schemas === undefined) {
    return;
  }
  if (
    !Array.isArray(schemas) ||
    !schemas.some((s) => typeof s === 'string' && s.toLowerCase() === schema.toLowerCase())
  ) {
    throw ScimError.scim('invalidSyntax', `schemas must include "${schema}"`);
  }
}

export function assertObject(body: Json): ScimResource {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw ScimError.scim('invalidSyntax', 'The request body must be a JSON object');
  }
  return body as ScimResource;
}

export interface UserInput {
  userName: string;
  displayName: string;
  fullName: string | null;
  emailAddress: string | null;
  externalId: string | null;
  /** Undefined when not sent: a new user is active, an existing one keeps its state. */
  active?: boolean;
}

const EMAIL = /^[^\s@]+@[^\s@]+$/;

/** The primary e-mail address: `primary: true`, else the `work` one, else the first. */
function primaryEmail(emails: Json, lenient: boolean): string | null {
  if (emails === undefined || emails === null) {
    return null;
  }
  if (!Array.isArray(emails)) {
    throw ScimError.invalidValue('emails must be an array');
  }
  const items = (emails as Json[]).filter((item) => item !== null);
  if (!items.every((item) => typeof item === 'object' && !Array.isArray(item))) {
    throw ScimError.invalidValue('each of emails must be an object with a value');
  }
  const isPrimary = (item: Json) => {
    const primary = member(item, 'primary');
    return primary !== undefined && primary !== null && booleanOf(primary, 'emails.primary', lenient);
  };
  const chosen =
    items.find(isPrimary) ??
    items.find((item) => {
      const type = member(item, 'type');
      return typeof type === 'string' && type.toLowerCase() === 'work';
    }) ??
    items[0];
  if (chosen === undefined) {
    return null;
  }
  const value = optionalText(member(chosen, 'value'), 'emails.value', 100);
  if (value && !EMAIL.test(value)) {
    throw ScimError.invalidValue(`emails.value ${JSON.stringify(value)} is not an e-mail address`);
  }
  return value ?? null;
}

/**
 * A User as sent (POST, PUT, or after a PATCH): userName must be a valid user name here (400 `invalidValue`); the
 * name's `formatted` (else given, middle and family names) is the profile's full name; the primary e-mail address
 * its e-mail address. Attributes this service does not keep (`password`, `title`, `phoneNumbers`, extensions) are
 * ignored; read-only ones (`id`, `groups`, `meta`) too.
 */
export function readUser(body: Json, lenient: boolean): UserInput {
  const resource = assertObject(body);
  assertSchemas(resource, USER_SCHEMA);
  const rawName = member(resource, 'userName');
  if (typeof rawName !== 'string' || rawName.trim().length === 0) {
    throw ScimError.invalidValue('userName is required: a string');
  }
  const userName = canonicalName(rawName.trim());
  const problem =
    [...userName].length > 100
      ? 'is longer than 100 characters'
      : RESERVED_USER_NAMES.includes(userName.toLowerCase())
        ? 'is reserved'
        : nameProblem(userName)?.reason;
  if (problem) {
    throw ScimError.invalidValue(
      `userName ${JSON.stringify(userName.slice(0, 100))} is not a valid user name: it ${problem}`,
    );
  }
  const name = member(resource, 'name');
  if (name !== undefined && name !== null && (typeof name !== 'object' || Array.isArray(name))) {
    throw ScimError.invalidValue('name must be an object');
  }
  const formatted = optionalText(member(name, 'formatted'), 'name.formatted', 100);
  const parts = ['givenName', 'middleName', 'familyName']
    .map((part) => optionalText(member(name, part), `name.${part}`, 100))
    .filter((part): part is string => typeof part === 'string');
  const joined = parts.join(' ');
  if ([...joined].length > 100 && !formatted) {
    throw ScimError.invalidValue('name is longer than 100 characters');
  }
  const fullName = formatted ?? (joined.length > 0 ? joined : null);
  const displayName = optionalText(member(resource, 'displayName'), 'displayName', 150) ?? fullName ?? userName;
  const active = member(resource, 'active');
  return {
    userName,
    displayName,
    fullName,
    emailAddress: primaryEmail(member(resource, 'emails'), lenient),
    externalId: optionalText(member(resource, 'externalId'), 'externalId', 255) ?? null,
    active: active === undefined || active === null ? undefined : booleanOf(active, 'active', lenient),
  };
}

export interface GroupInput {
  displayName: string;
  externalId: string | null;
  /** User ids; undefined when `members` is not sent. */
  members?: string[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isUuid = (value: string) => UUID.test(value);

/** A Group as sent: displayName required; members by user id (`value`). */
export function readGroup(body: Json): GroupInput {
  const resource = assertObject(body);
  assertSchemas(resource, GROUP_SCHEMA);
  const displayName = optionalText(member(resource, 'displayName'), 'displayName', 150);
  if (!displayName) {
    throw ScimError.invalidValue('displayName is required: a non-empty string');
  }
  const members = member(resource, 'members');
  if (members !== undefined && members !== null && !Array.isArray(members)) {
    throw ScimError.invalidValue('members must be an array');
  }
  const ids = Array.isArray(members)
    ? members.map((item) => {
        const value = member(item, 'value');
        if (typeof value !== 'string' || !isUuid(value)) {
          throw ScimError.invalidValue('each of members must have a value: the id of a User');
        }
        const type = member(item, 'type');
        if (type !== undefined && (typeof type !== 'string' || type.toLowerCase() !== 'user')) {
          throw ScimError.invalidValue('members may only be Users');
        }
        return value.toLowerCase();
      })
    : undefined;
  return {
    displayName,
    externalId: optionalText(member(resource, 'externalId'), 'externalId', 255) ?? null,
    members: ids === undefined ? (members === null ? [] : undefined) : [...new Set(ids)],
  };
}

/**
 * A group's name from its SCIM displayName, by a stable rule: a displayName that is a valid group name once
 * lower-cased is that name (`engineering`, `Ops-EU` → `ops-eu`); any other is made one: accents dropped, lower case,
 * each run of other characters a hyphen, cut to 54 characters, and a hyphen and the first 8 hex digits of the
 * SHA-256 of the displayName appended (`Sales Team (EMEA)` → `sales-team-emea-<8 hex>`), so that two displayNames
 * that read alike stay two names.
 */
export function groupNameOf(displayName: string): string {
  const lower = displayName.toLowerCase();
  if (/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(lower)) {
    return lower;
  }
  const slug = displayName
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 54)
    .replace(/-+$/, '');
  const hash = createHash('sha256').update(displayName, 'utf8').digest('hex').slice(0, 8);
  return `${slug.length > 0 ? slug : 'group'}-${hash}`;
}
