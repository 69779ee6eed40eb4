import { type ArgumentMetadata, Injectable, type PipeTransform } from '@nestjs/common';
import { ApiError } from './api-error.js';
import { UNSTORABLE_TEXT, UNSTORABLE_TEXT_MESSAGE } from './validators.js';

/**
 * Refuses a path parameter no stored name can match (`/users/a%00b`) with a 400, before it reaches a
 * database that would choke on it (PostgreSQL cannot compare text with NUL in it).
 */
@Injectable()
export class PathParamsPipe implements PipeTransform<unknown> {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type === 'param' && typeof value === 'string' && UNSTORABLE_TEXT.test(value)) {
      const name = metadata.data ?? 'path';
      throw ApiError.invalidField(name, 'invalid_value', `Path parameter ${name} ${UNSTORABLE_TEXT_MESSAGE}`);
    }
    return value;
  }
}
