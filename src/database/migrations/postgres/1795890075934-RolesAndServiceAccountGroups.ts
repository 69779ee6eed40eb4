import { MigrationInterface, QueryRunner } from 'typeorm';

export class RolesAndServiceAccountGroups1795890075934 implements MigrationInterface {
  name = 'RolesAndServiceAccountGroups1795890075934';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "roles" ("id" uuid NOT NULL, "name" character varying(63) NOT NULL, "display_name" character varying(150) NOT NULL, "description" character varying(280) NOT NULL DEFAULT '', "policy" text NOT NULL, "metadata" text NOT NULL, "created_at" TIMESTAMP NOT NULL, CONSTRAINT "PK_c1433d71a4838793a49dcad46ab" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_roles_name" ON "roles"  ("name") `);
    await queryRunner.query(
      `CREATE TABLE "group_roles" ("group_id" uuid NOT NULL, "role_id" uuid NOT NULL, CONSTRAINT "PK_31cb33278c5d3f7aed58766840a" PRIMARY KEY ("group_id", "role_id"))`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_0f428ea82b51ea6c795689cdb8" ON "group_roles"  ("group_id") `);
    await queryRunner.query(`CREATE INDEX "IDX_35d4b5f7da6e1a9a730c3621ec" ON "group_roles"  ("role_id") `);
    await queryRunner.query(
      `CREATE TABLE "service_account_groups" ("service_account_id" uuid NOT NULL, "group_id" uuid NOT NULL, CONSTRAINT "PK_c508334aaa098c3ae41227e153d" PRIMARY KEY ("service_account_id", "group_id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_d097db15e1b6e9529dfecdd4ab" ON "service_account_groups"  ("service_account_id") `,
    );
    await queryRunner.query(`CREATE INDEX "IDX_a581a62eb004b1d432d14e82e9" ON "service_account_groups"  ("group_id") `);
    // Existing groups: sso_name defaults to the name, metadata to an empty map.
    await queryRunner.query(`ALTER TABLE "groups" ADD "sso_name" character varying(150)`);
    await queryRunner.query(`UPDATE "groups" SET "sso_name" = "name"`);
    await queryRunner.query(`ALTER TABLE "groups" ALTER COLUMN "sso_name" SET NOT NULL`);
    await queryRunner.query(`ALTER TABLE "groups" ADD "metadata" text NOT NULL DEFAULT '{}'`);
    await queryRunner.query(`ALTER TABLE "groups" ALTER COLUMN "metadata" DROP DEFAULT`);
    await queryRunner.query(
      `ALTER TABLE "group_roles" ADD CONSTRAINT "FK_group_roles_group" FOREIGN KEY ("group_id") REFERENCES "groups"("id") ON DELETE CASCADE ON UPDATE CASCADE`,
    );
    await queryRunner.query(
      `ALTER TABLE "group_roles" ADD CONSTRAINT "FK_group_roles_role" FOREIGN KEY ("role_id") REFERENCES "roles"("id") ON DELETE CASCADE ON UPDATE CASCADE`,
    );
    await queryRunner.query(
      `ALTER TABLE "service_account_groups" ADD CONSTRAINT "FK_service_account_groups_service_account" FOREIGN KEY ("service_account_id") REFERENCES "service_accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE`,
    );
    await queryRunner.query(
      `ALTER TABLE "service_account_groups" ADD CONSTRAINT "FK_service_account_groups_group" FOREIGN KEY ("group_id") REFERENCES "groups"("id") ON DELETE CASCADE ON UPDATE CASCADE`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "service_account_groups" DROP CONSTRAINT "FK_service_account_groups_group"`);
    await queryRunner.query(
      `ALTER TABLE "service_account_groups" DROP CONSTRAINT "FK_service_account_groups_service_account"`,
    );
    await queryRunner.query(`ALTER TABLE "group_roles" DROP CONSTRAINT "FK_group_roles_role"`);
    await queryRunner.query(`ALTER TABLE "group_roles" DROP CONSTRAINT "FK_group_roles_group"`);
    await queryRunner.query(`ALTER TABLE "groups" DROP COLUMN "metadata"`);
    await queryRunner.query(`ALTER TABLE "groups" DROP COLUMN "sso_name"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_a581a62eb004b1d432d14e82e9"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_d097db15e1b6e9529dfecdd4ab"`);
    await queryRunner.query(`DROP TABLE "service_account_groups"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_35d4b5f7da6e1a9a730c3621ec"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_0f428ea82b51ea6c795689cdb8"`);
    await queryRunner.query(`DROP TABLE "group_roles"`);
    await queryRunner.query(`DROP INDEX "public"."UQ_roles_name"`);
    await queryRunner.query(`DROP TABLE "roles"`);
  }
}
