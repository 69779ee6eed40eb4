import { Catch } from '@nestjs/common';
import type { Response } from 'express';
import { ApiExceptionFilter, type ErrorBody } from '../common/api-exception.filter.js';
import { SCIM_ERROR_SCHEMA, ScimError } from './scim-error.js';
import { SCIM_CONTENT_TYPE } from './scim-resources.js';

/**
 * The error filter of the SCIM routes only: everything ApiExceptionFilter does (the audit trail's record of a refusal,
 * the logs, a bare 500, 503 with Retry-After), answered with SCIM's error body (RFC 7644 section 3.12) in
 * application/scim+json: `schemas`, `status` (a string), `scimType` where one applies, `detail`.
 */
@Catch()
export class ScimExceptionFilter extends ApiExceptionFilter {
  protected override send(exception: unknown, body: ErrorBody, res: Response): void {
    const scimType =
      exception instanceof ScimError
        ? exception.scimType
        : body.status === 409
          ? 'uniqueness'
          : body.status === 400
            ? 'invalidSyntax' // a body that is not JSON or not an object, a path parameter with NUL
            : undefined;
    const detail = body.invalid_fields?.length
      ? `${body.title}: ${body.invalid_fields.map((field) => field.title).join('; ')}`
      : body.title;
    res
      .status(body.status)
      .type(SCIM_CONTENT_TYPE)
      .send(
        JSON.stringify({
          schemas: [SCIM_ERROR_SCHEMA],
          status: String(body.status),
          ...(scimType !== undefined ? { scimType } : {}),
          detail,
          request_id: body.request_id,
        }),
      );
  }
}
