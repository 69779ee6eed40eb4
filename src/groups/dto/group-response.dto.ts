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
}

export class GroupListDto {
  items: CompactGroupDto[];
}

export function toCompactGroup(group: Group): CompactGroupDto {
  return {
    name: group.name,
    display_name: group.displayName,
    lrn: `iam:group:${group.name}`,
    id: group.id,
    created_at: group.createdAt.toISOString(),
    description: group.description,
  };
}
