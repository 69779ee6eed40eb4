import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Whether the stored token hash is IAM_BOOTSTRAP_TOKEN's. Rows start at false: a token configured before this
 * release is marked at the next start with the variable still set. (ADD COLUMN rather than the generator's
 * table rebuild: the same schema, with no copy of the table and its memberships.)
 */
export class BootstrapTokenFlag1795975799735 implements MigrationInterface {
  name = 'BootstrapTokenFlag1795975799735';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "service_accounts" ADD COLUMN "token_from_bootstrap" boolean NOT NULL DEFAULT (0)`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "service_accounts" DROP COLUMN "token_from_bootstrap"`);
  }
}
