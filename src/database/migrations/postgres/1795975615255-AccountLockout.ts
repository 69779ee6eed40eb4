import { MigrationInterface, QueryRunner } from 'typeorm';

export class AccountLockout1795975615255 implements MigrationInterface {
  name = 'AccountLockout1795975615255';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "users" ADD "failed_logins" integer NOT NULL DEFAULT '0'`);
    await queryRunner.query(`ALTER TABLE "users" ADD "failed_logins_since" TIMESTAMP`);
    await queryRunner.query(`ALTER TABLE "users" ADD "locked_until" TIMESTAMP`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "locked_until"`);
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "failed_logins_since"`);
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "failed_logins"`);
  }
}
