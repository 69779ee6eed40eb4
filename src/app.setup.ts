import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import helmet from 'helmet';
import { SESSION_COOKIE_SECURITY } from './auth/access.decorators.js';
import { DEFAULT_SESSION_COOKIE } from './sessions/session-cookie.js';
import { requestId } from './common/request-id.js';
import { answerUnparsableRequests } from './common/unparsable-request.js';
import { appConfig, type AppConfig } from './config/app.config.js';

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

  if (config.swagger === false) {
    return;
  }
  const document = () =>
    SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('IAM service')
        .setDescription(
          'Users, profiles, groups, roles, settings, sessions and service accounts, following the Lenses HQ IAM API. ' +
            'Every operation names the action it needs (e.g. `iam:CreateUser` on `iam:user:<name>`). ' +
            'Authenticate with `Authorization: Bearer <service-account token>` or the `session_id` cookie from ' +
            '`POST /api/v1/login`. Every error has the body described by `ErrorResponseDto`.',
        )
        .setVersion('1')
        .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'Service-account token' })
        .addCookieAuth(
          DEFAULT_SESSION_COOKIE,
          { type: 'apiKey', in: 'cookie', name: DEFAULT_SESSION_COOKIE },
          SESSION_COOKIE_SECURITY,
        )
        .build(),
    );
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs-json',
    yamlDocumentUrl: 'docs-yaml',
    // Keeps a token given to Authorize across reloads of the page.
    swaggerOptions: { persistAuthorization: true },
  });
}
