import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { AuditModule } from './audit/audit.module.js';
import { AuthModule } from './auth/auth.module.js';
import { registerHostActions } from './auth/actions.js';
import { DatabaseModule } from './database/database.module.js';
import {
  IAM_AUDIT_CONFIG,
  IAM_AUTH_CONFIG,
  IAM_DATABASE_CONFIG,
  IAM_HTTP_CONFIG,
  IAM_MODULE_OPTIONS,
  IAM_OPTIONS,
  IAM_PROCESS_KIND,
  IAM_SSO_CONFIG,
  type IamModuleAsyncOptions,
  type IamModuleOptions,
  type IamProcessKind,
  resolveIamOptions,
  type ResolvedIamOptions,
} from './iam.options.js';
import { PaginationModule } from './pagination/pagination.module.js';
import { RateLimitModule } from './rate-limit/rate-limit.module.js';

/** The options, validated (a bad one stops the boot with a message naming it), and the views the providers read. */
const resolvedProviders: Provider[] = [
  {
    provide: IAM_OPTIONS,
    inject: [IAM_MODULE_OPTIONS],
    useFactory: (options: IamModuleOptions): ResolvedIamOptions => {
      const resolved = resolveIamOptions(options);
      registerHostActions(resolved.actions);
      return resolved;
    },
  },
  { provide: IAM_AUTH_CONFIG, inject: [IAM_OPTIONS], useFactory: (options: ResolvedIamOptions) => options.auth },
  { provide: IAM_HTTP_CONFIG, inject: [IAM_OPTIONS], useFactory: (options: ResolvedIamOptions) => options.http },
  {
    provide: IAM_DATABASE_CONFIG,
    inject: [IAM_OPTIONS],
    useFactory: (options: ResolvedIamOptions) => options.database,
  },
  { provide: IAM_AUDIT_CONFIG, inject: [IAM_OPTIONS], useFactory: (options: ResolvedIamOptions) => options.audit },
  { provide: IAM_SSO_CONFIG, inject: [IAM_OPTIONS], useFactory: (options: ResolvedIamOptions) => options.sso },
];

const exported = [
  IAM_OPTIONS,
  IAM_AUTH_CONFIG,
  IAM_HTTP_CONFIG,
  IAM_DATABASE_CONFIG,
  IAM_AUDIT_CONFIG,
  IAM_SSO_CONFIG,
  IAM_PROCESS_KIND,
];

/**
 * What every IAM feature module needs, once per application (global): the options, the IAM's DataSource, rate
 * limits, authentication, and the audit trail every change is recorded in. IamModule imports it; a host that wants to compose feature modules itself imports
 * it with them. Without it no feature module can be instantiated, so none can be mounted unprotected.
 */
@Module({})
export class IamCoreModule {
  static forRoot(options: IamModuleOptions): DynamicModule {
    return IamCoreModule.module([{ provide: IAM_MODULE_OPTIONS, useValue: options }]);
  }

  /** `processKind`: `cli` for the admin CLI only (see IamProcessKind); a host leaves it out. */
  static forRootAsync(
    options: Pick<IamModuleAsyncOptions, 'imports' | 'inject' | 'useFactory'>,
    processKind: IamProcessKind = 'service',
  ): DynamicModule {
    return IamCoreModule.module(
      [{ provide: IAM_MODULE_OPTIONS, inject: options.inject ?? [], useFactory: options.useFactory }],
      options.imports,
      processKind,
    );
  }

  private static module(
    optionProviders: Provider[],
    imports: IamModuleAsyncOptions['imports'] = [],
    processKind: IamProcessKind = 'service',
  ): DynamicModule {
    return {
      module: IamCoreModule,
      global: true,
      imports: [...imports, DatabaseModule, AuditModule, RateLimitModule, AuthModule, PaginationModule],
      providers: [...optionProviders, ...resolvedProviders, { provide: IAM_PROCESS_KIND, useValue: processKind }],
      exports: exported,
    };
  }
}
