import { Command, Option } from 'nest-commander';
import type { AuditEventDto } from '../../audit/dto/audit-event.dto.js';
import { ListAuditEventsQueryDto } from '../../audit/dto/list-audit-events-query.dto.js';
import { AuditEventsService } from '../../audit/audit-events.service.js';
import { MAX_LIST_LIMIT } from '../../common/dto/list-query.dto.js';
import { invalidOptionValue, timeArgument, validated } from '../arguments.js';
import { CliCommand } from '../cli-command.js';
import { IamContext } from '../iam-context.js';
import { printList } from '../output.js';

interface AuditOptions {
  since?: string;
  until?: string;
  actor?: string;
  action?: string;
  target?: string;
  outcome?: string;
  json?: boolean;
}

const HEADER = ['TIME', 'ACTOR', 'ACTION', 'TARGET', 'OUTCOME', 'REASON', 'CLIENT ADDRESS'];

function row(event: AuditEventDto): string[] {
  const actor = event.actor === 'anonymous' ? 'anonymous' : `${event.actor.kind}:${event.actor.name}`;
  return [event.time, actor, event.action, event.target, event.outcome, event.reason ?? '', event.client_address ?? ''];
}

/** A time option (`--since`, `--until`): a duration back from now, a date or an RFC 3339 date-time. */
function pastTime(value: string): string {
  const time = timeArgument(value, -1);
  if (time === undefined) {
    throw invalidOptionValue(
      'Give a duration back from now (30m, 24h, 7d), a date (2030-01-01, midnight UTC) or an RFC 3339 date-time ' +
        '(2030-01-01T00:00:00Z).',
    );
  }
  return time;
}

@Command({
  name: 'audit',
  description: 'the audit trail, newest first, filtered like GET /api/v1/audit-events: a table, or JSON with --json',
})
export class AuditCommand extends CliCommand {
  constructor(private readonly iam: IamContext) {
    super();
  }

  @Option({ flags: '--since <when>', description: 'events at or after: 24h, 7d, 2030-01-01 or an RFC 3339 time' })
  parseSince(value: string): string {
    return pastTime(value);
  }

  @Option({ flags: '--until <when>', description: 'events before: as --since' })
  parseUntil(value: string): string {
    return pastTime(value);
  }

  @Option({ flags: '--actor <name>', description: 'events of this principal (or "anonymous")' })
  parseActor(value: string): string {
    return value;
  }

  @Option({ flags: '--action <action>', description: 'events of this action, e.g. iam:CreateUser, iam:Login' })
  parseAction(value: string): string {
    return value;
  }

  @Option({ flags: '--target <lrn>', description: 'events on this resource, e.g. iam:user:alice' })
  parseTarget(value: string): string {
    return value;
  }

  @Option({ flags: '--outcome <outcome>', description: 'success, denied or failed' })
  parseOutcome(value: string): string {
    return value;
  }

  @Option({ flags: '--json', description: "print a JSON array of the API's AuditEvent objects" })
  parseJson(): boolean {
    return true;
  }

  async run(_: string[], options: AuditOptions = {}): Promise<void> {
    const { json, ...filters } = options;
    // The API's own validation of the filters: the same rules and messages (exit status 3 when refused).
    const query = await validated(ListAuditEventsQueryDto, { ...filters, limit: MAX_LIST_LIMIT });
    const events = await this.iam.get(AuditEventsService);
    await printList({
      noun: ['event', 'events'],
      json,
      header: HEADER,
      row,
      page: (pageToken) => events.list({ ...query, ...(pageToken === undefined ? {} : { page_token: pageToken }) }),
    });
  }
}
