import { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1795888637621 implements MigrationInterface {
  name = 'InitialSchema1795888637621';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "groups" ("id" uuid NOT NULL, "name" character varying(63) NOT NULL, "display_name" character varying(150) NOT NULL, "description" character varying(250) NOT NULL DEFAULT '', "created_at" TIMESTAMP NOT NULL, CONSTRAINT "PK_659d1483316afb28afd3a90646e" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_groups_name" ON "groups"  ("name") `);
    await queryRunner.query(
      `CREATE TABLE "users" ("id" uuid NOT NULL, "name" character varying(100) NOT NULL, "name_key" character varying(400) NOT NULL, "display_name" character varying(150) NOT NULL, "metadata" text NOT NULL, "password_hash" character varying(255), "created_at" TIMESTAMP NOT NULL, "last_seen_at" TIMESTAMP, CONSTRAINT "PK_a3ffb1c0c8416b9fc6f907b7433" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_users_name_key" ON "users"  ("name_key") `);
    await queryRunner.query(
      `CREATE TABLE "user_profiles" ("user_id" uuid NOT NULL, "full_name" character varying(100), "email_address" character varying(100), CONSTRAINT "PK_6ca9503d77ae39b4b5a6cc3ba88" PRIMARY KEY ("user_id"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "service_accounts" ("id" uuid NOT NULL, "name" character varying(63) NOT NULL, "display_name" character varying(150) NOT NULL, "description" character varying(250) NOT NULL DEFAULT '', "metadata" text NOT NULL, "token_hash" character varying(64), "token_expires_at" TIMESTAMP, "is_builtin_admin" boolean NOT NULL DEFAULT false, "created_at" TIMESTAMP NOT NULL, "last_seen_at" TIMESTAMP, CONSTRAINT "PK_e2fb216fdc1db94c5e4da7d88fa" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_service_accounts_name" ON "service_accounts"  ("name") `);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "UQ_service_accounts_token_hash" ON "service_accounts"  ("token_hash") `,
    );
    await queryRunner.query(
      `CREATE TABLE "sessions" ("id" uuid NOT NULL, "user_id" uuid NOT NULL, "token_hash" character varying(64) NOT NULL, "created_at" TIMESTAMP NOT NULL, "expires_at" TIMESTAMP NOT NULL, CONSTRAINT "PK_3238ef96f18b355b671619111bc" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_sessions_user_id" ON "sessions"  ("user_id") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_sessions_token_hash" ON "sessions"  ("token_hash") `);
    await queryRunner.query(
      `CREATE TABLE "user_settings" ("user_id" uuid NOT NULL, "theme" character varying(16) NOT NULL, "timezone" character varying(64) NOT NULL, "language" character varying(35) NOT NULL, "week_start" character varying(16) NOT NULL, CONSTRAINT "PK_4ed056b9344e6f7d8d46ec4b302" PRIMARY KEY ("user_id"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "user_groups" ("user_id" uuid NOT NULL, "group_id" uuid NOT NULL, CONSTRAINT "PK_c95039f66f5d7a452fc53945bfe" PRIMARY KEY ("user_id", "group_id"))`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_95bf94c61795df25a515435010" ON "user_groups"  ("user_id") `);
    await queryRunner.query(`CREATE INDEX "IDX_4c5f2c23c34f3921fbad2cd394" ON "user_groups"  ("group_id") `);
    await queryRunner.query(
      `ALTER TABLE "user_profiles" ADD CONSTRAINT "FK_user_profiles_user" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "sessions" ADD CONSTRAINT "FK_sessions_user" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "user_settings" ADD CONSTRAINT "FK_user_settings_user" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "user_groups" ADD CONSTRAINT "FK_user_groups_user" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE`,
    );
    await queryRunner.query(
      `ALTER TABLE "user_groups" ADD CONSTRAINT "FK_user_groups_group" FOREIGN KEY ("group_id") REFERENCES "groups"("id") ON DELETE CASCADE ON UPDATE CASCADE`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "user_groups" DROP CONSTRAINT "FK_user_groups_group"`);
    await queryRunner.query(`ALTER TABLE "user_groups" DROP CONSTRAINT "FK_user_groups_user"`);
    await queryRunner.query(`ALTER TABLE "user_settings" DROP CONSTRAINT "FK_user_settings_user"`);
    await queryRunner.query(`ALTER TABLE "sessions" DROP CONSTRAINT "FK_sessions_user"`);
    await queryRunner.query(`ALTER TABLE "user_profiles" DROP CONSTRAINT "FK_user_profiles_user"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_4c5f2c23c34f3921fbad2cd394"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_95bf94c61795df25a515435010"`);
    await queryRunner.query(`DROP TABLE "user_groups"`);
    await queryRunner.query(`DROP TABLE "user_settings"`);
    await queryRunner.query(`DROP INDEX "public"."UQ_sessions_token_hash"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_sessions_user_id"`);
    await queryRunner.query(`DROP TABLE "sessions"`);
    await queryRunner.query(`DROP INDEX "public"."UQ_service_accounts_token_hash"`);
    await queryRunner.query(`DROP INDEX "public"."UQ_service_accounts_name"`);
    await queryRunner.query(`DROP TABLE "service_accounts"`);
    await queryRunner.query(`DROP TABLE "user_profiles"`);
    await queryRunner.query(`DROP INDEX "public"."UQ_users_name_key"`);
    await queryRunner.query(`DROP TABLE "users"`);
    await queryRunner.query(`DROP INDEX "public"."UQ_groups_name"`);
    await queryRunner.query(`DROP TABLE "groups"`);
  }
}
