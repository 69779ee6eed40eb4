import { ApiProperty } from '@nestjs/swagger';
import type { Session } from '../entities/session.entity.js';

/** A signed-in session as its owner (or an administrator) sees it: never its cookie, nor anything derived from it. */
export class SessionDto {
  /** The session's public identifier (not the cookie). @example "0c5a3e1e-5f0b-4c8e-9d55-5b1f3b2a7c41" */
  id: string;
  /** When it was signed in. ISO-8601. @example "2026-11-28T17:40:56.000Z" */
  created_at: string;
  /**
   * When it was last used, to about a minute (stamped at most once a minute by each instance): it ends
   * IAM_SESSION_IDLE_MINUTES after this. @example "2026-11-28T18:02:11.000Z"
   */
  last_seen_at: string;
  /** When it ends whatever its use (IAM_SESSION_TTL_MINUTES after sign-in). @example "2026-11-29T17:40:56.000Z" */
  expires_at: string;
  /** The client address it signed in from (behind proxies, as TRUST_PROXY reads it). @example "203.0.113.7" */
  @ApiProperty({ type: String, nullable: true, example: '203.0.113.7' })
  client_address: string | null;
  /** The User-Agent it signed in with (at most 512 characters); null when none was sent. */
  @ApiProperty({
    type: String,
    nullable: true,
    example: 'Mozilla/5.0 (X11; Linux x86_64; rv:135.0) Gecko/20100101 Firefox/135.0',
  })
  user_agent: string | null;
  /** True for the session this request was made with. */
  current: boolean;
}

export class SessionListDto {
  items: SessionDto[];
  /** Present while more sessions remain: pass it as `page_token` for the next page. */
  next_page_token?: string;
}

/** The one mapping from a Session row to the API's Session; `currentId` is the caller's own session, if any. */
export function toSessionDto(session: Session, currentId: string | undefined): SessionDto {
  return {
    id: session.id,
    created_at: session.createdAt.toISOString(),
    last_seen_at: session.lastSeenAt.toISOString(),
    expires_at: session.expiresAt.toISOString(),
    client_address: session.clientAddress,
    user_agent: session.userAgent,
    current: session.id === currentId,
  };
}
