import { applyDecorators, createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCookieAuth,
  ApiForbiddenResponse,
  ApiOperation,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { ErrorResponseDto } from '../common/dto/error-response.dto.js';
import { canonicalName } from '../common/names.js';
import { type IamAction, lrn, type ResourceKind } from './actions.js';
import type { Principal } from './principal.js';
import { QueuedList } from '../pagination/list-concurrency.js';

export const ACCESS_KEY = 'iam:access';
export const SESSION_COOKIE_SECURITY = 'session_cookie';

/** Where a route's target resource (its LRN) comes from. */
export type ResourceSelector =
  | { from: 'param'; kind: ResourceKind; param: string }
  | { from: 'body'; kind: ResourceKind; field: string }
  | { from: 'all'; kind: ResourceKind };

export type AccessRule =
  | { kind: 'public' }
  | { kind: 'self' }
  | { kind: 'list'; action: IamAction; resource: ResourceSelector }
  | { kind: 'permission'; action: IamAction; resource: ResourceSelector; allowSelf: boolean }
  | { kind: 'action'; action: string; resource: string };

/**
 * The LRNs of a route's target: the name in its canonical form (names.ts), which is what the service looks
 * up, and also the name exactly as sent when that differs, since a row stored before the name rules may
 * have exactly that name. The caller needs the action on each.
 */
export function resourcesOf(selector: ResourceSelector, req: Request): string[] {
  const named = (name: string) => [...new Set([lrn(selector.kind, canonicalName(name)), lrn(selector.kind, name)])];
  switch (selector.from) {
    case 'param':
      return named(String(req.params[selector.param] ?? ''));
    case 'body': {
      const value: unknown = (req.body as Record<string, unknown> | undefined)?.[selector.field];
      return named(typeof value === 'string' ? value : '');
    }
    case 'all':
      return [lrn(selector.kind, '*')];
  }
}

function describe(selector: ResourceSelector): string {
  switch (selector.from) {
    case 'param':
      return lrn(selector.kind, `{${selector.param}}`);
    case 'body':
      return lrn(selector.kind, `<${selector.field}>`);
    case 'all':
      return lrn(selector.kind, '*');
  }
}

const authenticated = () =>
  applyDecorators(
    ApiBearerAuth(),
    ApiCookieAuth(SESSION_COOKIE_SECURITY),
    ApiUnauthorizedResponse({ description: 'Missing, invalid or expired credentials', type: ErrorResponseDto }),
    ApiForbiddenResponse({ description: 'The caller may not do this', type: ErrorResponseDto }),
  );

/** No credentials needed (login, health, docs). */
export const Public = () => SetMetadata(ACCESS_KEY, { kind: 'public' } satisfies AccessRule);

/** For the signed-in user about themself (`/users/me…`); service-account tokens get a 403. */
export const SelfService = (summary: string) =>
  applyDecorators(
    SetMetadata(ACCESS_KEY, { kind: 'self' } satisfies AccessRule),
    ApiOperation({
      summary,
      description: 'Self-service: any signed-in user, about themself. Not for service accounts.',
    }),
    authenticated(),
  );

/**
 * Requires `action` on the route's target resource. With `allowSelf`, a user may also act on their own
 * user resource (`iam:user:<their name>`) without a grant.
 */
export const RequirePermission = (
  summary: string,
  action: IamAction,
  resource: ResourceSelector,
  options: { allowSelf?: boolean } = {},
) =>
  applyDecorators(
    SetMetadata(ACCESS_KEY, {
      kind: 'permission',
      action,
      resource,
      allowSelf: options.allowSelf ?? false,
    } satisfies AccessRule),
    ApiOperation({
      summary,
      description:
        `Requires \`${action}\` on \`${describe(resource)}\`.` +
        (options.allowSelf ? ' A user may always do this to themself.' : ''),
    }),
    authenticated(),
  );

/**
 * A list route: any authenticated principal may call it, and the answer holds only the items on which
 * the caller has `action` (an empty list rather than a 403). The service does the filtering. Its handler waits its
 * turn in the instance's queue of lists (QueuedList), so that many big pages at once do not hold up other requests.
 */
export const ListPermission = (summary: string, action: IamAction, kind: ResourceKind) =>
  applyDecorators(
    SetMetadata(ACCESS_KEY, { kind: 'list', action, resource: { from: 'all', kind } } satisfies AccessRule),
    ApiOperation({
      summary,
      description: `Lists the items on which the caller has \`${action}\` (\`${lrn(kind, '<name>')}\`); an empty list when none.`,
    }),
    authenticated(),
    QueuedList(),
  );

const TEMPLATE_PARAMETER = /\{([A-Za-z0-9_]+)\}/g;

/**
 * For a host's own routes (with `IamAuthGuard`): requires `action` (one of the IAM's, or one the host registered
 * through the `actions` option) on `resource`, in which `{param}` stands for that route parameter, e.g.
 * `@RequireAction('widgets:Read', 'widgets:widget:{id}')`. Without a resource, on `*`.
 */
export const RequireAction = (action: string, resource = '*') =>
  SetMetadata(ACCESS_KEY, { kind: 'action', action, resource } satisfies AccessRule);

/**
 * The resource of a `@RequireAction()` template for this request, or null when a parameter holds a `*` or a
 * control character (a literal `*` would read as a pattern to a reader of the audit, and is refused).
 */
export function resourceOfTemplate(template: string, req: Request): string | null {
  let refused = false;
  const resource = template.replace(TEMPLATE_PARAMETER, (_match, name: string) => {
    const value = String(req.params[name] ?? '');
    if (value.length === 0 || /[*\p{Cc}]/u.test(value)) {
      refused = true;
    }
    return canonicalName(value);
  });
  return refused ? null : resource;
}

/** The access rule of the route being called (the handler's, else its controller's), if it has one. */
export const accessRuleOf = (reflector: Reflector, context: ExecutionContext): AccessRule | undefined =>
  reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_KEY, [context.getHandler(), context.getClass()]);

/** The authenticated principal of this request. */
export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): Principal => ctx.switchToHttp().getRequest<Request>().user as Principal,
);
