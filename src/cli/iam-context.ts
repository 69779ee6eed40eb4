import {
  type DynamicModule,
  type INestApplicationContext,
  Injectable,
  Module,
  type OnApplicationShutdown,
  type Type,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { operatorPrincipal, type Principal } from '../auth/principal.js';
import type { AppConfig } from '../config/app.config.js';
import type { AuditConfig } from '../config/audit.config.js';
import type { AuthConfig } from '../config/auth.config.js';
import type { DatabaseConfig } from '../config/database.config.js';
import type { SsoConfig } from '../config/sso.config.js';
import { iamOptionsFromConfig } from '../config/iam-options.from-config.js';
import { IAM_OPTIONS_SOURCES, serviceConfigModule } from '../config/service-config.js';
import { IamCoreModule } from '../iam-core.module.js';
import { IAM_FEATURE_MODULES } from '../iam.module.js';
import type { IamModuleOptions } from '../iam.options.js';
import { CliError, EXIT } from './cli-error.js';
import { CliLogger } from './cli-logger.js';
import { missingSqliteFile } from './database.js';

/**
 * The service's options for the CLI: the same environment, read and validated the same way, less what only a
 * serving instance needs. The schema is never changed behind the operator's back (`migrate` does that), rate
 * limits have nothing to count, and Swagger nothing to serve.
 */
function cliIamOptions(
  app: AppConfig,
  auth: AuthConfig,
  database: DatabaseConfig,
  audit: AuditConfig,
  sso: SsoConfig,
): IamModuleOptions {
  return {
    ...iamOptionsFromConfig(app, auth, database, audit, sso),
    migrations: 'skip',
    redis: undefined,
    swagger: false,
  };
}

/**
 * The IAM as the CLI runs it: the service's own configuration (ConfigModule as AppModule loads it), IamCoreModule
 * in its `cli` kind (none of a serving instance's start-up chores), and every feature module, so that each command
 * reaches the very services the API uses. No HTTP server, no routes.
 */
@Module({})
class IamCliModule {
  static forRoot(): DynamicModule {
    return {
      module: IamCliModule,
      imports: [
        serviceConfigModule(),
        IamCoreModule.forRootAsync({ inject: IAM_OPTIONS_SOURCES, useFactory: cliIamOptions }, 'cli'),
        ...IAM_FEATURE_MODULES,
      ],
    };
  }
}

/**
 * The IAM's modules, started on the configured database when a command first needs one of their services, and
 * closed with the CLI. Commands that do not need them (migrate, migrate:status, --help, a usage error) never start
 * them: a database that is not migrated yet cannot start them at all.
 */
@Injectable()
export class IamContext implements OnApplicationShutdown {
  /** Who the commands act as. */
  readonly operator: Principal = operatorPrincipal();
  private context?: Promise<INestApplicationContext>;

  constructor(private readonly logger: CliLogger) {}

  /** A provider of the IAM's modules (UsersService, SessionsService, …). */
  async get<T>(type: Type<T>): Promise<T> {
    this.context ??= this.start();
    return (await this.context).get(type, { strict: false });
  }

  async onApplicationShutdown(): Promise<void> {
    const context = await this.context?.catch(() => undefined);
    await context?.close();
  }

  private async start(): Promise<INestApplicationContext> {
    // Opening it would create an empty file (and its directory): a mistyped DATABASE_URL would go unnoticed.
    const missing = missingSqliteFile();
    if (missing) {
      throw new CliError(
        `there is no database at ${missing} (DATABASE_URL): \`npm run iam -- migrate\` creates it`,
        EXIT.configuration,
      );
    }
    return NestFactory.createApplicationContext(IamCliModule.forRoot(), { logger: this.logger, abortOnError: false });
  }
}
