import { ApiProperty } from '@nestjs/swagger';
import { lrn } from '../../auth/actions.js';
import { CompactRoleDto } from '../../roles/dto/role-response.dto.js';
import type { Group } from '../entities/group.entity.js';

export class CompactGroupDto {
  /** @example "platform-admins" */
  name: string;
  /** @example "Platform administrators" */
  display_name: string;
  /** @example "iam:group:platform-admins" */
  lrn: string;
  /** @example "0b0f2c1e-8d8a-4a4e-9a49-2f1f9c1f6b7e" */
  id: string;
  /** ISO-8601. @example "2026-11-28T17:40:56.000Z" */
  created_at: string;
  /** @example "People who run the platform" */
  description: string;
  /** The identity provider's group that single sign-on maps to this one; empty: none. @example "platform-admins" */
  sso_name: string;
  /** Users in the group. @example 3 */
  user_count: number;
  /** Service accounts in the group. @example 1 */
  sa_count: number;
  /** Roles bound to the group. @example 1 */
  role_count: number;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, example: { owner: 'platform' } })
  metadata: Record<string, string>;
}

export class GroupListDto {
  items: CompactGroupDto[];
  /** Present while more groups remain: pass it as `page_token` (with the same `q`) for the next page. */
  next_page_token?: string;
}

export class GroupMemberDto {
  /** @example "alice" */
  name: string;
  /** @example "Alice" */
  display_name: string;
  /** @example "iam:user:alice" */
  lrn: string;
  id: string;
}

export class GroupDto extends CompactGroupDto {
  users: GroupMemberDto[];
  service_accounts: GroupMemberDto[];
  roles: CompactRoleDto[];
}

/** A group's counts as a statement returns them (COUNT(*) is a string on PostgreSQL). */
export interface GroupCounts {
  users: string | number;
  accounts: string | number;
  roles: string | number;
}

/** The one mapping from a Group row and its counts to the API's CompactGroup. */
export function toCompactGroupDto(group: Group, counts: GroupCounts | undefined): CompactGroupDto {
  return {
    name: group.name,
    display_name: group.displayName,
    lrn: lrn('group', group.name),
    id: group.id,
    created_at: group.createdAt.toISOString(),
    description: group.description,
    sso_name: group.ssoName,
    user_count: Number(counts?.users ?? 0),
    sa_count: Number(counts?.accounts ?? 0),
    role_count: Number(counts?.roles ?? 0),
    metadata: group.metadata,
  };
}
