import { Command, Option } from 'nest-commander';
import { MAX_LIST_LIMIT } from '../../common/dto/list-query.dto.js';
import type { UserDto } from '../../users/dto/user-response.dto.js';
import { UsersService } from '../../users/users.service.js';
import { invalidOptionValue } from '../arguments.js';
import { CliCommand } from '../cli-command.js';
import { IamContext } from '../iam-context.js';
import { print, printable, table } from '../output.js';
import { Progress } from '../progress.js';

interface ListUsersOptions {
  json?: boolean;
  pageSize?: number;
}

const HEADER = ['NAME', 'DISPLAY NAME', 'ADMIN', 'LOCKED UNTIL', 'LAST SEEN', 'GROUPS'];

function row(user: UserDto): string[] {
  return [
    user.name,
    user.display_name,
    user.is_admin ? 'yes' : '',
    user.locked_until ?? '',
    user.last_seen_at ?? 'never',
    user.groups.map((group) => group.name).join(','),
  ].map(printable);
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
    const progress = new Progress('Listing users');
    const rows: string[][] = [];
    let count = 0;
    let pages = 0;
    let pageToken: string | undefined;
    try {
      if (options.json) {
        await print('[');
      }
      do {
        const page = await users.list(this.iam.operator, {
          limit: options.pageSize ?? MAX_LIST_LIMIT,
          ...(pageToken === undefined ? {} : { page_token: pageToken }),
        });
        pages++;
        for (const user of page.items) {
          if (options.json) {
            // Streamed: the whole list is never held in memory (nor is the table's text, only its cells).
            await print(`${count === 0 ? '' : ','}\n${JSON.stringify(user)}`);
          } else {
            rows.push(row(user));
          }
          count++;
        }
        pageToken = page.next_page_token;
        progress.update(`Listing users: ${count} so far (page ${pages})`);
      } while (pageToken !== undefined);
    } finally {
      progress.done(`Listed ${count} user${count === 1 ? '' : 's'} in ${pages} page${pages === 1 ? '' : 's'}`);
    }
    if (options.json) {
      await print(count === 0 ? ']\n' : '\n]\n');
    } else if (count === 0) {
      await print('No users\n');
    } else {
      await print(table(HEADER, rows) + `(${count} user${count === 1 ? '' : 's'})\n`);
    }
  }
}
