import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { registerDecorator, ValidateIf, type ValidationOptions } from 'class-validator';
import { canonicalName, nameProblem } from './names.js';

export const METADATA_MAX_KEYS = 50;
export const METADATA_MAX_KEY_BYTES = 40;
export const METADATA_MAX_VALUE_BYTES = 500;

/** 1–63 lower-case letters, digits or hyphens, not starting or ending with a hyphen. */
export const SLUG_NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Text no database here can store faithfully: NUL (PostgreSQL refuses it in text) and lone UTF-16 surrogates
 * (not Unicode; they would be stored as U+FFFD, so the name sent is never found again). Refused in every
 * body string and key (JsonBodyMiddleware) and in every path parameter (PathParamsPipe).
 */
// eslint-disable-next-line no-control-regex -- matching NUL is the point
export const UNSTORABLE_TEXT = /[\u0000\p{Cs}]/u;
export const UNSTORABLE_TEXT_MESSAGE =
  'contains a NUL character or an unpaired UTF-16 surrogate, which cannot be stored';

/**
 * For the OpenAPI document: the strings UNSTORABLE_TEXT refuses, as a pattern (no NUL; surrogates only in pairs).
 */
export const STORABLE_TEXT_PATTERN = '^(?:[^\\u0000\\ud800-\\udfff]|[\\ud800-\\udbff][\\udc00-\\udfff])*$';

/**
 * For the OpenAPI document: what a principal name can never contain (controls, whitespace, `:`, `/`, NUL, lone
 * surrogates). The rest of the rules (names.ts: PRECIS classes, no confusable mix of scripts) cannot be said in a
 * pattern and are in the field's description.
 */
export const PRINCIPAL_NAME_PATTERN =
  '^(?:[^\\u0000-\\u0020\\u007f-\\u00a0:/\\u1680\\u2000-\\u200f\\u2028-\\u202f\\u205f-\\u206f\\u3000\\ufeff\\ud800-\\udfff]|[\\ud800-\\udbff][\\udc00-\\udfff])+$';

/** Names that would shadow a route (`/users/me`). */
export const RESERVED_USER_NAMES = ['me'];

const byteLength = (value: string) => Buffer.byteLength(value, 'utf8');

/**
 * A string's length in characters as PostgreSQL's varchar(n) counts them: Unicode code points. (class-validator's
 * own MinLength/MaxLength do not count a U+FE0E/U+FE0F variation selector, so a string they accept could
 * overflow its column.)
 */
export const characterCount = (value: string): number =>
  value.length - (value.match(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g)?.length ?? 0);

function lengthConstraint(name: 'minLength' | 'maxLength', limit: number, options?: ValidationOptions) {
  const within = (length: number) => (name === 'minLength' ? length >= limit : length <= limit);
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name,
      target: target.constructor,
      propertyName: String(propertyName),
      constraints: [limit],
      options,
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || within(characterCount(value)),
        defaultMessage: () =>
          `${String(propertyName)} must be ${name === 'minLength' ? 'at least' : 'at most'} ${limit} ` +
          `character${limit === 1 ? '' : 's'} long`,
      },
    });
}

/**
 * At least `min` characters (code points). Use this, not class-validator's MinLength (lint forbids that one);
 * the swagger plugin reads it by name all the same and documents `minLength`.
 */
export const MinLength = (min: number, options?: ValidationOptions) => lengthConstraint('minLength', min, options);

/** At most `max` characters (code points), as the database counts them; documented as `maxLength`. */
export const MaxLength = (max: number, options?: ValidationOptions) => lengthConstraint('maxLength', max, options);

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function metadataConstraint(
  name: string,
  check: (value: Record<string, unknown>) => string | null,
  options?: ValidationOptions,
) {
  const failureOf = (value: unknown) => (isPlainObject(value) ? check(value) : null);
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name,
      target: target.constructor,
      propertyName: String(propertyName),
      options,
      validator: {
        validate: (value: unknown) => failureOf(value) === null,
        defaultMessage: (args) => `${String(propertyName)} ${failureOf(args?.value) ?? 'is invalid'}`,
      },
    });
}

/**
 * Hands the validators a free-form JSON value exactly as it was sent. class-transformer would otherwise
 * walk into it and trip over keys such as "constructor" (dropping them, or throwing). @Type(() => Boolean)
 * is what stops that walk (a boolean is never descended into); @Transform then puts the raw value back.
 */
export function RawJsonValue() {
  return applyDecorators(
    Type(() => Boolean),
    Transform(({ obj, key }: { obj: Record<string, unknown>; key: string }) => obj[key], { toClassOnly: true }),
  );
}

/**
 * A flat string→string map: at most 50 keys, keys 1–40 bytes, values at most 500 bytes. With
 * `allowNullValues` (PATCH) a `null` value means "delete this key".
 */
export function IsMetadata(options: { allowNullValues?: boolean } = {}) {
  return applyDecorators(
    RawJsonValue(),
    ApiProperty({
      type: 'object',
      additionalProperties: { type: 'string', maxLength: METADATA_MAX_VALUE_BYTES, nullable: options.allowNullValues },
      maxProperties: METADATA_MAX_KEYS,
      description:
        `Flat string→string map: at most ${METADATA_MAX_KEYS} keys, keys 1–${METADATA_MAX_KEY_BYTES} bytes, ` +
        `values at most ${METADATA_MAX_VALUE_BYTES} bytes (UTF-8).` +
        (options.allowNullValues ? ' Absent keys stay; a null value deletes its key; other values replace.' : ''),
      example: { team: 'platform', cost_center: 'cc-1234' },
    }),
    (target: object, propertyName: string | symbol) =>
      registerDecorator({
        name: 'metadataShape',
        target: target.constructor,
        propertyName: String(propertyName),
        validator: {
          validate: (value: unknown) => isPlainObject(value),
          defaultMessage: () => `${String(propertyName)} must be an object of string values`,
        },
      }),
    metadataConstraint('metadataSize', (value) =>
      Object.keys(value).length > METADATA_MAX_KEYS ? `must have at most ${METADATA_MAX_KEYS} keys` : null,
    ),
    metadataConstraint('metadataEntries', (value) => {
      for (const [key, entry] of Object.entries(value)) {
        if (key.length === 0 || byteLength(key) > METADATA_MAX_KEY_BYTES) {
          return `keys must be 1–${METADATA_MAX_KEY_BYTES} bytes (key "${key.slice(0, 60)}")`;
        }
        if (key === '__proto__') {
          return 'may not have the key "__proto__"';
        }
        if (entry === null && options.allowNullValues) {
          continue;
        }
        if (typeof entry !== 'string') {
          return `values must be strings${options.allowNullValues ? ' or null' : ''} (key "${key}")`;
        }
        if (byteLength(entry) > METADATA_MAX_VALUE_BYTES) {
          return `values must be at most ${METADATA_MAX_VALUE_BYTES} bytes (key "${key}")`;
        }
      }
      return null;
    }),
  );
}

/**
 * A principal name (see names.ts): read in its canonical form (width-mapped, NFC), then refused when it has
 * characters PRECIS does not allow, `:` or `/` (`invalid_format`), or mixes scripts or digit systems in a
 * confusable way (`invalid_value`).
 */
const NAME_CHECK_LIMIT = 1000;

export function IsPrincipalName() {
  const constraint =
    (name: string, error: 'invalid_format' | 'invalid_value') => (target: object, propertyName: string | symbol) =>
      registerDecorator({
        name,
        target: target.constructor,
        propertyName: String(propertyName),
        validator: {
          // A name far over any length limit is that limit's to refuse (MaxLength): not worth a character check.
          validate: (value: unknown) =>
            typeof value !== 'string' || value.length > NAME_CHECK_LIMIT || nameProblem(value)?.error !== error,
          defaultMessage: (args) =>
            `${String(propertyName)} ${nameProblem(String(args?.value))?.reason ?? 'is invalid'}`,
        },
      });
  return applyDecorators(
    Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? canonicalName(value) : value), {
      toClassOnly: true,
    }),
    constraint('principalNameFormat', 'invalid_format'),
    constraint('principalNameValue', 'invalid_value'),
  );
}

/** Not one of RESERVED_USER_NAMES, whatever its case. */
export function IsNotReservedUserName() {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'notReserved',
      target: target.constructor,
      propertyName: String(propertyName),
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || !RESERVED_USER_NAMES.includes(value.toLowerCase()),
        defaultMessage: () => `${String(propertyName)} "me" is reserved`,
      },
    });
}

/**
 * RFC 3339 `date-time` (what OpenAPI's `format: date-time` means): `2027-01-31T12:00:00Z`, `…+02:00`,
 * fractional seconds allowed. T and Z may be lower case (RFC 3339 §5.6). A date alone, a time without
 * a zone, and the other ISO 8601 forms (ordinal, week, basic) are not accepted.
 */
const RFC3339_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

const daysIn = (year: number, month: number) =>
  month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : DAYS_IN_MONTH[month - 1];

/**
 * The instant an RFC 3339 date-time names, or null when the text is not one or names no real time
 * (month 13, 30 February, 24:00, a leap second, offset +24:00, a UTC year outside 0000–9999). Read
 * field by field rather than by `new Date(text)`, which accepts other forms and rolls 30 February over
 * into March. Fractions of a second beyond the millisecond are dropped.
 */
export function parseRfc3339DateTime(text: string): Date | null {
  const match = RFC3339_DATE_TIME.exec(text);
  if (!match) {
    return null;
  }
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number);
  const [fraction = '', sign, offsetHour = '0', offsetMinute = '0'] = match.slice(7);
  if (
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysIn(year, month) ||
    hour > 23 ||
    minute > 59 ||
    second > 59 ||
    Number(offsetHour) > 23 ||
    Number(offsetMinute) > 59
  ) {
    return null;
  }
  const offsetMinutes = (sign === '-' ? -1 : 1) * (Number(offsetHour) * 60 + Number(offsetMinute));
  const at = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0–99 as 1900–1999.
  at.setUTCFullYear(year, month - 1, day);
  at.setUTCHours(hour, minute - offsetMinutes, second, Number(fraction.slice(0, 3).padEnd(3, '0')));
  // An offset can carry 9999-12-31 into year 10000, which not every database stores as a date.
  return at.getUTCFullYear() >= 0 && at.getUTCFullYear() <= 9999 ? at : null;
}

/** An RFC 3339 date-time with a time zone (see parseRfc3339DateTime); `format: date-time` in OpenAPI. */
export function IsRfc3339DateTime() {
  return applyDecorators(
    ApiProperty({ type: String, format: 'date-time' }),
    (target: object, propertyName: string | symbol) =>
      registerDecorator({
        name: 'isRfc3339DateTime',
        target: target.constructor,
        propertyName: String(propertyName),
        validator: {
          validate: (value: unknown) => typeof value === 'string' && parseRfc3339DateTime(value) !== null,
          defaultMessage: () =>
            `${String(propertyName)} must be an RFC 3339 date-time with a time zone, such as ` +
            '2027-01-31T12:00:00Z or 2027-01-31T14:00:00+02:00',
        },
      }),
  );
}

export const SLUG_NAME_MESSAGE =
  '$property must be lower-case letters, digits and hyphens, not starting or ending with a hyphen';

/**
 * Like @IsOptional(), but only for an absent field: an explicit `null` is validated (and refused) rather
 * than silently read as "absent" or, worse, written as a null.
 */
export const OptionalNotNull = () => ValidateIf((_object: object, value: unknown) => value !== undefined);
