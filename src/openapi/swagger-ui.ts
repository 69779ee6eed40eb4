import type { INestApplication } from '@nestjs/common';
import { SwaggerModule } from '@nestjs/swagger';
import { createIamDocument } from './openapi-document.js';

export interface IamSwaggerOptions {
  /** Where the IAM's routes are mounted (IamModule's `routePrefix`; default `api/v1`). */
  routePrefix?: string;
  /** Where Swagger UI is served (default `docs`); the document at `<path>-json` and `<path>-yaml`. */
  path?: string;
}

/**
 * Serves Swagger UI for the IAM's API, and its OpenAPI document (JSON and YAML). Called on the application before
 * `listen()` (routes added after Nest's start-up would come after its 404 handler): the standalone service does,
 * and a host that wants the IAM's own Swagger UI does the same, e.g. at `iam/docs`.
 */
export function setupIamSwagger(app: INestApplication, options: IamSwaggerOptions = {}): void {
  const path = (options.path ?? 'docs').replace(/^\/+|\/+$/g, '');
  SwaggerModule.setup(path, app, () => createIamDocument(app, { routePrefix: options.routePrefix ?? 'api/v1' }), {
    jsonDocumentUrl: `${path}-json`,
    yamlDocumentUrl: `${path}-yaml`,
    // Keeps a token given to Authorize across reloads of the page.
    swaggerOptions: { persistAuthorization: true },
  });
}
