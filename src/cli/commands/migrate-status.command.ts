import { Command } from 'nest-commander';
import { type MigrationInterface, MigrationExecutor } from 'typeorm';
import { databaseConfig } from '../../config/database.config.js';
import { buildDataSourceOptions } from '../../database/data-source-options.js';
import { CliCommand } from '../cli-command.js';
import { missingSqliteFile, withDatabase } from '../database.js';
import { print, table } from '../output.js';

/** The migrations this version of the service has for the configured database, oldest first. */
function knownMigrations(): string[] {
  const classes = (buildDataSourceOptions(databaseConfig()).migrations ?? []) as (new () => MigrationInterface)[];
  return classes.map((migration) => new migration().name ?? migration.name);
}

@Command({
  name: 'migrate:status',
  description: 'list the migrations, applied or pending (changes nothing)',
})
export class MigrateStatusCommand extends CliCommand {
  async run(): Promise<void> {
    const known = knownMigrations();
    // Read only: a SQLite file that is not there is not created, nor the migrations table of a database never
    // migrated.
    const missing = missingSqliteFile();
    const applied = missing
      ? []
      : await withDatabase(async (dataSource) =>
          (await new MigrationExecutor(dataSource).getExecutedMigrations()).map((migration) => migration.name),
        );
    const done = new Set(applied);
    const rows = known.map((name) => [done.has(name) ? 'applied' : 'pending', name]);
    // Applied by a later version of the service than this one.
    const unknown = applied.filter((name) => !known.includes(name)).map((name) => ['applied', `${name} (unknown)`]);
    const pending = rows.filter(([state]) => state === 'pending').length;
    await print(
      (missing ? `No database at ${missing} yet\n` : '') +
        table(['STATE', 'MIGRATION'], [...rows, ...unknown]) +
        (pending === 0
          ? `Up to date: ${known.length} of ${known.length} applied\n`
          : `${pending} of ${known.length} pending: \`npm run iam -- migrate\` applies ` +
            `${pending === 1 ? 'it' : 'them'}\n`),
    );
  }
}
