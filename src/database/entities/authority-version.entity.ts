import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * One row: a counter that every write changing who may do what (sessions, tokens, memberships, bindings, policies,
 * deletions) increments in its own transaction. Each instance polls it to drop its cached principals
 * (AuthorityVersionService). Created with its row by the migration.
 */
@Entity('iam_authority_version')
export class AuthorityVersion {
  @PrimaryColumn({ type: 'integer' })
  id: number;

  /** bigint on PostgreSQL (read back as a string): compared, never computed with, in the application. */
  @Column({ type: 'bigint', default: 0 })
  version: string;
}
