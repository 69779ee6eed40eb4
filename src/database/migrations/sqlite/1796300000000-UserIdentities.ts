import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Single sign-on: a user's bindings to identities at providers (UserIdentity), one per (method, issuer, subject),
 * removed with the user.
 */
export class UserIdentities1796300000000 implements MigrationInterface {
  name = 'UserIdentities1796300000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "user_identities" ("id" varchar PRIMARY KEY NOT NULL, "user_id" varchar NOT NULL, "method" varchar(8) NOT NULL, "issuer" varchar(500) NOT NULL, "subject" varchar(255) NOT NULL, "created_at" datetime NOT NULL, CONSTRAINT "FK_user_identities_user" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_user_identities_user_id" ON "user_identities" ("user_id") `);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "UQ_user_identities_subject" ON "user_identities" ("method", "issuer", "subject") `,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "UQ_user_identities_subject"`);
    await queryRunner.query(`DROP INDEX "IDX_user_identities_user_id"`);
    await queryRunner.query(`DROP TABLE "user_identities"`);
  }
}
