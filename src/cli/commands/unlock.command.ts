import { Command } from 'nest-commander';
import { UsersService } from '../../users/users.service.js';
import { nameArgument } from '../arguments.js';
import { CliCommand } from '../cli-command.js';
import { IamContext } from '../iam-context.js';
import { print, printable } from '../output.js';

@Command({
  name: 'unlock',
  arguments: '<user>',
  argsDescription: { user: 'the user name' },
  description: "lift a user's lockout after repeated wrong passwords",
})
export class UnlockCommand extends CliCommand {
  constructor(private readonly iam: IamContext) {
    super();
  }

  async run([name]: string[]): Promise<void> {
    const users = await this.iam.get(UsersService);
    const before = await users.get(nameArgument('user', name), this.iam.operator);
    await users.unlock(this.iam.operator, name);
    const user = printable(before.name);
    await print(
      before.locked_until
        ? `Lifted the lockout of user "${user}" (locked until ${before.locked_until})\n`
        : `User "${user}" was not locked out; its count of wrong passwords starts afresh\n`,
    );
  }
}
