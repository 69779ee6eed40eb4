/**
 * The catalogue of actions a route can require. Each route declares one of these (or is public or
 * self-service) through the decorators in access.decorators.ts.
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
  'iam:ListGroups',
  'iam:CreateGroup',
  'iam:GetGroup',
  'iam:DeleteGroup',
  'iam:ListServiceAccounts',
  'iam:GetServiceAccount',
] as const;

export type IamAction = (typeof IAM_ACTIONS)[number];

export type ResourceKind = 'user' | 'group' | 'service-account';

export function lrn(kind: ResourceKind, name: string): string {
  return `iam:${kind}:${name}`;
}
