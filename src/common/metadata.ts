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
  const next: Record<string, string> = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete next[key];
    } else {
      next[key] = value;
    }
  }
  if (Object.keys(next).length > METADATA_MAX_KEYS) {
    throw ApiError.invalidField('metadata', 'too_many', `metadata would have more than ${METADATA_MAX_KEYS} keys`);
  }
  return next;
}
