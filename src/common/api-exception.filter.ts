import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { isForeignKeyViolation, loggableError } from '../database/database-errors.js';
import { ApiError, ERROR_TYPE_BY_STATUS, type ErrorType, type InvalidField } from './api-error.js';
import { loggableUrl } from './logging.js';

interface ErrorBody {
  type: ErrorType;
  title: string;
  status: number;
  invalid_fields?: InvalidField[];
  request_id: string;
}

/**
 * Turns every exception into the one error body. Known errors keep their status and title; anything
 * else is logged with its stack and answered as a bare 500, never shown to the caller.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('ApiExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<Request>();
    const res = ctx.getResponse<Response>();
    const body = this.toBody(exception, req);

    if (body.status >= 500) {
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
    }
    res.status(body.status).json(body);
  }

  private toBody(exception: unknown, req: Request): ErrorBody {
    const request_id = typeof req.id === 'string' ? req.id : JSON.stringify(req.id);
    if (exception instanceof ApiError) {
      return {
        type: exception.type,
        title: exception.title,
        status: exception.getStatus(),
        ...(exception.invalidFields ? { invalid_fields: exception.invalidFields } : {}),
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
