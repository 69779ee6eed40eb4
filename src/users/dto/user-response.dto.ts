import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CompactGroupDto } from '../../groups/dto/group-response.dto.js';
import type { User } from '../entities/user.entity.js';

export class UserProfileDto {
  /** @example "Mary Jane Watson" */
  full_name: string | null;
  /** @example "mary.jane@doe.net" */
  email_address: string | null;
}

/** How a user signs in: `password` (a password is set), `oidc`, `saml` (bound to an identity at a provider). */
export type AuthMethod = 'password' | 'oidc' | 'saml';

/** The order auth_methods lists them in. */
export const AUTH_METHODS: readonly AuthMethod[] = ['password', 'oidc', 'saml'];

export class UserDto {
  /** @example "mary.jane@doe.net" */
  name: string;
  /** @example "Mary Jane" */
  display_name: string;
  /** @example "iam:user:mary.jane@doe.net" */
  lrn: string;
  /** @example "5f1d7c0e-3b7a-4a53-9a38-7a3f0e9c2b11" */
  id: string;
  /** ISO-8601. @example "2026-11-28T17:40:56.000Z" */
  created_at: string;
  groups: CompactGroupDto[];
  /**
   * When the user last called the API, to the minute (stamped at most once a minute, by each instance); null before
   * the first call. @example null
   */
  @ApiProperty({ type: String, nullable: true, format: 'date-time' })
  last_seen_at: string | null;
  profile: UserProfileDto;
  /** True when the user is an administrator (IAM_ADMINISTRATORS). */
  is_admin: boolean;
  /**
   * False once deactivated by SCIM provisioning (`active: false`): no session, sign-in refused with a 401. @example true
   */
  active: boolean;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, example: { team: 'platform' } })
  metadata: Record<string, string>;
  /**
   * How the user can sign in: `password` when a password is set, `oidc` and `saml` when bound to an identity at the
   * provider by single sign-on; empty when none yet.
   */
  @ApiProperty({ enum: AUTH_METHODS, isArray: true, example: ['password'] })
  auth_methods: AuthMethod[];
  /**
   * Until when sign-in and password change are refused after repeated wrong passwords; null when not locked.
   * Present only for administrators and callers allowed `iam:UnlockUser` on the user.
   */
  @ApiPropertyOptional({ type: String, nullable: true, format: 'date-time', example: null })
  locked_until?: string | null;
}

export class UserListDto {
  items: UserDto[];
  /** Present while more users remain: pass it as `page_token` (with the same `q` and `group`) for the next page. */
  next_page_token?: string;
}

/**
 * The one mapping from a User row (with groups and profile loaded) to the API's User. `showLock`: include
 * `locked_until` (for callers who may lift the lock).
 */
export function toUserDto(
  user: User,
  isAdmin: boolean,
  groups: CompactGroupDto[],
  authMethods: AuthMethod[],
  showLock = false,
): UserDto {
  const now = Date.now();
  return {
    name: user.name,
    display_name: user.displayName,
    lrn: `iam:user:${user.name}`,
    id: user.id,
    created_at: user.createdAt.toISOString(),
    groups,
    last_seen_at: user.lastSeenAt ? user.lastSeenAt.toISOString() : null,
    profile: {
      full_name: user.profile?.fullName ?? null,
      email_address: user.profile?.emailAddress ?? null,
    },
    is_admin: isAdmin,
    active: user.active,
    metadata: user.metadata,
    auth_methods: AUTH_METHODS.filter((method) => authMethods.includes(method)),
    ...(showLock
      ? { locked_until: user.lockedUntil && user.lockedUntil.getTime() > now ? user.lockedUntil.toISOString() : null }
      : {}),
  };
}
