import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { ApiError } from '../common/api-error.js';
import { nameKey } from '../common/names.js';
import { parseRfc3339DateTime } from '../common/validators.js';
import { IAM_DATA_SOURCE } from '../database/iam-data-source.js';
import { listBody, PageTokenService } from '../pagination/page-token.service.js';
import { canonicalAuditAction, canonicalTarget } from './audit-event.js';
import { type AuditEventDto, type AuditEventListDto, toAuditEventDto } from './dto/audit-event.dto.js';
import type { ListAuditEventsQueryDto } from './dto/list-audit-events-query.dto.js';
import { AuditEvent } from './entities/audit-event.entity.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Reading the audit trail: the list, newest first, and one event. Nothing here writes. */
@Injectable()
export class AuditEventsService {
  constructor(
    @InjectRepository(AuditEvent, IAM_DATA_SOURCE) private readonly events: Repository<AuditEvent>,
    private readonly pages: PageTokenService,
  ) {}

  /**
   * A page of events, newest first, after the page token's key: one query along the index of the filter given (each
   * ends with (time, id)), limit + 1 rows.
   */
  async list(query: ListAuditEventsQueryDto): Promise<AuditEventListDto> {
    const since = query.since !== undefined ? parseRfc3339DateTime(query.since) : null;
    const until = query.until !== undefined ? parseRfc3339DateTime(query.until) : null;
    if (since && until && since >= until) {
      throw ApiError.invalidField('until', 'invalid_value', 'until must be later than since');
    }
    const select = this.events.createQueryBuilder('e');
    if (query.actor !== undefined) {
      const key = nameKey(query.actor);
      select.andWhere(
        key === 'anonymous' ? "(e.actorKind = 'anonymous' OR e.actorKey = :actor)" : 'e.actorKey = :actor',
        { actor: key },
      );
    }
    if (query.target !== undefined) {
      select.andWhere('e.target = :target', { target: canonicalTarget(query.target) });
    }
    if (query.action !== undefined) {
      select.andWhere('e.action = :action', { action: canonicalAuditAction(query.action) });
    }
    if (query.outcome !== undefined) {
      select.andWhere('e.outcome = :outcome', { outcome: query.outcome });
    }
    if (since) {
      select.andWhere('e.time >= :since', { since });
    }
    if (until) {
      select.andWhere('e.time < :until', { until });
    }
    const { actor, target, action, outcome } = query;
    const page = await this.pages.pageNewestFirst(
      'audit-events',
      query,
      { actor, target, action, outcome, since: query.since, until: query.until },
      select,
      ['e.time', 'e.id'],
      (rows) => rows.getMany(),
      (event) => event,
    );
    return listBody(page.rows.map(toAuditEventDto), page);
  }

  async get(id: string): Promise<AuditEventDto> {
    if (!UUID.test(id)) {
      throw ApiError.invalidField('id', 'invalid_format', 'id must be a UUID (an audit event id)');
    }
    const event = await this.events.findOne({ where: { id: id.toLowerCase() } });
    if (!event) {
      throw ApiError.notFound(`Audit event "${id}" not found`);
    }
    return toAuditEventDto(event);
  }
}
