import { Command } from 'nest-commander';
import { SetPasswordDto } from '../../sessions/dto/password.dto.js';
import { SessionsService } from '../../sessions/sessions.service.js';
import { UsersService } from '../../users/users.service.js';
import { nameArgument, validated } from '../arguments.js';
import { CliCommand } from '../cli-command.js';
import { IamContext } from '../iam-context.js';
import { print, printable } from '../output.js';
import { readNewPassword } from '../password-input.js';

@Command({
  name: 'set-password',
  arguments: '<user>',
  argsDescription: { user: 'the user name' },
  description: "set a user's password (from a prompt, or stdin when piped); ends the user's sessions",
})
export class SetPasswordCommand extends CliCommand {
  constructor(private readonly iam: IamContext) {
    super();
  }

  async run([name]: string[]): Promise<void> {
    const users = await this.iam.get(UsersService);
    // Before asking for a password: nobody types one for a user that does not exist.
    const user = await users.findEntityOrFail(nameArgument('user', name));
    const { password } = await validated(SetPasswordDto, { password: await readNewPassword(printable(user.name)) });
    await (await this.iam.get(SessionsService)).setPassword(this.iam.operator, name, password);
    await print(`Set the password of user "${printable(user.name)}" and ended its sessions\n`);
  }
}
