import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Whether the stored token hash is IAM_BOOTSTRAP_TOKEN's. Rows start at false: a token configured before this
 * release is marked at the next start with the variable still set.
 */
export class BootstrapTokenFlag1795975828043 implements MigrationInterface {
  name = 'BootstrapTokenFlag1795975828043';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "service_accounts" ADD "token_from_bootstrap" boolean NOT NULL DEFAULT false`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "service_accounts" DROP COLUMN "token_from_bootstrap"`);
  }
}
