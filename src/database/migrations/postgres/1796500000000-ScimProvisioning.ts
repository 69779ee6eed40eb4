import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SCIM provisioning: a user's `active` flag (every existing user stays active), the identity provider's `externalId`
 * of users and groups, and when a user or group was last changed (`meta.lastModified`; null: never since creation).
 */
export class ScimProvisioning1796500000000 implements MigrationInterface {
  name = 'ScimProvisioning1796500000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "users" ADD "active" boolean NOT NULL DEFAULT true`);
    await queryRunner.query(`ALTER TABLE "users" ADD "external_id" character varying(255)`);
    await queryRunner.query(`ALTER TABLE "users" ADD "updated_at" TIMESTAMP`);
    await queryRunner.query(`ALTER TABLE "groups" ADD "external_id" character varying(255)`);
    await queryRunner.query(`ALTER TABLE "groups" ADD "updated_at" TIMESTAMP`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "groups" DROP COLUMN "updated_at"`);
    await queryRunner.query(`ALTER TABLE "groups" DROP COLUMN "external_id"`);
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "updated_at"`);
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "external_id"`);
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "active"`);
  }
}
