import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Single sign-on: a user's bindings to identities at providers (UserIdentity), one per (method, issuer, subject),
 * removed with the user.
 */
export class UserIdentities1796300000000 implements MigrationInterface {
  name = 'UserIdentities1796300000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "user_identities" ("id" uuid NOT NULL, "user_id" uuid NOT NULL, "method" character varying(8) NOT NULL, "issuer" character varying(500) NOT NULL, "subject" character varying(255) NOT NULL, "created_at" TIMESTAMP NOT NULL, CONSTRAINT "PK_user_identities" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_user_identities_user_id" ON "user_identities" ("user_id") `);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "UQ_user_identities_subject" ON "user_identities" ("method", "issuer", "subject") `,
    );
    await queryRunner.query(
      `ALTER TABLE "user_identities" ADD CONSTRAINT "FK_user_identities_user" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "user_identities" DROP CONSTRAINT "FK_user_identities_user"`);
    await queryRunner.query(`DROP INDEX "UQ_user_identities_subject"`);
    await queryRunner.query(`DROP INDEX "IDX_user_identities_user_id"`);
    await queryRunner.query(`DROP TABLE "user_identities"`);
  }
}
