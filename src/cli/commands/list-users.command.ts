import { Command, Option } from 'nest-commander';
import { MAX_LIST_LIMIT } from '../../common/dto/list-query.dto.js';
import type { UserDto } from '../../users/dto/user-response.dto.js';
import { UsersService } from '../../users/users.service.js';
import { invalidOptionValue } from '../arguments.js';
import { CliCommand } from '../cli-command.js';
import { IamContext } from '../iam-context.js';
import { printList } from '../output.js';

interface ListUsersOptions {
  json?: boolean;
  pageSize?: number;
}

const HEADER = ['NAME', 'DISPLAY NAME', 'ADMIN', 'ACTIVE', 'LOCKED UNTIL', 'LAST SEEN', 'GROUPS'];

function row(user: UserDto): string[] {
  return [
    user.name,
    user.display_name,
    user.is_admin ? 'yes' : '',
    // `no`: deactivated (SCIM's active: false), every sign-in refused.
    user.active ? 'yes' : 'no',
    user.locked_until ?? '',
    user.last_seen_at ?? 'never',
    user.groups.map((group) => group.name).join(','),
  ];
}

@Command({
  name: 'list-users',
  description: 'list every user: a table, or JSON with --json',
})
export class ListUsersCommand extends CliCommand {
  constructor(private readonly iam: IamContext) {
    super();
  }

  @Option({ flags: '--json', description: "print a JSON array of the API's User objects (locked_until included)" })
  parseJson(): boolean {
    return true;
  }

  @Option({
    flags: '--page-size <n>',
    description: `users read per page, 1 to ${MAX_LIST_LIMIT}`,
    defaultValue: MAX_LIST_LIMIT,
  })
  parsePageSize(value: string): number {
    const size = /^\d{1,4}$/.test(value) ? Number(value) : Number.NaN;
    if (!(size >= 1 && size <= MAX_LIST_LIMIT)) {
      throw invalidOptionValue(`It must be a whole number from 1 to ${MAX_LIST_LIMIT}.`);
    }
    return size;
  }

  async run(_: string[], options: ListUsersOptions = {}): Promise<void> {
    const users = await this.iam.get(UsersService);
    await printList({
      noun: ['user', 'users'],
      json: options.json,
      header: HEADER,
      row,
      page: (pageToken) =>
        users.list(this.iam.operator, {
          limit: options.pageSize ?? MAX_LIST_LIMIT,
          ...(pageToken === undefined ? {} : { page_token: pageToken }),
        }),
    });
  }
}
