import { Injectable, Module } from '@nestjs/common';
import { CommandRunner, InjectCommander } from 'nest-commander';
import { CliLogger } from './cli-logger.js';
import { AuditCommand } from './commands/audit.command.js';
import { CreateServiceAccountCommand } from './commands/create-service-account.command.js';
import { ListUsersCommand } from './commands/list-users.command.js';
import { MigrateStatusCommand } from './commands/migrate-status.command.js';
import { MigrateCommand } from './commands/migrate.command.js';
import { SetPasswordCommand } from './commands/set-password.command.js';
import { UnlockCommand } from './commands/unlock.command.js';
import { IamContext } from './iam-context.js';

/**
 * The commands, one file each in commands/ (a CliCommand with nest-commander's @Command): a new command is its file
 * and its line here. A command that needs the IAM's services gets them from IamContext.
 */
const COMMANDS = [
  CreateServiceAccountCommand,
  SetPasswordCommand,
  UnlockCommand,
  ListUsersCommand,
  AuditCommand,
  MigrateCommand,
  MigrateStatusCommand,
];

/** The program itself, as `npm run iam -- --help` shows it. */
@Injectable()
class Program {
  constructor(@InjectCommander() program: Parameters<CommandRunner['setCommand']>[0]) {
    program
      .name('npm run iam --')
      .description(
        "The IAM service's admin CLI: runs one command on the configured database (DATABASE_URL and the rest of the " +
          "service's environment, .env included) as the operator, an administrator, without the HTTP server.",
      )
      .showHelpAfterError('(add --help for usage)');
  }
}

/** The admin CLI (main.ts): its commands, and the IAM's modules behind them (IamContext). */
@Module({ providers: [Program, CliLogger, IamContext, ...COMMANDS] })
export class CliModule {}
