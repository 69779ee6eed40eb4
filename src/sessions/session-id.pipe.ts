import { Injectable, type PipeTransform } from '@nestjs/common';
import { ApiError } from '../common/api-error.js';

/** A session's public id: a UUID, as randomUUID() writes it (any case accepted). */
const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The `id` path parameter of a session route: a UUID, lower-cased (as stored), else a 400 naming `id`. Checked
 * before any look-up, so that no database is asked to compare a uuid column with something that is not one.
 */
@Injectable()
export class SessionIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!SESSION_ID.test(value)) {
      throw ApiError.invalidField('id', 'invalid_format', 'id must be a session id: a UUID from the list of sessions');
    }
    return value.toLowerCase();
  }
}
