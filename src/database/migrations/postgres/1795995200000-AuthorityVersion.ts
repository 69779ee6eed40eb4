import { MigrationInterface, QueryRunner } from 'typeorm';

/** The authority version counter (see AuthorityVersion), with its one row. */
export class AuthorityVersion1795995200000 implements MigrationInterface {
  name = 'AuthorityVersion1795995200000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "iam_authority_version" ("id" integer NOT NULL, "version" bigint NOT NULL DEFAULT '0', CONSTRAINT "PK_iam_authority_version" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`INSERT INTO "iam_authority_version" ("id", "version") VALUES (1, 0)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "iam_authority_version"`);
  }
}
