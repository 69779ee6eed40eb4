import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Sessions gain when they were last used (the idle timeout) and the client address and user agent they signed in
 * from (the session list). SQLite adds a NOT NULL column without a default only by copying the table, which is safe
 * here: nothing refers to `sessions`. A session signed in before this release counts as used at the upgrade, so that
 * no one in the middle of their work is signed out by it; one left unused ends IAM_SESSION_IDLE_MINUTES later.
 */
export class SessionDetails1796180000000 implements MigrationInterface {
  name = 'SessionDetails1796180000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_sessions_user_id"`);
    await queryRunner.query(`DROP INDEX "UQ_sessions_token_hash"`);
    await queryRunner.query(
      `CREATE TABLE "temporary_sessions" ("id" varchar PRIMARY KEY NOT NULL, "user_id" varchar NOT NULL, "token_hash" varchar(64) NOT NULL, "created_at" datetime NOT NULL, "expires_at" datetime NOT NULL, "last_seen_at" datetime NOT NULL, "client_address" varchar(100), "user_agent" varchar(512), CONSTRAINT "FK_sessions_user" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`,
    );
    // As TypeORM writes a Date on SQLite: UTC, `YYYY-MM-DD HH:MM:SS.SSS`.
    await queryRunner.query(
      `INSERT INTO "temporary_sessions"("id", "user_id", "token_hash", "created_at", "expires_at", "last_seen_at") SELECT "id", "user_id", "token_hash", "created_at", "expires_at", strftime('%Y-%m-%d %H:%M:%f', 'now') FROM "sessions"`,
    );
    await queryRunner.query(`DROP TABLE "sessions"`);
    await queryRunner.query(`ALTER TABLE "temporary_sessions" RENAME TO "sessions"`);
    await queryRunner.query(`CREATE INDEX "IDX_sessions_user_id" ON "sessions" ("user_id") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_sessions_token_hash" ON "sessions" ("token_hash") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "UQ_sessions_token_hash"`);
    await queryRunner.query(`DROP INDEX "IDX_sessions_user_id"`);
    await queryRunner.query(`ALTER TABLE "sessions" RENAME TO "temporary_sessions"`);
    await queryRunner.query(
      `CREATE TABLE "sessions" ("id" varchar PRIMARY KEY NOT NULL, "user_id" varchar NOT NULL, "token_hash" varchar(64) NOT NULL, "created_at" datetime NOT NULL, "expires_at" datetime NOT NULL, CONSTRAINT "FK_sessions_user" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`,
    );
    await queryRunner.query(
      `INSERT INTO "sessions"("id", "user_id", "token_hash", "created_at", "expires_at") SELECT "id", "user_id", "token_hash", "created_at", "expires_at" FROM "temporary_sessions"`,
    );
    await queryRunner.query(`DROP TABLE "temporary_sessions"`);
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_sessions_token_hash" ON "sessions" ("token_hash") `);
    await queryRunner.query(`CREATE INDEX "IDX_sessions_user_id" ON "sessions" ("user_id") `);
  }
}
