import { CommandRunner } from 'nest-commander';

/** commander's Command as nest-commander hands it over (nest-commander brings its own commander). */
type Program = Parameters<CommandRunner['setCommand']>[0];

/**
 * What every command of the admin CLI shares: a usage error (an unknown option, a missing or extra argument) ends
 * the run with its message and exit status 2 instead of commander's own process.exit(), so that the CLI closes the
 * database first (see main.ts).
 */
export abstract class CliCommand extends CommandRunner {
  override setCommand(command: Program): this {
    command
      .exitOverride((error) => {
        throw error;
      })
      .allowExcessArguments(false)
      .showHelpAfterError('(add --help for usage)');
    return super.setCommand(command);
  }
}
