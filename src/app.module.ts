import { type MiddlewareConsumer, Module, type NestModule, RequestMethod } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { IamAuthGuard } from './auth/iam-auth.guard.js';
import { ApiExceptionFilter } from './common/api-exception.filter.js';
import { GracefulShutdown } from './common/graceful-shutdown.js';
import { MethodNotAllowedMiddleware } from './common/method-not-allowed.middleware.js';
import { loggerParams } from './common/logging.js';
import { appConfig } from './config/app.config.js';
import { auditConfig } from './config/audit.config.js';
import { authConfig } from './config/auth.config.js';
import { databaseConfig } from './config/database.config.js';
import { ssoConfig } from './config/sso.config.js';
import { validateEnvironment } from './config/env.validation.js';
import { iamOptionsFromConfig } from './config/iam-options.from-config.js';
import { HealthModule } from './health/health.module.js';
import { IamModule } from './iam.module.js';

export const API_PREFIX = 'api/v1';

/**
 * The standalone service, the library's first host: the environment (validated at boot) mapped to
 * IamModule's options, plus what a deployment adds: the JSON request log, /health, graceful shutdown, and
 * app-wide protection (every route needs credentials unless @Public(); unknown routes get the error body).
 * helmet and Swagger UI are in app.setup.ts.
 */
@Module({
  imports: [
    ConfigModule.forRoot({
      isGlobal: true,
      cache: true,
      load: [appConfig, authConfig, databaseConfig, auditConfig, ssoConfig],
      validate: validateEnvironment,
    }),
    LoggerModule.forRootAsync({ inject: [appConfig.KEY], useFactory: loggerParams }),
    IamModule.forRootAsync({
      routePrefix: API_PREFIX,
      inject: [appConfig.KEY, authConfig.KEY, databaseConfig.KEY, auditConfig.KEY, ssoConfig.KEY],
      useFactory: iamOptionsFromConfig,
    }),
    HealthModule,
  ],
  providers: [
    { provide: APP_GUARD, useClass: IamAuthGuard },
    { provide: APP_FILTER, useClass: ApiExceptionFilter },
    GracefulShutdown,
  ],
})
export class AppModule implements NestModule {
  /** Every route of the service is ours: a known path asked with a method it does not take is a 405 (/health too). */
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(MethodNotAllowedMiddleware).forRoutes({ path: '{*path}', method: RequestMethod.ALL });
  }
}
