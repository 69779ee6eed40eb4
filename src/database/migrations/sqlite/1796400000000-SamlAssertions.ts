import { MigrationInterface, QueryRunner } from 'typeorm';

/** SAML: the consumed assertions' ids (SamlAssertion), kept until they expire, so that a replay is refused. */
export class SamlAssertions1796400000000 implements MigrationInterface {
  name = 'SamlAssertions1796400000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "saml_assertions" ("assertion_id" varchar(255) PRIMARY KEY NOT NULL, "expires_at" datetime NOT NULL)`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_saml_assertions_expires_at" ON "saml_assertions" ("expires_at") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_saml_assertions_expires_at"`);
    await queryRunner.query(`DROP TABLE "saml_assertions"`);
  }
}
