import { MigrationInterface, QueryRunner } from 'typeorm';

/** Keys the service makes itself (the page-token signing key), shared by every instance through the database. */
export class IamKeys1796100000000 implements MigrationInterface {
  name = 'IamKeys1796100000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "iam_keys" ("name" character varying(50) NOT NULL, "value" character varying(100) NOT NULL, "created_at" TIMESTAMP NOT NULL, CONSTRAINT "PK_iam_keys" PRIMARY KEY ("name"))`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "iam_keys"`);
  }
}
