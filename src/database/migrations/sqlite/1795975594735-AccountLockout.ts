import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Columns added in place (ALTER TABLE … ADD COLUMN) rather than by TypeORM's generated copy of the table: the
 * copy would drop `users` and, with foreign keys on, take its sessions, profiles and memberships with it.
 */
export class AccountLockout1795975594735 implements MigrationInterface {
  name = 'AccountLockout1795975594735';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "users" ADD COLUMN "failed_logins" integer NOT NULL DEFAULT (0)`);
    await queryRunner.query(`ALTER TABLE "users" ADD COLUMN "failed_logins_since" datetime`);
    await queryRunner.query(`ALTER TABLE "users" ADD COLUMN "locked_until" datetime`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "locked_until"`);
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "failed_logins_since"`);
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "failed_logins"`);
  }
}
