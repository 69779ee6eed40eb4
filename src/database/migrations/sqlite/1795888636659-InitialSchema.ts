import { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1795888636659 implements MigrationInterface {
  name = 'InitialSchema1795888636659';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "groups" ("id" varchar PRIMARY KEY NOT NULL, "name" varchar(63) NOT NULL, "display_name" varchar(150) NOT NULL, "description" varchar(250) NOT NULL DEFAULT (''), "created_at" datetime NOT NULL)`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_groups_name" ON "groups" ("name") `);
    await queryRunner.query(
      `CREATE TABLE "users" ("id" varchar PRIMARY KEY NOT NULL, "name" varchar(100) NOT NULL, "name_key" varchar(400) NOT NULL, "display_name" varchar(150) NOT NULL, "metadata" text NOT NULL, "password_hash" varchar(255), "created_at" datetime NOT NULL, "last_seen_at" datetime)`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_users_name_key" ON "users" ("name_key") `);
    await queryRunner.query(
      `CREATE TABLE "user_profiles" ("user_id" varchar PRIMARY KEY NOT NULL, "full_name" varchar(100), "email_address" varchar(100))`,
    );
    await queryRunner.query(
      `CREATE TABLE "service_accounts" ("id" varchar PRIMARY KEY NOT NULL, "name" varchar(63) NOT NULL, "display_name" varchar(150) NOT NULL, "description" varchar(250) NOT NULL DEFAULT (''), "metadata" text NOT NULL, "token_hash" varchar(64), "token_expires_at" datetime, "is_builtin_admin" boolean NOT NULL DEFAULT (0), "created_at" datetime NOT NULL, "last_seen_at" datetime)`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_service_accounts_name" ON "service_accounts" ("name") `);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "UQ_service_accounts_token_hash" ON "service_accounts" ("token_hash") `,
    );
    await queryRunner.query(
      `CREATE TABLE "sessions" ("id" varchar PRIMARY KEY NOT NULL, "user_id" varchar NOT NULL, "token_hash" varchar(64) NOT NULL, "created_at" datetime NOT NULL, "expires_at" datetime NOT NULL)`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_sessions_user_id" ON "sessions" ("user_id") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_sessions_token_hash" ON "sessions" ("token_hash") `);
    await queryRunner.query(
      `CREATE TABLE "user_settings" ("user_id" varchar PRIMARY KEY NOT NULL, "theme" varchar(16) NOT NULL, "timezone" varchar(64) NOT NULL, "language" varchar(35) NOT NULL, "week_start" varchar(16) NOT NULL)`,
    );
    await queryRunner.query(
      `CREATE TABLE "user_groups" ("user_id" varchar NOT NULL, "group_id" varchar NOT NULL, PRIMARY KEY ("user_id", "group_id"))`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_95bf94c61795df25a515435010" ON "user_groups" ("user_id") `);
    await queryRunner.query(`CREATE INDEX "IDX_4c5f2c23c34f3921fbad2cd394" ON "user_groups" ("group_id") `);
    await queryRunner.query(
      `CREATE TABLE "temporary_user_profiles" ("user_id" varchar PRIMARY KEY NOT NULL, "full_name" varchar(100), "email_address" varchar(100), CONSTRAINT "FK_user_profiles_user" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`,
    );
    await queryRunner.query(
      `INSERT INTO "temporary_user_profiles"("user_id", "full_name", "email_address") SELECT "user_id", "full_name", "email_address" FROM "user_profiles"`,
    );
    await queryRunner.query(`DROP TABLE "user_profiles"`);
    await queryRunner.query(`ALTER TABLE "temporary_user_profiles" RENAME TO "user_profiles"`);
    await queryRunner.query(`DROP INDEX "IDX_sessions_user_id"`);
    await queryRunner.query(`DROP INDEX "UQ_sessions_token_hash"`);
    await queryRunner.query(
      `CREATE TABLE "temporary_sessions" ("id" varchar PRIMARY KEY NOT NULL, "user_id" varchar NOT NULL, "token_hash" varchar(64) NOT NULL, "created_at" datetime NOT NULL, "expires_at" datetime NOT NULL, CONSTRAINT "FK_sessions_user" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`,
    );
    await queryRunner.query(
      `INSERT INTO "temporary_sessions"("id", "user_id", "token_hash", "created_at", "expires_at") SELECT "id", "user_id", "token_hash", "created_at", "expires_at" FROM "sessions"`,
    );
    await queryRunner.query(`DROP TABLE "sessions"`);
    await queryRunner.query(`ALTER TABLE "temporary_sessions" RENAME TO "sessions"`);
    await queryRunner.query(`CREATE INDEX "IDX_sessions_user_id" ON "sessions" ("user_id") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_sessions_token_hash" ON "sessions" ("token_hash") `);
    await queryRunner.query(
      `CREATE TABLE "temporary_user_settings" ("user_id" varchar PRIMARY KEY NOT NULL, "theme" varchar(16) NOT NULL, "timezone" varchar(64) NOT NULL, "language" varchar(35) NOT NULL, "week_start" varchar(16) NOT NULL, CONSTRAINT "FK_user_settings_user" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`,
    );
    await queryRunner.query(
      `INSERT INTO "temporary_user_settings"("user_id", "theme", "timezone", "language", "week_start") SELECT "user_id", "theme", "timezone", "language", "week_start" FROM "user_settings"`,
    );
    await queryRunner.query(`DROP TABLE "user_settings"`);
    await queryRunner.query(`ALTER TABLE "temporary_user_settings" RENAME TO "user_settings"`);
    await queryRunner.query(`DROP INDEX "IDX_95bf94c61795df25a515435010"`);
    await queryRunner.query(`DROP INDEX "IDX_4c5f2c23c34f3921fbad2cd394"`);
    await queryRunner.query(
      `CREATE TABLE "temporary_user_groups" ("user_id" varchar NOT NULL, "group_id" varchar NOT NULL, CONSTRAINT "FK_user_groups_user" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE CASCADE, CONSTRAINT "FK_user_groups_group" FOREIGN KEY ("group_id") REFERENCES "groups" ("id") ON DELETE CASCADE ON UPDATE CASCADE, PRIMARY KEY ("user_id", "group_id"))`,
    );
    await queryRunner.query(
      `INSERT INTO "temporary_user_groups"("user_id", "group_id") SELECT "user_id", "group_id" FROM "user_groups"`,
    );
    await queryRunner.query(`DROP TABLE "user_groups"`);
    await queryRunner.query(`ALTER TABLE "temporary_user_groups" RENAME TO "user_groups"`);
    await queryRunner.query(`CREATE INDEX "IDX_95bf94c61795df25a515435010" ON "user_groups" ("user_id") `);
    await queryRunner.query(`CREATE INDEX "IDX_4c5f2c23c34f3921fbad2cd394" ON "user_groups" ("group_id") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_4c5f2c23c34f3921fbad2cd394"`);
    await queryRunner.query(`DROP INDEX "IDX_95bf94c61795df25a515435010"`);
    await queryRunner.query(`ALTER TABLE "user_groups" RENAME TO "temporary_user_groups"`);
    await queryRunner.query(
      `CREATE TABLE "user_groups" ("user_id" varchar NOT NULL, "group_id" varchar NOT NULL, PRIMARY KEY ("user_id", "group_id"))`,
    );
    await queryRunner.query(
      `INSERT INTO "user_groups"("user_id", "group_id") SELECT "user_id", "group_id" FROM "temporary_user_groups"`,
    );
    await queryRunner.query(`DROP TABLE "temporary_user_groups"`);
    await queryRunner.query(`CREATE INDEX "IDX_4c5f2c23c34f3921fbad2cd394" ON "user_groups" ("group_id") `);
    await queryRunner.query(`CREATE INDEX "IDX_95bf94c61795df25a515435010" ON "user_groups" ("user_id") `);
    await queryRunner.query(`ALTER TABLE "user_settings" RENAME TO "temporary_user_settings"`);
    await queryRunner.query(
      `CREATE TABLE "user_settings" ("user_id" varchar PRIMARY KEY NOT NULL, "theme" varchar(16) NOT NULL, "timezone" varchar(64) NOT NULL, "language" varchar(35) NOT NULL, "week_start" varchar(16) NOT NULL)`,
    );
    await queryRunner.query(
      `INSERT INTO "user_settings"("user_id", "theme", "timezone", "language", "week_start") SELECT "user_id", "theme", "timezone", "language", "week_start" FROM "temporary_user_settings"`,
    );
    await queryRunner.query(`DROP TABLE "temporary_user_settings"`);
    await queryRunner.query(`DROP INDEX "UQ_sessions_token_hash"`);
    await queryRunner.query(`DROP INDEX "IDX_sessions_user_id"`);
    await queryRunner.query(`ALTER TABLE "sessions" RENAME TO "temporary_sessions"`);
    await queryRunner.query(
      `CREATE TABLE "sessions" ("id" varchar PRIMARY KEY NOT NULL, "user_id" varchar NOT NULL, "token_hash" varchar(64) NOT NULL, "created_at" datetime NOT NULL, "expires_at" datetime NOT NULL)`,
    );
    await queryRunner.query(
      `INSERT INTO "sessions"("id", "user_id", "token_hash", "created_at", "expires_at") SELECT "id", "user_id", "token_hash", "created_at", "expires_at" FROM "temporary_sessions"`,
    );
    await queryRunner.query(`DROP TABLE "temporary_sessions"`);
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_sessions_token_hash" ON "sessions" ("token_hash") `);
    await queryRunner.query(`CREATE INDEX "IDX_sessions_user_id" ON "sessions" ("user_id") `);
    await queryRunner.query(`ALTER TABLE "user_profiles" RENAME TO "temporary_user_profiles"`);
    await queryRunner.query(
      `CREATE TABLE "user_profiles" ("user_id" varchar PRIMARY KEY NOT NULL, "full_name" varchar(100), "email_address" varchar(100))`,
    );
    await queryRunner.query(
      `INSERT INTO "user_profiles"("user_id", "full_name", "email_address") SELECT "user_id", "full_name", "email_address" FROM "temporary_user_profiles"`,
    );
    await queryRunner.query(`DROP TABLE "temporary_user_profiles"`);
    await queryRunner.query(`DROP INDEX "IDX_4c5f2c23c34f3921fbad2cd394"`);
    await queryRunner.query(`DROP INDEX "IDX_95bf94c61795df25a515435010"`);
    await queryRunner.query(`DROP TABLE "user_groups"`);
    await queryRunner.query(`DROP TABLE "user_settings"`);
    await queryRunner.query(`DROP INDEX "UQ_sessions_token_hash"`);
    await queryRunner.query(`DROP INDEX "IDX_sessions_user_id"`);
    await queryRunner.query(`DROP TABLE "sessions"`);
    await queryRunner.query(`DROP INDEX "UQ_service_accounts_token_hash"`);
    await queryRunner.query(`DROP INDEX "UQ_service_accounts_name"`);
    await queryRunner.query(`DROP TABLE "service_accounts"`);
    await queryRunner.query(`DROP TABLE "user_profiles"`);
    await queryRunner.query(`DROP INDEX "UQ_users_name_key"`);
    await queryRunner.query(`DROP TABLE "users"`);
    await queryRunner.query(`DROP INDEX "UQ_groups_name"`);
    await queryRunner.query(`DROP TABLE "groups"`);
  }
}
