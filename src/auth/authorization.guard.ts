import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { rememberRoute } from '../audit/audit-route.js';
import { ApiError } from '../common/api-error.js';
import { accessRuleOf, type AccessRule, resourceOfTemplate, resourcesOf } from './access.decorators.js';
import { lrn } from './actions.js';
import { AuthorizationService } from './authorization.service.js';
import type { Principal } from './principal.js';

/**
 * On every IAM controller (through @IamController), after authentication: decides whether the principal may
 * call the route. A route without an access rule is refused: nothing is allowed by omission. Checks that depend
 * on the target (administrators, the groups a membership change touches) are made by the services. It also notes
 * what the route does (its action and target) on the request, for the audit trail's record of a refusal.
 */
@Injectable()
export class AuthorizationGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authorization: AuthorizationService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const rule = accessRuleOf(this.reflector, context);
    const req = context.switchToHttp().getRequest<Request>();
    rememberRoute(req, this.reflector, context, rule);
    if (rule?.kind === 'public') {
      return true;
    }
    const principal = req.user as Principal;
    if (rule === undefined) {
      throw ApiError.forbidden('This route declares no access rule');
    }
    if (rule.kind === 'self') {
      if (principal.kind !== 'user') {
        throw ApiError.forbidden('This endpoint is for signed-in users; a service account has no /users/me');
      }
      return true;
    }
    if (rule.kind === 'list') {
      return true; // the service answers with the allowed items only
    }
    if (rule.kind === 'action') {
      return assertRequiredAction(this.authorization, principal, rule, req);
    }
    const resources = resourcesOf(rule.resource, req);
    const self =
      principal.kind === 'user' &&
      resources.every((resource) =>
        [lrn('user', principal.name).toLowerCase(), lrn('user', 'me')].includes(resource.toLowerCase()),
      );
    if (rule.allowSelf && self) {
      return true;
    }
    for (const resource of resources) {
      await this.authorization.assertAllowed(principal, rule.action, resource);
    }
    return true;
  }
}

/** A `@RequireAction()` rule: the action on the resource its template names for this request, or a 403. */
export async function assertRequiredAction(
  authorization: AuthorizationService,
  principal: Principal,
  rule: Extract<AccessRule, { kind: 'action' }>,
  req: Request,
): Promise<boolean> {
  const resource = resourceOfTemplate(rule.resource, req);
  if (resource === null) {
    throw ApiError.forbidden(
      `Not allowed: ${rule.action} on ${rule.resource} (a parameter holds * or a control character)`,
    );
  }
  await authorization.assertAllowed(principal, rule.action, resource);
  return true;
}
