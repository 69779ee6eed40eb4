import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A SAML assertion that has been consumed (its ID), kept until it expires (its NotOnOrAfter) so that the same
 * assertion presented again, to any instance, is refused: the primary key makes the second insert fail.
 */
@Entity('saml_assertions')
export class SamlAssertion {
  @PrimaryColumn({ name: 'assertion_id', type: String, length: 255, primaryKeyConstraintName: 'PK_saml_assertions' })
  assertionId: string;

  @Index('IDX_saml_assertions_expires_at')
  @Column({ name: 'expires_at', type: Date })
  expiresAt: Date;
}
