import { ApiProperty } from '@nestjs/swagger';
import { CompactGroupDto } from '../../groups/dto/group-response.dto.js';
import type { ServiceAccount } from '../entities/service-account.entity.js';

export class ServiceAccountDto {
  /** @example "ci-deployer" */
  name: string;
  /** @example "CI deployer" */
  display_name: string;
  /** @example "iam:service-account:ci-deployer" */
  lrn: string;
  /** @example "9c2b1f0e-3b7a-4a53-9a38-7a3f0e5f1d7c" */
  id: string;
  /** ISO-8601. @example "2026-11-28T17:40:56.000Z" */
  created_at: string;
  /** @example "Deploys from CI" */
  description: string;
  groups: CompactGroupDto[];
  /** Null: the token never expires. */
  @ApiProperty({ type: String, nullable: true, format: 'date-time' })
  token_expires_at: string | null;
  token_expired: boolean;
  /** When the account last called the API, to the minute (stamped at most once a minute, by each instance); null before. */
  @ApiProperty({ type: String, nullable: true, format: 'date-time' })
  last_seen_at: string | null;
  is_admin: boolean;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } })
  metadata: Record<string, string>;
}

export class ServiceAccountWithTokenDto extends ServiceAccountDto {
  /** The bearer token. Shown this once: only its hash is stored. @example "iamsa_3kVb9TQw0mZ2xY7LrN5pD8sJ1aHfC4eGuK6oWiR0b1c2D3" */
  token: string;
}

export class ServiceAccountListDto {
  items: ServiceAccountDto[];
  /** Present while more service accounts remain: pass it as `page_token` (with the same `q` and `group`) for the next page. */
  next_page_token?: string;
}

export function toServiceAccountDto(
  account: ServiceAccount,
  isAdmin: boolean,
  groups: CompactGroupDto[],
  now = new Date(),
): ServiceAccountDto {
  return {
    name: account.name,
    display_name: account.displayName,
    lrn: `iam:service-account:${account.name}`,
    id: account.id,
    created_at: account.createdAt.toISOString(),
    description: account.description,
    groups,
    token_expires_at: account.tokenExpiresAt ? account.tokenExpiresAt.toISOString() : null,
    token_expired: account.tokenExpiresAt !== null && account.tokenExpiresAt <= now,
    last_seen_at: account.lastSeenAt ? account.lastSeenAt.toISOString() : null,
    is_admin: isAdmin,
    metadata: account.metadata,
  };
}
