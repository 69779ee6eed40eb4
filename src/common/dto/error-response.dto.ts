import { ApiProperty } from '@nestjs/swagger';
import type { ErrorType, FieldErrorCode } from '../api-error.js';

export class InvalidFieldDto {
  /** The request field, as named in the request (`display_name`, `metadata`, `add_to_groups`). */
  name: string;

  @ApiProperty({
    enum: [
      'required',
      'unknown_field',
      'invalid_type',
      'too_short',
      'too_long',
      'too_many',
      'invalid_format',
      'invalid_value',
      'reserved',
      'incorrect',
      'not_found',
      'conflicting',
    ],
  })
  error: FieldErrorCode;

  /** Human-readable explanation. */
  title: string;
}

/** The body of every error response. */
export class ErrorResponseDto {
  @ApiProperty({
    enum: [
      'bad_request',
      'unauthorised',
      'forbidden',
      'not_found',
      'method_not_allowed',
      'request_timeout',
      'conflict',
      'payload_too_large',
      'unsupported_media_type',
      'too_many_requests',
      'request_header_fields_too_large',
      'service_unavailable',
      'internal',
    ],
    example: 'bad_request',
  })
  type: ErrorType;

  /** Human-readable summary. @example "Request validation failed" */
  title: string;

  /** The HTTP status, repeated. @example 400 */
  status: number;

  /** One entry per invalid request field (validation errors only). */
  invalid_fields?: InvalidFieldDto[];

  /** The health checks that failed (`GET /health` only). @example ["database"] */
  failed_checks?: string[];

  /** Matches the `X-Request-Id` response header. @example "3f6c1f7e-1d9e-4a55-8d0e-4a3f6b1c2d3e" */
  request_id: string;
}
