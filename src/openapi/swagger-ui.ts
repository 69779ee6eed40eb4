import type { INestApplication } from '@nestjs/common';
import { SwaggerModule } from '@nestjs/swagger';
import { DEFAULT_ROUTE_PREFIX, IAM_OPTIONS, type ResolvedIamOptions } from '../iam.options.js';
import { IAM_ROUTE_PREFIX } from '../iam.module.js';
import { createIamDocument } from './openapi-document.js';

/**
 * Serves Swagger UI for the IAM's API, and its OpenAPI document (JSON and YAML), where IamModule's `swagger`
 * option says (nothing when it is off). Called on the application before `listen()`: a module cannot reach the
 * application, and routes added once Nest has started would come after its 404 handler. The standalone service
 * calls it (IAM_SWAGGER), and so does a host that wants the IAM's own Swagger UI.
 */
export function setupIamSwagger(app: INestApplication): void {
  const { swagger } = app.get<ResolvedIamOptions>(IAM_OPTIONS, { strict: false });
  if (swagger === false) {
    return;
  }
  const routePrefix = app.get<string | undefined>(IAM_ROUTE_PREFIX, { strict: false }) ?? DEFAULT_ROUTE_PREFIX;
  SwaggerModule.setup(swagger.path, app, () => createIamDocument(app, { routePrefix }), {
    jsonDocumentUrl: `${swagger.path}-json`,
    yamlDocumentUrl: `${swagger.path}-yaml`,
    // Keeps a token given to Authorize across reloads of the page.
    swaggerOptions: { persistAuthorization: true },
  });
}
