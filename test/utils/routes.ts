import type { Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { RequestMethod } from '@nestjs/common';
import { ACCESS_KEY, type AccessRule } from '../../src/auth/access.decorators.js';
import { IAM_FEATURE_MODULES, IAM_SCIM_MODULE } from '../../src/iam.module.js';

export interface IamRoute {
  controller: string;
  handler: string;
  /** `GET`, `POST`, … */
  method: string;
  /**
   * Under the route prefix, parameters as Express writes them: `/users/:name/groups`; the SCIM routes, which are not
   * under the prefix, from the root: `/scim/v2/Users/:id`.
   */
  path: string;
  rule?: AccessRule;
  /** The handler function (for its metadata). */
  target: object;
}

/** The controllers of the IAM's feature modules (SCIM's included) and of every module they import. */
export function iamControllers(modules: Type[] = [...IAM_FEATURE_MODULES, IAM_SCIM_MODULE]): Type[] {
  const seen = new Set<Type>();
  const visited = new Set<Type>();
  const visit = (module: Type) => {
    if (visited.has(module)) {
      return;
    }
    visited.add(module);
    for (const controller of (Reflect.getMetadata('controllers', module) as Type[] | undefined) ?? []) {
      seen.add(controller);
    }
    for (const imported of (Reflect.getMetadata('imports', module) as unknown[] | undefined) ?? []) {
      if (typeof imported === 'function') {
        visit(imported as Type);
      }
    }
  };
  modules.forEach(visit);
  return [...seen];
}

/** Every route of the IAM's controllers, found by reflection. */
export function iamRoutes(): IamRoute[] {
  return iamControllers().flatMap((controller) => {
    const prototype = controller.prototype as Record<string, unknown>;
    const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
    return Object.getOwnPropertyNames(prototype)
      .filter((key) => key !== 'constructor' && typeof prototype[key] === 'function')
      .map((key) => ({ key, handler: prototype[key] as object }))
      .filter(({ handler }) => Reflect.getMetadata(PATH_METADATA, handler) !== undefined)
      .map(({ key, handler }) => ({
        controller: controller.name,
        handler: key,
        method: RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number],
        path: `/${[base, String(Reflect.getMetadata(PATH_METADATA, handler))].filter((p) => p && p !== '/').join('/')}`,
        rule: (Reflect.getMetadata(ACCESS_KEY, handler) ?? Reflect.getMetadata(ACCESS_KEY, controller)) as
          AccessRule | undefined,
        target: handler,
      }));
  });
}
