import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsString, Matches, Max, Min } from 'class-validator';
import { MaxLength, MinLength, OptionalNotNull, STORABLE_TEXT_PATTERN } from '../validators.js';

export const DEFAULT_LIST_LIMIT = 100;
export const MAX_LIST_LIMIT = 1000;

const STORABLE_TEXT = new RegExp(STORABLE_TEXT_PATTERN);
const STORABLE_TEXT_MESSAGE = 'must not contain a NUL character or an unpaired UTF-16 surrogate';

/** A query-string integer: digits only ("10abc", "1.5", "" stay strings, and are refused as such). */
const toInteger = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^[0-9]{1,9}$/.test(value) ? Number(value) : value;

/** The query of every list: a page of at most `limit` items, after `page_token`, matching `q`. */
export class ListQueryDto {
  /** The most items in the page (1–1000). */
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_LIST_LIMIT, default: DEFAULT_LIST_LIMIT })
  @OptionalNotNull()
  @Transform(toInteger, { toClassOnly: true })
  @Max(MAX_LIST_LIMIT)
  @Min(1)
  @IsInt()
  limit?: number;

  /**
   * The `next_page_token` of the previous page, for the page after it, with the same `q` (and `group`). Opaque;
   * one that was altered, or issued for another list or other filters, is a 400.
   */
  @OptionalNotNull()
  @MaxLength(2000)
  @MinLength(1)
  @IsString()
  page_token?: string;

  // No @example here or on `group`: Swagger UI fills examples in as values, and Try it out would filter.
  /**
   * Only items whose name or display name (for users also the e-mail address) contains this text, without regard
   * to case. `%`, `_` and `\` are taken literally.
   */
  @OptionalNotNull()
  @Matches(STORABLE_TEXT, { message: `q ${STORABLE_TEXT_MESSAGE}` })
  @MaxLength(200)
  @MinLength(1)
  @IsString()
  q?: string;
}

/** The lists of principals (users, service accounts) also take `group`: a group's members. */
export class PrincipalListQueryDto extends ListQueryDto {
  /** Only members of this group; an unknown group gives an empty list. */
  @OptionalNotNull()
  @Matches(STORABLE_TEXT, { message: `group ${STORABLE_TEXT_MESSAGE}` })
  @MaxLength(200)
  @MinLength(1)
  @IsString()
  group?: string;
}
