import { HttpException, HttpStatus } from '@nestjs/common';

/** The `type` of every error body; one per HTTP status the API answers with. */
export type ErrorType =
  | 'bad_request'
  | 'unauthorised'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'request_timeout'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'too_many_requests'
  | 'request_header_fields_too_large'
  | 'service_unavailable'
  | 'internal';

/** Stable codes for `invalid_fields[].error`. */
export type FieldErrorCode =
  | 'required'
  | 'unknown_field'
  | 'invalid_type'
  | 'too_short'
  | 'too_long'
  | 'too_many'
  | 'invalid_format'
  | 'invalid_value'
  | 'reserved'
  | 'incorrect'
  | 'not_found'
  | 'conflicting';

export interface InvalidField {
  name: string;
  error: FieldErrorCode;
  title: string;
}

export const ERROR_TYPE_BY_STATUS: Record<number, ErrorType> = {
  400: 'bad_request',
  401: 'unauthorised',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  408: 'request_timeout',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
  431: 'request_header_fields_too_large',
  503: 'service_unavailable',
  500: 'internal',
};

/**
 * The one exception type the application throws on purpose. The global filter turns it into the
 * error body `{ type, title, status, invalid_fields?, request_id }`.
 */
export class ApiError extends HttpException {
  /** The health checks that failed (GET /health only). */
  failedChecks?: string[];

  constructor(
    status: HttpStatus,
    readonly type: ErrorType,
    readonly title: string,
    readonly invalidFields?: InvalidField[],
  ) {
    super(title, status);
  }

  /** When a retry may succeed (429, 503), in seconds: sent as `Retry-After`. */
  retryAfterSeconds?: number;

  /** The same error, answered with `Retry-After: seconds`. */
  withRetryAfter(seconds: number): this {
    this.retryAfterSeconds = Math.max(1, Math.ceil(seconds));
    return this;
  }

  static badRequest(title: string, invalidFields?: InvalidField[]): ApiError {
    return new ApiError(HttpStatus.BAD_REQUEST, 'bad_request', title, invalidFields);
  }

  static invalidField(name: string, error: FieldErrorCode, title: string): ApiError {
    return ApiError.badRequest(title, [{ name, error, title }]);
  }

  static unauthorised(title = 'Authentication is required'): ApiError {
    return new ApiError(HttpStatus.UNAUTHORIZED, 'unauthorised', title);
  }

  static forbidden(title: string): ApiError {
    return new ApiError(HttpStatus.FORBIDDEN, 'forbidden', title);
  }

  static notFound(title: string, invalidFields?: InvalidField[]): ApiError {
    return new ApiError(HttpStatus.NOT_FOUND, 'not_found', title, invalidFields);
  }

  /** 405: the path exists, not with this method (`allowed` goes in the `Allow` header too). */
  static methodNotAllowed(method: string, allowed: string[]): ApiError {
    return new ApiError(
      HttpStatus.METHOD_NOT_ALLOWED,
      'method_not_allowed',
      `${method} is not supported here; this path allows ${allowed.join(', ')}`,
    );
  }

  static conflict(title: string): ApiError {
    return new ApiError(HttpStatus.CONFLICT, 'conflict', title);
  }

  static payloadTooLarge(title: string): ApiError {
    return new ApiError(HttpStatus.PAYLOAD_TOO_LARGE, 'payload_too_large', title);
  }

  static unsupportedMediaType(title: string): ApiError {
    return new ApiError(HttpStatus.UNSUPPORTED_MEDIA_TYPE, 'unsupported_media_type', title);
  }

  /** 503 from a failed health check, naming the checks that failed. */
  static unhealthy(failedChecks: string[]): ApiError {
    const error = new ApiError(
      HttpStatus.SERVICE_UNAVAILABLE,
      'service_unavailable',
      `Unhealthy: ${failedChecks.join(', ')}`,
    );
    error.failedChecks = failedChecks;
    return error;
  }
}
