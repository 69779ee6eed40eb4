import { ApiError } from './api-error.js';
import { METADATA_MAX_KEYS } from './validators.js';

/** PATCH semantics for metadata: absent keys stay, `null` deletes its key, other values replace. */
export function patchMetadata(
  current: Record<string, string>,
  patch: Record<string, string | null> | undefined,
): Record<string, string> {
  if (patch === undefined) {
    return current;
  }
  // A Map, so that no key (not even "constructor") is ever confused with an object's own machinery.
  const next = new Map(Object.entries(current));
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      next.delete(key);
    } else {
      next.set(key, value);
    }
  }
  if (next.size > METADATA_MAX_KEYS) {
    throw ApiError.invalidField('metadata', 'too_many', `metadata would have more than ${METADATA_MAX_KEYS} keys`);
  }
  return Object.fromEntries(next);
}
