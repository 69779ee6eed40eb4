import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger, Optional } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AuditService } from '../audit/audit.service.js';
import {
  isDatabaseUnavailable,
  isForeignKeyViolation,
  loggableError,
  unavailabilityReason,
} from '../database/database-errors.js';
import { ApiError, ERROR_TYPE_BY_STATUS, type ErrorType, type InvalidField } from './api-error.js';
import { loggableUrl } from './logging.js';

export interface ErrorBody {
  type: ErrorType;
  title: string;
  status: number;
  invalid_fields?: InvalidField[];
  failed_checks?: string[];
  request_id: string;
}

/** Seconds a client is asked to wait (`Retry-After`) before retrying a request answered 503. */
export const RETRY_AFTER_SECONDS = 5;

/**
 * Turns every exception of the IAM's routes into the one error body (bound to each IAM controller by
 * @IamController; the standalone service also binds it app-wide, for its 404s). Known errors keep their status and title; a database
 * that cannot serve the request now (down, frozen, timed out, busy) is a 503 with `Retry-After`, logged
 * as one warning line without a stack; anything else is logged with its stack and answered as a bare 500,
 * never shown to the caller. A refusal the audit trail keeps (a 403, a sign-in's 429) is recorded before the answer
 * goes out, so that it is in the trail by the time the caller reads the answer (AuditService.recordRefusal; where the
 * filter is made without Nest's injector, in IamHttpMiddleware, there is no route yet and nothing to record).
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('ApiExceptionFilter');

  constructor(@Optional() private readonly audit?: AuditService) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<Request>();
    const res = ctx.getResponse<Response>();
    if (this.audit === undefined) {
      this.respond(exception, req, res);
      return;
    }
    void this.audit.recordRefusal(exception, req).then(() => this.respond(exception, req, res));
  }

  /** Logs and answers `exception`; also called by IamHttpMiddleware, whose errors no controller filter sees. */
  respond(exception: unknown, req: Request, res: Response): void {
    const databaseUnavailable = !(exception instanceof HttpException) && isDatabaseUnavailable(exception);
    const body = databaseUnavailable ? this.unavailable(req) : this.toBody(exception, req);

    if (databaseUnavailable) {
      this.logger.warn(
        {
          reason: unavailabilityReason(exception),
          request_id: body.request_id,
          method: req.method,
          url: loggableUrl(req.originalUrl),
        },
        'Database unavailable: answered 503',
      );
    } else if (body.status === 503 && !(exception instanceof ApiError)) {
      // A 503 from elsewhere (an ApiError 503 is thrown on purpose and logged where it is thrown).
      this.logger.warn(
        { request_id: body.request_id, method: req.method, url: loggableUrl(req.originalUrl) },
        body.title,
      );
    } else if (body.status >= 500 && body.status !== 503) {
      this.logger.error(
        {
          err: loggableError(exception),
          request_id: body.request_id,
          method: req.method,
          url: loggableUrl(req.originalUrl),
        },
        exception instanceof Error ? exception.stack : String(exception),
      );
    }
    if (res.headersSent) {
      return;
    }
    if (body.status === 401) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="iam"');
    }
    if (exception instanceof ApiError && exception.retryAfterSeconds !== undefined) {
      res.setHeader('Retry-After', String(exception.retryAfterSeconds));
    } else if (body.status === 503) {
      res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
    }
    this.send(exception, body, res);
  }

  /** Writes the error body (ScimExceptionFilter writes SCIM's instead). */
  protected send(_exception: unknown, body: ErrorBody, res: Response): void {
    res.status(body.status).json(body);
  }

  private unavailable(req: Request): ErrorBody {
    return {
      type: 'service_unavailable',
      title: 'The database is unavailable: retry later',
      status: 503,
      request_id: requestIdOf(req),
    };
  }

  private toBody(exception: unknown, req: Request): ErrorBody {
    const request_id = requestIdOf(req);
    if (exception instanceof ApiError) {
      return {
        type: exception.type,
        title: exception.title,
        status: exception.getStatus(),
        ...(exception.invalidFields ? { invalid_fields: exception.invalidFields } : {}),
        ...(exception.failedChecks ? { failed_checks: exception.failedChecks } : {}),
        request_id,
      };
    }
    if (isForeignKeyViolation(exception)) {
      // A row this write referenced was deleted by a concurrent request (locks cover the known cases).
      return {
        type: 'conflict',
        title: 'Something this request refers to was changed by another request at the same time: retry',
        status: 409,
        request_id,
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const type = ERROR_TYPE_BY_STATUS[status];
      if (type !== undefined && (status < 500 || status === 503)) {
        return { type, title: this.titleOf(exception, status), status, request_id };
      }
    }
    return { type: 'internal', title: 'Internal server error', status: 500, request_id };
  }

  private titleOf(exception: HttpException, status: number): string {
    if (status === 404) {
      return 'No such route'; // Nest's message would echo the method and path back
    }
    const response = exception.getResponse();
    if (typeof response === 'string') {
      return response;
    }
    const message = (response as { message?: unknown }).message;
    return typeof message === 'string' ? message : exception.message;
  }
}

function requestIdOf(req: Request): string {
  return typeof req.id === 'string' ? req.id : JSON.stringify(req.id);
}
