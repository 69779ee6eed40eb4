import {
  EXCEPTION_FILTERS_METADATA,
  GUARDS_METADATA,
  MODULE_METADATA,
  METHOD_METADATA,
  PATH_METADATA,
} from '@nestjs/common/constants.js';
import type { DynamicModule, Type } from '@nestjs/common';
import { AppModule } from '../src/app.module.js';
import { ACCESS_KEY, type AccessRule } from '../src/auth/access.decorators.js';
import { IAM_ACTIONS } from '../src/auth/actions.js';
import { AuthenticationGuard } from '../src/auth/authentication.guard.js';
import { AuthorizationGuard } from '../src/auth/authorization.guard.js';
import { ApiExceptionFilter } from '../src/common/api-exception.filter.js';
import { auditedAsOf } from '../src/audit/audit-route.js';
import { IAM_CONTROLLER } from '../src/auth/iam-controller.decorator.js';
import { SCIM_PATH } from '../src/scim/scim-controller.decorator.js';
import { ScimExceptionFilter } from '../src/scim/scim-exception.filter.js';

type ModuleRef = Type | DynamicModule | Promise<DynamicModule>;

/** Every controller reachable from AppModule, by walking module imports. */
function controllersOf(root: Type): Type[] {
  const seen = new Set<unknown>();
  const controllers = new Set<Type>();
  const visit = (ref: ModuleRef | undefined) => {
    if (!ref || ref instanceof Promise || seen.has(ref)) {
      return;
    }
    seen.add(ref);
    const type = 'module' in ref ? ref.module : ref;
    const dynamic = 'module' in ref ? ref : undefined;
    const imports = [
      ...((Reflect.getMetadata(MODULE_METADATA.IMPORTS, type) as ModuleRef[] | undefined) ?? []),
      ...((dynamic?.imports as ModuleRef[] | undefined) ?? []),
    ];
    for (const controller of [
      ...((Reflect.getMetadata(MODULE_METADATA.CONTROLLERS, type) as Type[] | undefined) ?? []),
      ...(dynamic?.controllers ?? []),
    ]) {
      controllers.add(controller);
    }
    imports.forEach(visit);
  };
  visit(root);
  return [...controllers];
}

function routesOf(controller: Type) {
  const prototype = controller.prototype as Record<string, unknown>;
  return Object.getOwnPropertyNames(prototype)
    .filter((key) => key !== 'constructor' && typeof prototype[key] === 'function')
    .map((key) => prototype[key] as object)
    .filter((handler) => Reflect.getMetadata(PATH_METADATA, handler) !== undefined)
    .map((handler) => ({
      route: `${controller.name}.${(handler as { name: string }).name} (${String(Reflect.getMetadata(METHOD_METADATA, handler))} ${String(Reflect.getMetadata(PATH_METADATA, controller))}/${String(Reflect.getMetadata(PATH_METADATA, handler))})`,
      rule: (Reflect.getMetadata(ACCESS_KEY, handler) ?? Reflect.getMetadata(ACCESS_KEY, controller)) as
        AccessRule | undefined,
      iam: Reflect.getMetadata(IAM_CONTROLLER, controller) === true,
      auditedAs: auditedAsOf(handler),
    }));
}

describe('route inventory', () => {
  const controllers = controllersOf(AppModule);
  const routes = controllers.flatMap(routesOf);

  /** The IAM's error body everywhere, SCIM's (a subclass of the same filter) on the SCIM routes and only there. */
  const errorFilterFor = (controller: Type) =>
    String(Reflect.getMetadata(PATH_METADATA, controller)).startsWith(SCIM_PATH)
      ? ScimExceptionFilter
      : ApiExceptionFilter;

  it('binds the guards and the error filter to every controller itself, not app-wide', () => {
    const unprotected = controllers
      .filter(
        (controller) =>
          !(
            (Reflect.getMetadata(GUARDS_METADATA, controller) as unknown[] | undefined)?.[0] === AuthenticationGuard &&
            (Reflect.getMetadata(GUARDS_METADATA, controller) as unknown[])[1] === AuthorizationGuard &&
            (Reflect.getMetadata(EXCEPTION_FILTERS_METADATA, controller) as unknown[] | undefined)?.includes(
              errorFilterFor(controller),
            )
          ),
      )
      .map((controller) => controller.name);
    expect(controllers.length).toBeGreaterThanOrEqual(10);
    expect(unprotected).toEqual([]);
  });

  it('finds the routes', () => {
    expect(routes.length).toBeGreaterThan(20);
  });

  it('gives every route an explicit access rule: public, self-service, or an action from the catalogue', () => {
    const offenders = routes
      .filter(
        ({ rule }) =>
          !rule || ((rule.kind === 'permission' || rule.kind === 'list') && !IAM_ACTIONS.includes(rule.action)),
      )
      .map(({ route }) => route);
    expect(offenders).toEqual([]);
  });

  it('says what every IAM route does for the audit trail: its access rule’s action, or @AuditedAs', () => {
    // Refusals are recorded with it (/health is the service's, not an IAM route).
    const unnamed = routes
      .filter(({ iam, rule, auditedAs }) => iam && (rule?.kind === 'self' || rule?.kind === 'public') && !auditedAs)
      .map(({ route }) => route)
      .filter((route) => !route.startsWith('HealthController.'));
    expect(unnamed).toEqual([]);
  });

  it('keeps the public routes to sign-in and health', () => {
    const publicRoutes = routes.filter(({ rule }) => rule?.kind === 'public').map(({ route }) => route);
    expect(publicRoutes).toHaveLength(8);
    expect(publicRoutes).toEqual(
      expect.arrayContaining([
        expect.stringContaining('LoginController.login'),
        expect.stringContaining('LoginMethodsController.methods'),
        expect.stringContaining('OidcController.start'),
        expect.stringContaining('OidcController.callback'),
        expect.stringContaining('SamlController.start'),
        expect.stringContaining('SamlAcsController.acs'),
        expect.stringContaining('SamlMetadataController.metadata'),
        expect.stringContaining('HealthController.check'),
      ]),
    );
  });
});
