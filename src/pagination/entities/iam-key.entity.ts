import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Secret keys the service makes itself and keeps in its database, so that every instance sharing the database, and
 * every restart, use the same one (the page-token signing key).
 */
@Entity('iam_keys')
export class IamKey {
  @PrimaryColumn({ type: String, length: 50, primaryKeyConstraintName: 'PK_iam_keys' })
  name: string;

  /** base64url of the key's bytes. Never selected unless asked for. */
  @Column({ type: String, length: 100, select: false })
  value: string;

  @Column({ name: 'created_at', type: Date })
  createdAt: Date;
}
