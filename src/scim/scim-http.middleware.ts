import { Injectable } from '@nestjs/common';
import { IamHttpMiddleware } from '../common/iam-http.middleware.js';
import { ScimExceptionFilter } from './scim-exception.filter.js';

/**
 * IamHttpMiddleware (request id, CORS, the cross-site refusal, cookies, JSON bodies: `application/scim+json` is JSON)
 * for the SCIM controllers only, its own errors (a malformed body, 413, 415) answered with SCIM's error body.
 */
@Injectable()
export class ScimHttpMiddleware extends IamHttpMiddleware {
  protected override readonly filter = new ScimExceptionFilter();
}
