/**
 * SCIM PATCH (RFC 7644, section 3.5.2) as a pure function: the operations applied to a copy of the resource as this
 * service renders it; the caller then stores the result as a PUT would (readUser/readGroup), so that a PATCH can do
 * nothing a PUT could not. ScimError 400 for anything malformed (`invalidSyntax`, `invalidPath`, `invalidFilter`,
 * `noTarget`, `invalidValue`).
 *
 * Lenient mode (on by default, IAM_SCIM_LENIENT) takes Microsoft Entra ID's known departures: `op` in any case
 * (`Replace`), booleans as "True"/"False" (see booleanOf), a `remove` of `members` with a `value` listing the members
 * to remove, and a PatchOp without `schemas`.
 */
import { ScimError } from './scim-error.js';
import { type Filter, matches, member, parseAttrPath, parseFilter } from './scim-filter.js';
import { type Json, PATCH_SCHEMA, SCIM_TRAITS, type ScimResource } from './scim-resources.js';

export const MAX_PATCH_OPERATIONS = 1000;

interface PatchPath {
  attr: string;
  filter?: Filter;
  sub?: string;
}

/** `attr`, `attr.sub`, `attr[filter]`, `attr[filter].sub`, each optionally behind a schema URN. */
export function parsePatchPath(text: unknown): PatchPath {
  if (typeof text !== 'string' || text.trim() === '' || text.length > 1024) {
    throw ScimError.invalidPath('path must be a non-empty attribute path');
  }
  const path = text.trim();
  const open = path.indexOf('[');
  if (open === -1) {
    const parsed = parseAttrPath(path);
    if (!parsed) {
      throw ScimError.invalidPath(`"${path.slice(0, 100)}" is not an attribute path`);
    }
    return parsed;
  }
  const close = path.lastIndexOf(']');
  const head = parseAttrPath(path.slice(0, open));
  const tail = path.slice(close + 1);
  if (!head || head.sub !== undefined || close < open || (tail !== '' && !/^\.[A-Za-z][\w$-]*$/.test(tail))) {
    throw ScimError.invalidPath(`"${path.slice(0, 100)}" is not an attribute path`);
  }
  return {
    attr: head.attr,
    filter: parseFilter(path.slice(open + 1, close)),
    ...(tail !== '' ? { sub: tail.slice(1) } : {}),
  };
}

const keyIn = (object: Record<string, Json>, name: string) =>
  Object.keys(object).find((key) => key.toLowerCase() === name.toLowerCase()) ?? name;

const isObject = (value: Json): value is Record<string, Json> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Two values of a multi-valued attribute are the same when their `value`s are (else when equal as JSON). */
function sameValue(a: Json, b: Json): boolean {
  const [va, vb] = [member(a, 'value'), member(b, 'value')];
  if (va !== undefined && vb !== undefined) {
    return typeof va === 'string' && typeof vb === 'string' ? va.toLowerCase() === vb.toLowerCase() : va === vb;
  }
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The `type eq "work"` of a value filter, from which a missing value can be made (Entra adds e-mails so). */
function seedOf(filter: Filter): Record<string, Json> | undefined {
  if (filter.kind === 'compare' && filter.op === 'eq' && filter.path.sub === undefined) {
    return { [filter.path.attr]: filter.value };
  }
  return undefined;
}

function setAttribute(resource: ScimResource, path: PatchPath, value: Json, op: 'add' | 'replace'): void {
  const key = keyIn(resource, path.attr);
  const current = resource[key];
  if (path.filter) {
    const items = Array.isArray(current) ? [...(current as Json[])] : [];
    let matched = false;
    const updated = items.map((item) => {
      if (!matches(item, path.filter!, SCIM_TRAITS, path.attr)) {
        return item;
      }
      matched = true;
      if (path.sub !== undefined) {
        return { ...(isObject(item) ? item : {}), [keyIn(isObject(item) ? item : {}, path.sub)]: value };
      }
      return isObject(value) ? { ...(isObject(item) ? item : {}), ...value } : value;
    });
    if (!matched) {
      const seed = seedOf(path.filter);
      if (!seed) {
        throw ScimError.scim('noTarget', `No value of ${path.attr} matches the path's filter`);
      }
      updated.push(
        path.sub !== undefined ? { ...seed, [path.sub]: value } : { ...seed, ...(isObject(value) ? value : {}) },
      );
    }
    resource[key] = updated;
    return;
  }
  if (path.sub !== undefined) {
    if (Array.isArray(current)) {
      throw ScimError.invalidPath(
        `${path.attr} is multi-valued: name the value with a filter (${path.attr}[…].${path.sub})`,
      );
    }
    const object = isObject(current) ? { ...current } : {};
    object[keyIn(object, path.sub)] = value;
    resource[key] = object;
    return;
  }
  if (op === 'add' && Array.isArray(current)) {
    const existing = current as Json[];
    const added: Json[] = Array.isArray(value) ? (value as Json[]) : [value];
    resource[key] = [...existing, ...added.filter((item) => !existing.some((old) => sameValue(old, item)))];
    return;
  }
  if (op === 'add' && isObject(current) && isObject(value)) {
    resource[key] = { ...current, ...value };
    return;
  }
  resource[key] = value;
}

function removeAttribute(resource: ScimResource, path: PatchPath, value: Json, lenient: boolean): void {
  const key = keyIn(resource, path.attr);
  const current = resource[key];
  if (path.filter) {
    if (!Array.isArray(current)) {
      return;
    }
    resource[key] = (current as Json[]).flatMap((item): Json[] => {
      if (!matches(item, path.filter!, SCIM_TRAITS, path.attr)) {
        return [item];
      }
      if (path.sub === undefined) {
        return [];
      }
      const kept = isObject(item) ? { ...item } : {};
      delete kept[keyIn(kept, path.sub)];
      return [kept];
    });
    return;
  }
  if (path.sub !== undefined) {
    if (isObject(current)) {
      const object = { ...current };
      delete object[keyIn(object, path.sub)];
      resource[key] = object;
    }
    return;
  }
  if (value !== undefined && Array.isArray(current)) {
    if (!lenient) {
      throw ScimError.invalidValue(
        `To remove some values of ${path.attr}, name them in the path: ${path.attr}[value eq "…"]`,
      );
    }
    const removed = Array.isArray(value) ? value : [value];
    resource[key] = current.filter((item) => !removed.some((gone) => sameValue(item, gone)));
    return;
  }
  delete resource[key];
}

/** The resource with the PatchOp body's operations applied, in order, to a copy. */
export function applyPatch(resource: ScimResource, body: Json, lenient: boolean): ScimResource {
  if (!isObject(body)) {
    throw ScimError.scim('invalidSyntax', 'The request body must be a PatchOp object');
  }
  const schemas = member(body, 'schemas');
  if (!(lenient && schemas === undefined)) {
    if (
      !Array.isArray(schemas) ||
      !schemas.some((s) => typeof s === 'string' && s.toLowerCase() === PATCH_SCHEMA.toLowerCase())
    ) {
      throw ScimError.scim('invalidSyntax', `schemas must be ["${PATCH_SCHEMA}"]`);
    }
  }
  const operations = member(body, 'Operations');
  if (!Array.isArray(operations) || operations.length === 0) {
    throw ScimError.scim('invalidSyntax', 'Operations must be a non-empty array');
  }
  if (operations.length > MAX_PATCH_OPERATIONS) {
    throw ScimError.scim('invalidSyntax', `At most ${MAX_PATCH_OPERATIONS} operations in one PATCH`);
  }
  const result = structuredClone(resource);
  for (const operation of operations) {
    if (!isObject(operation)) {
      throw ScimError.scim('invalidSyntax', 'Each operation must be an object');
    }
    const rawOp = member(operation, 'op');
    const op = typeof rawOp === 'string' ? (lenient ? rawOp.toLowerCase() : rawOp) : undefined;
    if (op !== 'add' && op !== 'remove' && op !== 'replace') {
      throw ScimError.scim('invalidSyntax', `op must be "add", "remove" or "replace"${lenient ? ' (any case)' : ''}`);
    }
    const rawPath = member(operation, 'path');
    const value = member(operation, 'value');
    if (op === 'remove') {
      if (rawPath === undefined) {
        throw ScimError.scim('noTarget', 'A remove operation needs a path');
      }
      removeAttribute(result, parsePatchPath(rawPath), value, lenient);
      continue;
    }
    if (value === undefined) {
      throw ScimError.invalidValue(`An ${op} operation needs a value`);
    }
    if (rawPath === undefined) {
      if (!isObject(value)) {
        throw ScimError.invalidValue(`An ${op} operation without a path needs an object value`);
      }
      for (const [name, attributeValue] of Object.entries(value)) {
        const path = parseAttrPath(name);
        if (path) {
          setAttribute(result, path, attributeValue, op);
        } else if (!/^urn:/i.test(name)) {
          throw ScimError.invalidPath(`"${name.slice(0, 100)}" is not an attribute`);
        }
        // An extension schema's attributes (an unknown URN) are not kept here: ignored, as on POST and PUT.
      }
      continue;
    }
    setAttribute(result, parsePatchPath(rawPath), value, op);
  }
  return result;
}
