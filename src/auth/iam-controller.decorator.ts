import { applyDecorators, Controller, SetMetadata, UseFilters, UseGuards, UsePipes } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ApiExceptionFilter } from '../common/api-exception.filter.js';
import { PathParamsPipe } from '../common/path-params.pipe.js';
import { createValidationPipe } from '../common/validation.js';
import { AuthenticationGuard } from './authentication.guard.js';
import { AuthorizationGuard } from './authorization.guard.js';

/** Marks the IAM's own controllers (the route-inventory test and the middleware binding find them by it). */
export const IAM_CONTROLLER = 'iam:controller';

/**
 * The class decorator of every IAM controller: the route path, its Swagger tag, and the protection that
 * travels with it wherever it is mounted: authentication then authorization (a route without an access
 * rule is refused; `@Public()` opts a route out), the error body, path-parameter and body validation. Nothing
 * here is app-wide, so a host's own routes never meet it, and a host that imports a single feature module still
 * gets it.
 */
export const IamController = (path: string, tag: string) =>
  applyDecorators(
    Controller(path),
    SetMetadata(IAM_CONTROLLER, true),
    ApiTags(tag),
    // Order matters: who is calling, then may they.
    UseGuards(AuthenticationGuard, AuthorizationGuard),
    UseFilters(ApiExceptionFilter),
    UsePipes(PathParamsPipe, createValidationPipe()),
  );
