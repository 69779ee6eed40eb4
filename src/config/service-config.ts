import { ConfigModule } from '@nestjs/config';
import { appConfig } from './app.config.js';
import { auditConfig } from './audit.config.js';
import { authConfig } from './auth.config.js';
import { databaseConfig } from './database.config.js';
import { ssoConfig } from './sso.config.js';
import { validateEnvironment } from './env.validation.js';

/**
 * The standalone service's configuration, read the same way by the service (AppModule) and the admin CLI: the
 * environment (and .env), validated at boot, into the typed namespaces. A namespace added here reaches both.
 */
export const serviceConfigModule = () =>
  ConfigModule.forRoot({
    isGlobal: true,
    cache: true,
    load: [appConfig, authConfig, databaseConfig, auditConfig, ssoConfig],
    validate: validateEnvironment,
  });

/** What iamOptionsFromConfig() takes, in its order: inject these into a factory that calls it. */
export const IAM_OPTIONS_SOURCES = [appConfig.KEY, authConfig.KEY, databaseConfig.KEY, auditConfig.KEY, ssoConfig.KEY];
