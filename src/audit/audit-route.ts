import { type ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { type AccessRule, resourceOfTemplate, resourcesOf, type ResourceSelector } from '../auth/access.decorators.js';
import { lrn } from '../auth/actions.js';
import type { Principal } from '../auth/principal.js';
import { type AuditAction, canonicalTarget } from './audit-event.js';

/**
 * What a route does, as its refusals are recorded (AuditService.recordRefusal): an action and the LRN of its
 * target. A route that requires an action on a resource (@RequirePermission, @ListPermission, @RequireAction) is
 * described by that; a self-service or public route by @AuditedAs.
 */
export interface AuditedRoute {
  action: string;
  target: string;
}

const AUDITED_AS_KEY = 'iam:audited-as';

/** The caller themself (`iam:user:<their name>`; `iam:user:me` for a service account, which has no /users/me). */
type AuditSelector = ResourceSelector | { from: 'self' };

interface AuditedAs {
  action: AuditAction;
  target: AuditSelector;
}

/** Names what a self-service or public route does, for the audit trail (its access rule names no action). */
export const AuditedAs = (action: AuditAction, target: AuditSelector) =>
  SetMetadata(AUDITED_AS_KEY, { action, target } satisfies AuditedAs);

const AUDITED_ROUTE = Symbol('iam.audited-route');
type MarkedRequest = Request & { [AUDITED_ROUTE]?: () => AuditedRoute | undefined };

function targetOf(selector: AuditSelector, req: Request): string {
  if (selector.from === 'self') {
    const principal = req.user as Principal | undefined;
    return principal?.kind === 'user' ? lrn('user', principal.name) : lrn('user', 'me');
  }
  return resourcesOf(selector, req)[0];
}

/** What the route of `context` does, or undefined for a route that neither requires an action nor says. */
export function describeRoute(
  reflector: Reflector,
  context: ExecutionContext,
  rule: AccessRule | undefined,
): AuditedRoute | undefined {
  const req = context.switchToHttp().getRequest<Request>();
  const named = reflector.getAllAndOverride<AuditedAs | undefined>(AUDITED_AS_KEY, [
    context.getHandler(),
    context.getClass(),
  ]);
  let route: AuditedRoute | undefined;
  if (named) {
    route = { action: named.action, target: targetOf(named.target, req) };
  } else if (rule?.kind === 'permission' || rule?.kind === 'list') {
    route = { action: rule.action, target: targetOf(rule.resource, req) };
  } else if (rule?.kind === 'action') {
    route = { action: rule.action, target: resourceOfTemplate(rule.resource, req) ?? rule.resource };
  }
  return route && { action: route.action, target: canonicalTarget(route.target) };
}

/**
 * Remembers how to tell what the route being served does (called by the authorization guard, which sees every IAM
 * route first), so that a refusal thrown later, by a guard or a service, is recorded with it. Worked out only when
 * a refusal needs it: most requests are not refused.
 */
export function rememberRoute(req: Request, reflector: Reflector, context: ExecutionContext, rule?: AccessRule): void {
  (req as MarkedRequest)[AUDITED_ROUTE] = () => describeRoute(reflector, context, rule);
}

export function auditedRouteOf(req: Request): AuditedRoute | undefined {
  return (req as MarkedRequest)[AUDITED_ROUTE]?.();
}

/** The @AuditedAs of a handler, for the route inventory. */
export function auditedAsOf(handler: object): AuditedAs | undefined {
  return Reflect.getMetadata(AUDITED_AS_KEY, handler) as AuditedAs | undefined;
}
