import { Get, Param, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiExtraModels, ApiNotFoundResponse } from '@nestjs/swagger';
import { RequirePermission } from '../auth/access.decorators.js';
import { IamController } from '../auth/iam-controller.decorator.js';
import { ErrorResponseDto } from '../common/dto/error-response.dto.js';
import { AuditEventsService } from './audit-events.service.js';
import { AuditActorDto, AuditChangeDto, AuditEventDto, AuditEventListDto } from './dto/audit-event.dto.js';
import { ListAuditEventsQueryDto } from './dto/list-audit-events-query.dto.js';

const ALL_EVENTS = { from: 'all', kind: 'audit' } as const;

/** The audit trail, read-only: no route changes or deletes an event. */
@IamController('audit-events', 'audit')
@ApiExtraModels(AuditActorDto, AuditChangeDto)
export class AuditEventsController {
  constructor(private readonly events: AuditEventsService) {}

  @Get()
  @RequirePermission('List audit events, newest first', 'iam:ListAuditEvents', ALL_EVENTS)
  @ApiBadRequestResponse({
    description: 'Invalid filter, limit or page_token (altered, or issued for other filters)',
    type: ErrorResponseDto,
  })
  list(@Query() query: ListAuditEventsQueryDto): Promise<AuditEventListDto> {
    return this.events.list(query);
  }

  @Get(':id')
  @RequirePermission('Get one audit event', 'iam:ListAuditEvents', ALL_EVENTS)
  @ApiBadRequestResponse({ description: 'The id is not a UUID', type: ErrorResponseDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  get(@Param('id') id: string): Promise<AuditEventDto> {
    return this.events.get(id);
  }
}
