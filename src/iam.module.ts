import {
  type DynamicModule,
  Inject,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  type Provider,
  RequestMethod,
} from '@nestjs/common';
import { APP_GUARD, RouterModule } from '@nestjs/core';
import { AuditEventsModule } from './audit/audit-events.module.js';
import { IamAuthGuard } from './auth/iam-auth.guard.js';
import { IamHttpMiddleware } from './common/iam-http.middleware.js';
import { MethodNotAllowedMiddleware } from './common/method-not-allowed.middleware.js';
import { GroupsModule } from './groups/groups.module.js';
import { IamCoreModule } from './iam-core.module.js';
import {
  DEFAULT_ROUTE_PREFIX,
  type IamModuleAsyncOptions,
  type IamModuleDeclaration,
  type IamModuleOptions,
  IamOptionsError,
} from './iam.options.js';
import { ProfilesModule } from './profiles/profiles.module.js';
import { RolesModule } from './roles/roles.module.js';
import { ServiceAccountsModule } from './service-accounts/service-accounts.module.js';
import { SessionsModule } from './sessions/sessions.module.js';
import { SettingsModule } from './settings/settings.module.js';
import { ScimModule } from './scim/scim.module.js';
import { SsoModule } from './sso/sso.module.js';
import { UsersModule } from './users/users.module.js';

/** The feature modules, each with its controllers, mounted under the route prefix. */
export const IAM_FEATURE_MODULES = [
  UsersModule,
  ProfilesModule,
  GroupsModule,
  RolesModule,
  SettingsModule,
  SessionsModule,
  ServiceAccountsModule,
  AuditEventsModule,
  SsoModule,
];

/**
 * SCIM provisioning, mounted at /scim/v2 whatever the route prefix (identity providers are given that path), with its
 * own guards, error body and middleware like every feature module.
 */
export const IAM_SCIM_MODULE = ScimModule;

/**
 * The IAM as a library: `IamModule.forRoot({ database: { url } })`, or `forRootAsync({ imports, inject,
 * useFactory })` to feed it from the host's ConfigService. Its routes are mounted under `routePrefix`
 * (default `api/v1`) and carry their own guards, filter, pipes and middleware, so the host's routes are left as
 * they are, unless the host asks for `protectAllRoutes`.
 */
/** The route prefix the module was declared with (setupIamSwagger reads it). */
export const IAM_ROUTE_PREFIX = Symbol('IAM_ROUTE_PREFIX');

@Module({})
export class IamModule implements NestModule {
  constructor(@Inject(IAM_ROUTE_PREFIX) private readonly prefix: string) {}

  /**
   * CORS preflights (OPTIONS) match no route of a controller, so the feature modules' own binding of the
   * middleware never sees them: bound here, under the prefix.
   */
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(IamHttpMiddleware).forRoutes({ path: `${this.prefix}/{*path}`, method: RequestMethod.OPTIONS });
    // A path of ours asked with a method it does not take matches no route either: 405 with Allow, not 404.
    consumer.apply(MethodNotAllowedMiddleware).forRoutes({ path: `${this.prefix}/{*path}`, method: RequestMethod.ALL });
  }

  static forRoot(options: IamModuleOptions & IamModuleDeclaration): DynamicModule {
    const { routePrefix, protectAllRoutes, ...moduleOptions } = options;
    return IamModule.module(IamCoreModule.forRoot(moduleOptions), { routePrefix, protectAllRoutes });
  }

  static forRootAsync(options: IamModuleAsyncOptions): DynamicModule {
    const { routePrefix, protectAllRoutes, ...factory } = options;
    return IamModule.module(IamCoreModule.forRootAsync(factory), { routePrefix, protectAllRoutes });
  }

  private static module(core: DynamicModule, declaration: IamModuleDeclaration): DynamicModule {
    const prefix = normalisePrefix(declaration.routePrefix ?? DEFAULT_ROUTE_PREFIX);
    // The one app-wide thing this module can do, and only when asked: close every route of the host too.
    const guards: Provider[] = declaration.protectAllRoutes ? [{ provide: APP_GUARD, useClass: IamAuthGuard }] : [];
    return {
      module: IamModule,
      imports: [
        core,
        ...IAM_FEATURE_MODULES,
        RouterModule.register([{ path: prefix, children: IAM_FEATURE_MODULES }]),
        IAM_SCIM_MODULE,
      ],
      providers: [{ provide: IAM_ROUTE_PREFIX, useValue: prefix }, ...guards],
    };
  }
}

/** `/iam/api/v1/` → `iam/api/v1`; refuses what is not a path. */
function normalisePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  if (!/^[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/.test(trimmed)) {
    throw new IamOptionsError(
      `Invalid IamModule option routePrefix: ${JSON.stringify(prefix)} (expected a path like api/v1)`,
    );
  }
  return trimmed;
}
