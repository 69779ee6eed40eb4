/**
 * The catalogue of actions. Every route declares one of these (or is public or self-service) through the
 * decorators in access.decorators.ts; policies name them; the README lists them.
 */
export const IAM_ACTIONS = [
  'iam:ListUsers',
  'iam:CreateUser',
  'iam:GetUser',
  'iam:UpdateUser',
  'iam:DeleteUser',
  'iam:UpdateUserProfile',
  'iam:SetUserGroups',
  'iam:SetUserPassword',
  'iam:UnlockUser',
  'iam:ListUserSessions',
  'iam:EndUserSessions',
  'iam:ListGroups',
  'iam:CreateGroup',
  'iam:GetGroup',
  'iam:UpdateGroup',
  'iam:DeleteGroup',
  'iam:UpdateGroupMembers',
  'iam:UpdateGroupRoles',
  'iam:ListServiceAccounts',
  'iam:CreateServiceAccount',
  'iam:GetServiceAccount',
  'iam:UpdateServiceAccount',
  'iam:DeleteServiceAccount',
  'iam:SetServiceAccountGroups',
  'iam:RenewServiceAccountToken',
  'iam:ListRoles',
  'iam:CreateRole',
  'iam:GetRole',
  'iam:UpdateRole',
  'iam:DeleteRole',
  // Escalation on purpose: bind a role whose permissions the caller does not hold, or give a role a policy the
  // caller does not hold (see AuthorizationService).
  'iam:BindRole',
  'iam:EscalateRole',
  // The audit trail (read-only): GET /audit-events and /audit-events/{id}, on iam:audit:*.
  'iam:ListAuditEvents',
  // SCIM provisioning (/scim/v2): on iam:user:<name> and iam:group:<name>, the users and groups it may provision.
  'iam:ScimProvision',
] as const;

export type IamAction = (typeof IAM_ACTIONS)[number];

export type ResourceKind = 'user' | 'group' | 'service-account' | 'role' | 'audit';

export function lrn(kind: ResourceKind, name: string): string {
  return `iam:${kind}:${name}`;
}

/**
 * Actions of the host application (`widgets:Read`), registered through IamModule's `actions` option so that
 * policies may name them and `@RequireAction()` can check them. Process-wide, like the catalogue above: one
 * policy language per process. Registering is additive and idempotent.
 */
const hostActions = new Map<string, string>();

export function registerHostActions(actions: readonly string[]): void {
  for (const action of actions) {
    hostActions.set(action.toLowerCase(), action);
  }
}

/** The canonical spelling of a registered host action, or undefined. */
export function hostAction(action: string): string | undefined {
  return hostActions.get(action.toLowerCase());
}

export function hostActionList(): string[] {
  return [...hostActions.values()];
}

/** The services (`widgets`) of the registered host actions, lower-cased. */
export function hostServices(): string[] {
  return [...new Set([...hostActions.keys()].map((action) => action.split(':')[0]))];
}
