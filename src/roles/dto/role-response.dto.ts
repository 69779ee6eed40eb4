import { ApiProperty } from '@nestjs/swagger';
import type { PolicyStatement } from '../../auth/policy.js';
import type { Role } from '../entities/role.entity.js';

export class CompactRoleDto {
  /** @example "user-managers" */
  name: string;
  /** @example "User managers" */
  display_name: string;
  /** @example "iam:role:user-managers" */
  lrn: string;
  id: string;
  /** ISO-8601. @example "2026-11-28T17:40:56.000Z" */
  created_at: string;
  /** @example "Manage users, except the root-* ones" */
  description: string;
  /** Number of statements in the policy. @example 2 */
  policy_length: number;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } })
  metadata: Record<string, string>;
}

export class PolicyStatementResponseDto {
  @ApiProperty({ enum: ['allow', 'deny'] })
  effect: 'allow' | 'deny';
  /** @example ["iam:*"] */
  action: string[];
  /** @example ["iam:user:*"] */
  resource: string[];
}

export class RoleDto extends CompactRoleDto {
  policy: PolicyStatementResponseDto[];
}

export class RoleListDto {
  items: CompactRoleDto[];
  /** Present while more roles remain: pass it as `page_token` (with the same `q`) for the next page. */
  next_page_token?: string;
}

export function toCompactRole(role: Role): CompactRoleDto {
  return {
    name: role.name,
    display_name: role.displayName,
    lrn: `iam:role:${role.name}`,
    id: role.id,
    created_at: role.createdAt.toISOString(),
    description: role.description,
    policy_length: role.policy.length,
    metadata: role.metadata,
  };
}

export function toRoleDto(role: Role): RoleDto {
  return { ...toCompactRole(role), policy: role.policy.map((s: PolicyStatement) => ({ ...s })) };
}
