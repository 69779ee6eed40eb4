import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SCIM provisioning: a user's `active` flag (every existing user stays active), the identity provider's `externalId`
 * of users and groups, and when a user or group was last changed (`meta.lastModified`; null: never since creation).
 * ADD COLUMN in place rather than the generator's table rebuild, which would take the users' rows that hang off them.
 */
export class ScimProvisioning1796500000000 implements MigrationInterface {
  name = 'ScimProvisioning1796500000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "users" ADD COLUMN "active" boolean NOT NULL DEFAULT (1)`);
    await queryRunner.query(`ALTER TABLE "users" ADD COLUMN "external_id" varchar(255)`);
    await queryRunner.query(`ALTER TABLE "users" ADD COLUMN "updated_at" datetime`);
    await queryRunner.query(`ALTER TABLE "groups" ADD COLUMN "external_id" varchar(255)`);
    await queryRunner.query(`ALTER TABLE "groups" ADD COLUMN "updated_at" datetime`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "groups" DROP COLUMN "updated_at"`);
    await queryRunner.query(`ALTER TABLE "groups" DROP COLUMN "external_id"`);
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "updated_at"`);
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "external_id"`);
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "active"`);
  }
}
