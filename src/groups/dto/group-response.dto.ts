import { ApiProperty } from '@nestjs/swagger';
import { CompactRoleDto } from '../../roles/dto/role-response.dto.js';

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
  /** @example "platform-admins" */
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
