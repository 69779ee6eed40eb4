import { Injectable, type NestMiddleware, Optional, RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, MODULE_PATH, PATH_METADATA } from '@nestjs/common/constants.js';
import { ApplicationConfig, ModulesContainer } from '@nestjs/core';
import type { NextFunction, Request, Response } from 'express';
import { IAM_CONTROLLER } from '../auth/iam-controller.decorator.js';
import { ApiError } from './api-error.js';
import { ApiExceptionFilter } from './api-exception.filter.js';

/** The order methods are listed in `Allow`. */
const METHOD_ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'SEARCH'];

interface Route {
  /** Path segments; null for a parameter (`:name`), which matches any one segment. */
  segments: (string | null)[];
  /** Upper-case method names; `ALL` for a route that takes any. */
  methods: Set<string>;
}

/** A path metadata value (a string, or a list of them for a route with several paths). */
const asList = (value: string | string[] | undefined): string[] =>
  value === undefined ? [''] : Array.isArray(value) ? value : [value];

const segmentsOf = (path: string): string[] => path.split('/').filter((segment) => segment !== '');

/**
 * A request for a path that exists with a method it does not support: 405 with `Allow` listing the methods
 * that path supports (HEAD goes with GET), rather than Nest's 404. OPTIONS is left to CORS. The route table
 * comes from the controllers' own metadata (paths, methods, RouterModule prefixes), so a new route is covered
 * without more code; paths with wildcards are left alone (never 405).
 */
/** Set once a request has been checked: the standalone service binds this app-wide and IamModule under its prefix. */
const CHECKED = Symbol('iam.methodChecked');
type MarkedRequest = Request & { [CHECKED]?: true };

@Injectable()
export class MethodNotAllowedMiddleware implements NestMiddleware {
  private routes?: Route[];
  private readonly filter = new ApiExceptionFilter();

  constructor(
    private readonly modules: ModulesContainer,
    @Optional() private readonly applicationConfig?: ApplicationConfig,
  ) {}

  use(req: MarkedRequest, res: Response, next: NextFunction): void {
    if (req[CHECKED]) {
      next();
      return;
    }
    req[CHECKED] = true;
    try {
      this.check(req, res, next);
    } catch (error) {
      // Nest gives a middleware's errors to app-wide filters only: the IAM's error body is written here.
      this.filter.respond(error, req, res);
    }
  }

  private check(req: Request, res: Response, next: NextFunction): void {
    const method = req.method.toUpperCase();
    if (method === 'OPTIONS') {
      next();
      return;
    }
    const allowed = this.allowedMethods(req.originalUrl.split('?')[0]);
    if (allowed === null || allowed.has('ALL') || allowed.has(method) || (method === 'HEAD' && allowed.has('GET'))) {
      next();
      return;
    }
    const listed = METHOD_ORDER.filter((name) => allowed.has(name));
    res.setHeader('Allow', listed.join(', '));
    throw ApiError.methodNotAllowed(method, listed);
  }

  /** The methods the routes matching `path` take, or null when no route matches it. */
  private allowedMethods(path: string): Set<string> | null {
    const segments = segmentsOf(path).map((segment) => segment.toLowerCase());
    const matching = (this.routes ??= this.routeTable()).filter(
      (route) =>
        route.segments.length === segments.length &&
        route.segments.every((segment, index) => segment === null || segment === segments[index]),
    );
    return matching.length === 0 ? null : new Set(matching.flatMap((route) => [...route.methods]));
  }

  private routeTable(): Route[] {
    const prefix = this.applicationConfig?.getGlobalPrefix() ?? '';
    const routes: Route[] = [];
    for (const module of this.modules.values()) {
      const modulePath = (Reflect.getMetadata(MODULE_PATH + this.modules.applicationId, module.metatype) ??
        Reflect.getMetadata(MODULE_PATH, module.metatype)) as string | undefined;
      for (const wrapper of module.controllers.values()) {
        const controller = wrapper.metatype as (new (...args: unknown[]) => unknown) | null;
        // The IAM's own controllers only: a host's routes keep their own answers.
        if (!controller || Reflect.getMetadata(IAM_CONTROLLER, controller) !== true) {
          continue;
        }
        const controllerPaths = asList(Reflect.getMetadata(PATH_METADATA, controller) as string | string[] | undefined);
        for (const handler of handlersOf(controller)) {
          const requestMethod = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod;
          const method = RequestMethod[requestMethod] ?? 'ALL';
          for (const controllerPath of controllerPaths) {
            for (const handlerPath of asList(
              Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined,
            )) {
              const full = [prefix, modulePath ?? '', controllerPath, handlerPath].join('/');
              if (/[*{}?()]/.test(full)) {
                continue; // wildcards and optional parts: not worth a matcher of our own
              }
              const segments = segmentsOf(full).map((segment) =>
                segment.startsWith(':') ? null : segment.toLowerCase(),
              );
              const same = routes.find((route) => route.segments.join('/') === segments.join('/'));
              if (same) {
                same.methods.add(method);
              } else {
                routes.push({ segments, methods: new Set([method]) });
              }
            }
          }
        }
      }
    }
    return routes;
  }
}

/** The route handlers of a controller class (its prototype chain's methods with a path). */
function handlersOf(controller: new (...args: unknown[]) => unknown): object[] {
  const handlers: object[] = [];
  for (let prototype = controller.prototype as object | null; prototype && prototype !== Object.prototype;) {
    for (const key of Object.getOwnPropertyNames(prototype)) {
      const value = Object.getOwnPropertyDescriptor(prototype, key)?.value as unknown;
      if (
        key !== 'constructor' &&
        typeof value === 'function' &&
        Reflect.getMetadata(PATH_METADATA, value) !== undefined
      ) {
        handlers.push(value);
      }
    }
    prototype = Object.getPrototypeOf(prototype) as object | null;
  }
  return handlers;
}
