import { type CanActivate, type ExecutionContext, HttpException, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { AuditService } from '../audit/audit.service.js';
import { rememberRoute } from '../audit/audit-route.js';
import { accessRuleOf } from './access.decorators.js';
import { AuthenticationGuard } from './authentication.guard.js';
import { assertRequiredAction } from './authorization.guard.js';
import { AuthorizationService } from './authorization.service.js';
import type { Principal } from './principal.js';

/**
 * The guard a host puts on its own routes (`@UseGuards(IamAuthGuard)`), or app-wide (the standalone service
 * does, and `protectAllRoutes: true` does it for a host): the caller must present a bearer token or a session
 * cookie unless the route is `@Public()`, and when the route says `@RequireAction(action, resource)` the
 * caller's policies must allow it. A route without `@RequireAction()` needs credentials only. The IAM's own
 * routes keep their own, stricter guards (a route of ours without an access rule is refused). A refusal of the
 * action is recorded in the audit trail (outcome `denied`) before the host's filter answers it.
 */
@Injectable()
export class IamAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authentication: AuthenticationGuard,
    private readonly authorization: AuthorizationService,
    private readonly audit: AuditService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const rule = accessRuleOf(this.reflector, context);
    if (rule?.kind === 'public') {
      return true;
    }
    const req = context.switchToHttp().getRequest<Request>();
    try {
      await this.authentication.canActivate(context);
    } catch (error) {
      // On a host's route the host's filter writes the answer: the challenge header is set here.
      if (error instanceof HttpException && error.getStatus() === 401) {
        context.switchToHttp().getResponse<Response>().setHeader('WWW-Authenticate', 'Bearer realm="iam"');
      }
      throw error;
    }
    if (rule?.kind !== 'action') {
      return true;
    }
    try {
      return await assertRequiredAction(this.authorization, req.user as Principal, rule, req);
    } catch (error) {
      rememberRoute(req, this.reflector, context, rule);
      await this.audit.recordRefusal(error, req);
      throw error;
    }
  }
}
