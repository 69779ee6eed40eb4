import { ApiError } from '../common/api-error.js';
import type { Principal } from '../auth/principal.js';
import { ScimError } from './scim-error.js';
import type { ScimResource } from './scim-resources.js';

/**
 * SCIM is for service-account tokens: an identity provider's provisioning connection, not a person. A user's session
 * (even an administrator's) is refused with a 403, so that a browser can never be led into provisioning requests.
 */
export function assertProvisioner(principal: Principal): void {
  if (principal.kind !== 'service_account') {
    throw ApiError.forbidden('SCIM provisioning is for service-account tokens (Authorization: Bearer), not sessions');
  }
}

/** `If-Match` (RFC 7644 3.14): `*` or a list of ETags, one of which must be the resource's version (412 otherwise). */
export function assertIfMatch(ifMatch: string | undefined, current: ScimResource): void {
  if (ifMatch === undefined || ifMatch.trim() === '*') {
    return;
  }
  const version = (current.meta as { version: string }).version;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  if (!ifMatch.split(',').some((tag) => opaque(tag) === opaque(version))) {
    throw ScimError.preconditionFailed(
      `The resource has changed: its version is ${version}, not ${ifMatch.slice(0, 100)}`,
    );
  }
}
