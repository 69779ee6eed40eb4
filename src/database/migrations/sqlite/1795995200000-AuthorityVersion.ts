import { MigrationInterface, QueryRunner } from 'typeorm';

/** The authority version counter (see AuthorityVersion), with its one row. */
export class AuthorityVersion1795995200000 implements MigrationInterface {
  name = 'AuthorityVersion1795995200000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "iam_authority_version" ("id" integer PRIMARY KEY NOT NULL, "version" bigint NOT NULL DEFAULT (0))`,
    );
    await queryRunner.query(`INSERT INTO "iam_authority_version" ("id", "version") VALUES (1, 0)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "iam_authority_version"`);
  }
}
