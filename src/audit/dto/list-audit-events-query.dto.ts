import { ApiPropertyOptional, OmitType } from '@nestjs/swagger';
import { IsIn, IsString, Matches } from 'class-validator';
import { ListQueryDto } from '../../common/dto/list-query.dto.js';
import {
  IsRfc3339DateTime,
  MaxLength,
  MinLength,
  OptionalNotNull,
  STORABLE_TEXT_PATTERN,
} from '../../common/validators.js';
import { AUDIT_OUTCOMES, type AuditOutcome } from '../audit-event.js';

const STORABLE_TEXT = new RegExp(STORABLE_TEXT_PATTERN);
const storable = (name: string) =>
  Matches(STORABLE_TEXT, { message: `${name} must not contain a NUL character or an unpaired UTF-16 surrogate` });

/** The audit list's query: `limit` and `page_token` as every list takes them, and the filters (all must match). */
export class ListAuditEventsQueryDto extends OmitType(ListQueryDto, ['q', 'page_token'] as const) {
  /**
   * The `next_page_token` of the previous page, for the page after it, with the same filters. Opaque; one that was
   * altered, or issued for another list or other filters, is a 400.
   */
  @OptionalNotNull()
  @MaxLength(2000)
  @MinLength(1)
  @IsString()
  page_token?: string;

  /**
   * Only events of this actor: a principal's name (without regard to case), or `anonymous` for events without one.
   */
  @OptionalNotNull()
  @storable('actor')
  @MaxLength(100)
  @MinLength(1)
  @IsString()
  actor?: string;

  /** Only events on this resource: its LRN (`iam:user:alice`), without regard to case. */
  @OptionalNotNull()
  @storable('target')
  @MaxLength(1000)
  @MinLength(1)
  @IsString()
  target?: string;

  /** Only events of this action (`iam:CreateUser`, `iam:Login`), without regard to case. */
  @OptionalNotNull()
  @storable('action')
  @MaxLength(100)
  @MinLength(1)
  @IsString()
  action?: string;

  /** Only events with this outcome. */
  @ApiPropertyOptional({ enum: AUDIT_OUTCOMES })
  @OptionalNotNull()
  @IsIn(AUDIT_OUTCOMES)
  outcome?: AuditOutcome;

  /** Only events at or after this instant: an RFC 3339 date-time with a time zone (`2026-01-31T00:00:00Z`). */
  @OptionalNotNull()
  @IsRfc3339DateTime()
  @IsString()
  since?: string;

  /** Only events before this instant (RFC 3339, with a time zone); after `since` when both are given. */
  @OptionalNotNull()
  @IsRfc3339DateTime()
  @IsString()
  until?: string;
}
