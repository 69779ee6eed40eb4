import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, MigrationExecutor } from 'typeorm';
import { IAM_OPTIONS, IamOptionsError, type ResolvedIamOptions } from '../iam.options.js';
import { buildDataSourceOptions } from './data-source-options.js';
import { IAM_DATA_SOURCE } from './iam-data-source.js';
import { runMigrations } from './run-migrations.js';
import { AuthorityVersionService } from './authority-version.service.js';
import { TransactionService } from './transaction.service.js';

/** The database is behind the code, and the IAM was told not to migrate it (`migrations: 'skip'`). */
export class PendingMigrationsError extends IamOptionsError {
  constructor(readonly pending: number) {
    super(
      `The IAM's database has ${pending} pending migration${pending === 1 ? '' : 's'} and the option is ` +
        "migrations: 'skip': run them first (runIamMigrations, `npm run iam -- migrate`, or `npm run migration:run` " +
        'in the service)',
    );
  }
}

/** The IAM's own DataSource (named IAM_DATA_SOURCE, beside any of the host's), migrated at start unless told not to. */
@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      name: IAM_DATA_SOURCE,
      inject: [IAM_OPTIONS],
      // No retries here (@nestjs/typeorm's log a stack per attempt): the standalone main.ts has waited for the
      // database already, and a host decides for itself how to start.
      useFactory: (options: ResolvedIamOptions) => ({
        ...buildDataSourceOptions(options.database),
        name: IAM_DATA_SOURCE,
        // Carries the `migrations` option to dataSourceFactory, which runs them itself, under a lock.
        migrationsRun: options.migrations === 'run',
        toRetry: () => false,
      }),
      dataSourceFactory: async (options) => {
        const { migrationsRun, ...rest } = options!;
        const dataSource = await new DataSource({ ...rest, migrationsRun: false }).initialize();
        try {
          if (migrationsRun) {
            await runMigrations(dataSource);
          } else {
            // Read only (showMigrations() would create the migrations table of an empty database).
            const pending = await new MigrationExecutor(dataSource).getPendingMigrations();
            if (pending.length > 0) {
              throw new PendingMigrationsError(pending.length);
            }
          }
        } catch (error) {
          await dataSource.destroy().catch(() => undefined);
          throw error;
        }
        return dataSource;
      },
    }),
  ],
  providers: [TransactionService, AuthorityVersionService],
  exports: [TransactionService, AuthorityVersionService],
})
export class DatabaseModule {}
