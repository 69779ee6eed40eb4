import { Command } from 'nest-commander';
import { runMigrations } from '../../database/run-migrations.js';
import { CliCommand } from '../cli-command.js';
import { withDatabase } from '../database.js';
import { print } from '../output.js';
import { Progress } from '../progress.js';

@Command({
  name: 'migrate',
  description: 'apply the pending migrations (a SQLite database is created)',
})
export class MigrateCommand extends CliCommand {
  async run(): Promise<void> {
    const applied = await withDatabase(async (dataSource) => {
      const progress = new Progress('Applying migrations');
      try {
        return await runMigrations(dataSource);
      } finally {
        progress.done('Migrations done');
      }
    });
    await print(
      applied.length === 0
        ? 'The schema is up to date: no migration to apply\n'
        : applied.map((migration) => `Applied ${migration.name}\n`).join(''),
    );
  }
}
