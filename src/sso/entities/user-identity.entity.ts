import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { User } from '../../users/entities/user.entity.js';

/** The single sign-on protocols a user can be bound to. */
export type SsoMethod = 'oidc' | 'saml';

/**
 * A user's binding to an identity at a provider: the provider's subject (OIDC `sub`, SAML NameID) under its issuer
 * (OIDC `iss`, SAML entity id). Made at the user's first single sign-on; afterwards only that identity signs in as
 * that user (SsoSignInService), whatever user name the provider then sends.
 */
@Entity('user_identities')
@Index('UQ_user_identities_subject', ['method', 'issuer', 'subject'], { unique: true })
export class UserIdentity {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'PK_user_identities' })
  id: string;

  @Index('IDX_user_identities_user_id')
  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'FK_user_identities_user' })
  user: Relation<User>;

  @Column({ type: String, length: 8 })
  method: SsoMethod;

  @Column({ type: String, length: 500 })
  issuer: string;

  @Column({ type: String, length: 255 })
  subject: string;

  @Column({ name: 'created_at', type: Date })
  createdAt: Date;
}
