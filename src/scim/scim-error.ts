import { HttpStatus } from '@nestjs/common';
import { ApiError, ERROR_TYPE_BY_STATUS, type ErrorType } from '../common/api-error.js';

/** The `scimType` of a SCIM error (RFC 7644, section 3.12), where one applies. */
export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive';

export const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

/**
 * An error of the SCIM routes: an ApiError (so that everything that handles ours handles it: the audit trail's record
 * of a refusal, the logs), with the SCIM `scimType`. ScimExceptionFilter answers it with SCIM's error body.
 */
export class ScimError extends ApiError {
  constructor(
    status: HttpStatus,
    title: string,
    readonly scimType?: ScimType,
  ) {
    // The IAM API's `type`, never shown on the SCIM routes (their body has the status itself); the one status of
    // SCIM's that the IAM API does not answer, 412 (a version mismatch), is a kind of conflict.
    super(status, ERROR_TYPE_BY_STATUS[status] ?? ('conflict' satisfies ErrorType), title);
  }

  static scim(scimType: ScimType, detail: string): ScimError {
    return new ScimError(HttpStatus.BAD_REQUEST, detail, scimType);
  }

  static invalidFilter(detail: string): ScimError {
    return ScimError.scim('invalidFilter', `Invalid filter: ${detail}`);
  }

  static invalidValue(detail: string): ScimError {
    return ScimError.scim('invalidValue', detail);
  }

  static invalidPath(detail: string): ScimError {
    return ScimError.scim('invalidPath', detail);
  }

  static noTarget(detail: string): ScimError {
    return new ScimError(HttpStatus.NOT_FOUND, detail, 'noTarget');
  }

  static uniqueness(detail: string): ScimError {
    return new ScimError(HttpStatus.CONFLICT, detail, 'uniqueness');
  }

  static preconditionFailed(detail: string): ScimError {
    return new ScimError(HttpStatus.PRECONDITION_FAILED, detail);
  }
}
