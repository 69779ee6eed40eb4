import {
  applyDecorators,
  type CallHandler,
  Controller,
  createParamDecorator,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
  SetMetadata,
  UseFilters,
  UseGuards,
  UseInterceptors,
  UsePipes,
} from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { map, type Observable } from 'rxjs';
import { AuthenticationGuard } from '../auth/authentication.guard.js';
import { AuthorizationGuard } from '../auth/authorization.guard.js';
import { IAM_CONTROLLER } from '../auth/iam-controller.decorator.js';
import { PathParamsPipe } from '../common/path-params.pipe.js';
import { ScimExceptionFilter } from './scim-exception.filter.js';
import { SCIM_CONTENT_TYPE, type ScimResource } from './scim-resources.js';

/** Where the SCIM routes are, outside the IAM API's route prefix (Okta and Entra ID are given `<origin>/scim/v2`). */
export const SCIM_PATH = 'scim/v2';

/**
 * Answers in application/scim+json, with the resource's version as its ETag and, for a 201, its location as Location.
 */
@Injectable()
export class ScimResponseInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const res = context.switchToHttp().getResponse<Response>();
    return next.handle().pipe(
      map((body: unknown) => {
        res.type(SCIM_CONTENT_TYPE);
        const meta = (body as ScimResource | undefined)?.meta as { version?: string; location?: string } | undefined;
        if (meta?.version) {
          res.setHeader('ETag', meta.version);
        }
        if (meta?.location && res.statusCode === 201) {
          res.setHeader('Location', meta.location);
        }
        return body; // res.json keeps the content type set here
      }),
    );
  }
}

/**
 * The class decorator of the SCIM controllers: as @IamController (the IAM's marker, authentication then authorization,
 * a path-parameter check), with SCIM's error body (ScimExceptionFilter) and content type, under SCIM_PATH; no body
 * validation pipe (SCIM bodies are read by scim-resources.ts and scim-patch.ts, with SCIM's errors). SCIM documents
 * itself (/Schemas, /ResourceTypes): not in the IAM's OpenAPI document.
 */
export const ScimController = (resource: string) =>
  applyDecorators(
    Controller(resource === '' ? SCIM_PATH : `${SCIM_PATH}/${resource}`),
    SetMetadata(IAM_CONTROLLER, true),
    ApiExcludeController(),
    UseGuards(AuthenticationGuard, AuthorizationGuard),
    UseFilters(ScimExceptionFilter),
    UsePipes(PathParamsPipe),
    UseInterceptors(ScimResponseInterceptor),
  );

/** `https://iam.example.com/scim/v2`: the base of the resources' `location` and `$ref`s, as this request reached us. */
export const ScimBaseUrl = createParamDecorator((_data: unknown, ctx: ExecutionContext): string => {
  const req = ctx.switchToHttp().getRequest<Request>();
  return `${req.protocol}://${req.get('host') ?? 'localhost'}/${SCIM_PATH}`;
});
