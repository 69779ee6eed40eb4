import { type MiddlewareConsumer, Module, type NestModule, RequestMethod } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { APP_FILTER, APP_GUARD, APP_PIPE, RouterModule } from '@nestjs/core';
import cookieParser from 'cookie-parser';
import { LoggerModule } from 'nestjs-pino';
import { AuthModule } from './auth/auth.module.js';
import { AuthenticationGuard } from './auth/authentication.guard.js';
import { AuthorizationGuard } from './auth/authorization.guard.js';
import { ApiExceptionFilter } from './common/api-exception.filter.js';
import { CorsMiddleware } from './common/cors.middleware.js';
import { CrossOriginMiddleware } from './common/cross-origin.middleware.js';
import { GracefulShutdown } from './common/graceful-shutdown.js';
import { JsonBodyMiddleware } from './common/json-body.middleware.js';
import { MethodNotAllowedMiddleware } from './common/method-not-allowed.middleware.js';
import { loggerParams } from './common/logging.js';
import { PathParamsPipe } from './common/path-params.pipe.js';
import { createValidationPipe } from './common/validation.js';
import { appConfig } from './config/app.config.js';
import { authConfig } from './config/auth.config.js';
import { databaseConfig } from './config/database.config.js';
import { validateEnvironment } from './config/env.validation.js';
import { DatabaseModule } from './database/database.module.js';
import { GroupsModule } from './groups/groups.module.js';
import { HealthModule } from './health/health.module.js';
import { ProfilesModule } from './profiles/profiles.module.js';
import { RateLimitModule } from './rate-limit/rate-limit.module.js';
import { RolesModule } from './roles/roles.module.js';
import { ServiceAccountsModule } from './service-accounts/service-accounts.module.js';
import { SessionsModule } from './sessions/sessions.module.js';
import { SettingsModule } from './settings/settings.module.js';
import { UsersModule } from './users/users.module.js';

export const API_PREFIX = 'api/v1';
const API_MODULES = [
  UsersModule,
  ProfilesModule,
  GroupsModule,
  RolesModule,
  SettingsModule,
  SessionsModule,
  ServiceAccountsModule,
];

@Module({
  imports: [
    ConfigModule.forRoot({
      isGlobal: true,
      cache: true,
      load: [appConfig, authConfig, databaseConfig],
      validate: validateEnvironment,
    }),
    LoggerModule.forRootAsync({ inject: [appConfig.KEY], useFactory: loggerParams }),
    DatabaseModule,
    RateLimitModule,
    AuthModule,
    ...API_MODULES,
    HealthModule,
    RouterModule.register([{ path: API_PREFIX, children: API_MODULES }]),
  ],
  providers: [
    { provide: APP_PIPE, useClass: PathParamsPipe },
    { provide: APP_PIPE, useFactory: createValidationPipe },
    { provide: APP_FILTER, useClass: ApiExceptionFilter },
    // Order matters: who is calling, then may they.
    { provide: APP_GUARD, useClass: AuthenticationGuard },
    { provide: APP_GUARD, useClass: AuthorizationGuard },
    GracefulShutdown,
  ],
})
export class AppModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    // CORS first, so that every answer of the API (errors from the middleware below included) carries its
    // headers; then, before anything reads the cookie or the body, no state-changing request from another site.
    consumer
      .apply(CorsMiddleware, CrossOriginMiddleware)
      .forRoutes({ path: `${API_PREFIX}/{*path}`, method: RequestMethod.ALL });
    consumer.apply(MethodNotAllowedMiddleware, cookieParser(), JsonBodyMiddleware).forRoutes('{*path}');
  }
}
