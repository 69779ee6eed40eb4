import type { Type } from '@nestjs/common';
import { UNSTORABLE_TEXT, UNSTORABLE_TEXT_MESSAGE } from '../common/validators.js';
import { createValidationPipe } from '../common/validation.js';
import { CliError, EXIT } from './cli-error.js';

/**
 * A name given as an argument, checked as the API checks one in a path (PathParamsPipe): text no stored name can
 * hold is refused before it reaches the database.
 */
export function nameArgument(argument: string, value: string): string {
  if (UNSTORABLE_TEXT.test(value)) {
    throw new CliError(`${argument} ${UNSTORABLE_TEXT_MESSAGE}`, EXIT.invalid);
  }
  return value;
}

/**
 * `plain` checked by the API's own validation of `dto` (the ValidationPipe of every route, with its DTO): the same
 * rules, the same messages, and the same 400 ApiError, which the CLI reports with exit status 3.
 */
export async function validated<T extends object>(dto: Type<T>, plain: Record<string, unknown>): Promise<T> {
  return (await createValidationPipe().transform(plain, { type: 'body', metatype: dto })) as T;
}

/**
 * A bad option value, as commander reports its own (`error: option '--page-size <n>' argument '0' is invalid. …`,
 * exit status 2): thrown from an option's parser. Made by hand since nest-commander brings its own commander.
 */
export function invalidOptionValue(message: string): Error {
  return Object.assign(new Error(message), { code: 'commander.invalidArgument', exitCode: EXIT.usage });
}

const MINUTE_MS = 60 * 1000;
const UNIT_MS: Record<string, number> = { m: MINUTE_MS, h: 60 * MINUTE_MS, d: 24 * 60 * MINUTE_MS };

/**
 * A time given as an option: a duration (`30m`, `12h`, `90d`) from now, forwards (`direction` 1: an expiry) or
 * backwards (-1: `--since 24h`), a date (midnight UTC), or an RFC 3339 date-time, left to the API's own validation;
 * undefined when it is none of those.
 */
export function timeArgument(value: string, direction: 1 | -1, now = Date.now()): string | undefined {
  const duration = /^(\d{1,6})([mhd])$/.exec(value);
  if (duration) {
    return new Date(now + direction * Number(duration[1]) * UNIT_MS[duration[2]]).toISOString();
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    return `${value}T00:00:00Z`;
  }
  if (/^\d{4}-\d{2}-\d{2}T/i.test(value)) {
    return value;
  }
  return undefined;
}
