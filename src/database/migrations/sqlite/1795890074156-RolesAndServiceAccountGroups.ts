import { MigrationInterface, QueryRunner } from 'typeorm';

export class RolesAndServiceAccountGroups1795890074156 implements MigrationInterface {
  name = 'RolesAndServiceAccountGroups1795890074156';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "roles" ("id" varchar PRIMARY KEY NOT NULL, "name" varchar(63) NOT NULL, "display_name" varchar(150) NOT NULL, "description" varchar(280) NOT NULL DEFAULT (''), "policy" text NOT NULL, "metadata" text NOT NULL, "created_at" datetime NOT NULL)`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_roles_name" ON "roles" ("name") `);
    await queryRunner.query(
      `CREATE TABLE "group_roles" ("group_id" varchar NOT NULL, "role_id" varchar NOT NULL, PRIMARY KEY ("group_id", "role_id"))`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_0f428ea82b51ea6c795689cdb8" ON "group_roles" ("group_id") `);
    await queryRunner.query(`CREATE INDEX "IDX_35d4b5f7da6e1a9a730c3621ec" ON "group_roles" ("role_id") `);
    await queryRunner.query(
      `CREATE TABLE "service_account_groups" ("service_account_id" varchar NOT NULL, "group_id" varchar NOT NULL, PRIMARY KEY ("service_account_id", "group_id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_d097db15e1b6e9529dfecdd4ab" ON "service_account_groups" ("service_account_id") `,
    );
    await queryRunner.query(`CREATE INDEX "IDX_a581a62eb004b1d432d14e82e9" ON "service_account_groups" ("group_id") `);
    await queryRunner.query(`DROP INDEX "UQ_groups_name"`);
    await queryRunner.query(
      `CREATE TABLE "temporary_groups" ("id" varchar PRIMARY KEY NOT NULL, "name" varchar(63) NOT NULL, "display_name" varchar(150) NOT NULL, "description" varchar(250) NOT NULL DEFAULT (''), "created_at" datetime NOT NULL, "sso_name" varchar(150) NOT NULL, "metadata" text NOT NULL)`,
    );
    await queryRunner.query(
      `INSERT INTO "temporary_groups"("id", "name", "display_name", "description", "created_at", "sso_name", "metadata") SELECT "id", "name", "display_name", "description", "created_at", "name", '{}' FROM "groups"`,
    );
    await queryRunner.query(`DROP TABLE "groups"`);
    await queryRunner.query(`ALTER TABLE "temporary_groups" RENAME TO "groups"`);
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_groups_name" ON "groups" ("name") `);
    await queryRunner.query(`DROP INDEX "IDX_0f428ea82b51ea6c795689cdb8"`);
    await queryRunner.query(`DROP INDEX "IDX_35d4b5f7da6e1a9a730c3621ec"`);
    await queryRunner.query(
      `CREATE TABLE "temporary_group_roles" ("group_id" varchar NOT NULL, "role_id" varchar NOT NULL, CONSTRAINT "FK_group_roles_group" FOREIGN KEY ("group_id") REFERENCES "groups" ("id") ON DELETE CASCADE ON UPDATE CASCADE, CONSTRAINT "FK_group_roles_role" FOREIGN KEY ("role_id") REFERENCES "roles" ("id") ON DELETE CASCADE ON UPDATE CASCADE, PRIMARY KEY ("group_id", "role_id"))`,
    );
    await queryRunner.query(
      `INSERT INTO "temporary_group_roles"("group_id", "role_id") SELECT "group_id", "role_id" FROM "group_roles"`,
    );
    await queryRunner.query(`DROP TABLE "group_roles"`);
    await queryRunner.query(`ALTER TABLE "temporary_group_roles" RENAME TO "group_roles"`);
    await queryRunner.query(`CREATE INDEX "IDX_0f428ea82b51ea6c795689cdb8" ON "group_roles" ("group_id") `);
    await queryRunner.query(`CREATE INDEX "IDX_35d4b5f7da6e1a9a730c3621ec" ON "group_roles" ("role_id") `);
    await queryRunner.query(`DROP INDEX "IDX_d097db15e1b6e9529dfecdd4ab"`);
    await queryRunner.query(`DROP INDEX "IDX_a581a62eb004b1d432d14e82e9"`);
    await queryRunner.query(
      `CREATE TABLE "temporary_service_account_groups" ("service_account_id" varchar NOT NULL, "group_id" varchar NOT NULL, CONSTRAINT "FK_service_account_groups_service_account" FOREIGN KEY ("service_account_id") REFERENCES "service_accounts" ("id") ON DELETE CASCADE ON UPDATE CASCADE, CONSTRAINT "FK_service_account_groups_group" FOREIGN KEY ("group_id") REFERENCES "groups" ("id") ON DELETE CASCADE ON UPDATE CASCADE, PRIMARY KEY ("service_account_id", "group_id"))`,
    );
    await queryRunner.query(
      `INSERT INTO "temporary_service_account_groups"("service_account_id", "group_id") SELECT "service_account_id", "group_id" FROM "service_account_groups"`,
    );
    await queryRunner.query(`DROP TABLE "service_account_groups"`);
    await queryRunner.query(`ALTER TABLE "temporary_service_account_groups" RENAME TO "service_account_groups"`);
    await queryRunner.query(
      `CREATE INDEX "IDX_d097db15e1b6e9529dfecdd4ab" ON "service_account_groups" ("service_account_id") `,
    );
    await queryRunner.query(`CREATE INDEX "IDX_a581a62eb004b1d432d14e82e9" ON "service_account_groups" ("group_id") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_a581a62eb004b1d432d14e82e9"`);
    await queryRunner.query(`DROP INDEX "IDX_d097db15e1b6e9529dfecdd4ab"`);
    await queryRunner.query(`ALTER TABLE "service_account_groups" RENAME TO "temporary_service_account_groups"`);
    await queryRunner.query(
      `CREATE TABLE "service_account_groups" ("service_account_id" varchar NOT NULL, "group_id" varchar NOT NULL, PRIMARY KEY ("service_account_id", "group_id"))`,
    );
    await queryRunner.query(
      `INSERT INTO "service_account_groups"("service_account_id", "group_id") SELECT "service_account_id", "group_id" FROM "temporary_service_account_groups"`,
    );
    await queryRunner.query(`DROP TABLE "temporary_service_account_groups"`);
    await queryRunner.query(`CREATE INDEX "IDX_a581a62eb004b1d432d14e82e9" ON "service_account_groups" ("group_id") `);
    await queryRunner.query(
      `CREATE INDEX "IDX_d097db15e1b6e9529dfecdd4ab" ON "service_account_groups" ("service_account_id") `,
    );
    await queryRunner.query(`DROP INDEX "IDX_35d4b5f7da6e1a9a730c3621ec"`);
    await queryRunner.query(`DROP INDEX "IDX_0f428ea82b51ea6c795689cdb8"`);
    await queryRunner.query(`ALTER TABLE "group_roles" RENAME TO "temporary_group_roles"`);
    await queryRunner.query(
      `CREATE TABLE "group_roles" ("group_id" varchar NOT NULL, "role_id" varchar NOT NULL, PRIMARY KEY ("group_id", "role_id"))`,
    );
    await queryRunner.query(
      `INSERT INTO "group_roles"("group_id", "role_id") SELECT "group_id", "role_id" FROM "temporary_group_roles"`,
    );
    await queryRunner.query(`DROP TABLE "temporary_group_roles"`);
    await queryRunner.query(`CREATE INDEX "IDX_35d4b5f7da6e1a9a730c3621ec" ON "group_roles" ("role_id") `);
    await queryRunner.query(`CREATE INDEX "IDX_0f428ea82b51ea6c795689cdb8" ON "group_roles" ("group_id") `);
    await queryRunner.query(`DROP INDEX "UQ_groups_name"`);
    await queryRunner.query(`ALTER TABLE "groups" RENAME TO "temporary_groups"`);
    await queryRunner.query(
      `CREATE TABLE "groups" ("id" varchar PRIMARY KEY NOT NULL, "name" varchar(63) NOT NULL, "display_name" varchar(150) NOT NULL, "description" varchar(250) NOT NULL DEFAULT (''), "created_at" datetime NOT NULL)`,
    );
    await queryRunner.query(
      `INSERT INTO "groups"("id", "name", "display_name", "description", "created_at") SELECT "id", "name", "display_name", "description", "created_at" FROM "temporary_groups"`,
    );
    await queryRunner.query(`DROP TABLE "temporary_groups"`);
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_groups_name" ON "groups" ("name") `);
    await queryRunner.query(`DROP INDEX "IDX_a581a62eb004b1d432d14e82e9"`);
    await queryRunner.query(`DROP INDEX "IDX_d097db15e1b6e9529dfecdd4ab"`);
    await queryRunner.query(`DROP TABLE "service_account_groups"`);
    await queryRunner.query(`DROP INDEX "IDX_35d4b5f7da6e1a9a730c3621ec"`);
    await queryRunner.query(`DROP INDEX "IDX_0f428ea82b51ea6c795689cdb8"`);
    await queryRunner.query(`DROP TABLE "group_roles"`);
    await queryRunner.query(`DROP INDEX "UQ_roles_name"`);
    await queryRunner.query(`DROP TABLE "roles"`);
  }
}
