import type { NestExpressApplication } from '@nestjs/platform-express';
import helmet from 'helmet';
import { requestId } from './common/request-id.js';
import { answerUnparsableRequests } from './common/unparsable-request.js';
import { appConfig, type AppConfig } from './config/app.config.js';
import { setupIamSwagger } from './openapi/swagger-ui.js';

/**
 * HTTP plumbing that sits in front of Nest's own pipeline, shared by main.ts and the tests so that a
 * test app is the production app. Everything else is in AppModule.
 */
export function configureApp(app: NestExpressApplication): void {
  const config = app.get<AppConfig>(appConfig.KEY);
  app.disable('x-powered-by');
  if (config.trustProxy !== undefined) {
    app.set('trust proxy', config.trustProxy);
  }
  answerUnparsableRequests(app.getHttpServer());
  app.use(requestId);
  // Helmet's defaults, less `upgrade-insecure-requests`: over plain HTTP at any host name but localhost it made
  // browsers fetch Swagger UI's assets over https, and /docs was a blank page.
  app.use(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } }));
  // On a signal: Nest's shutdown sequence (GracefulShutdown bounds its wait for requests in flight), then exit 0.
  app.enableShutdownHooks([], { useProcessExit: true });

  // Where IamModule's `swagger` option says (IAM_SWAGGER), under AppModule's route prefix.
  setupIamSwagger(app);
}
