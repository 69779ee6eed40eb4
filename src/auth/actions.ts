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
] as const;

export type IamAction = (typeof IAM_ACTIONS)[number];

export type ResourceKind = 'user' | 'group' | 'service-account' | 'role';

export function lrn(kind: ResourceKind, name: string): string {
  return `iam:${kind}:${name}`;
}
