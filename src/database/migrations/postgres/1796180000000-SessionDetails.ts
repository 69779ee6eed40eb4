import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Sessions gain when they were last used (the idle timeout) and the client address and user agent they signed in
 * from (the session list). A session signed in before this release counts as used at the upgrade, so that no one in
 * the middle of their work is signed out by it; one left unused ends IAM_SESSION_IDLE_MINUTES later. Times are
 * stored in UTC, as the application writes them.
 */
export class SessionDetails1796180000000 implements MigrationInterface {
  name = 'SessionDetails1796180000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "sessions" ADD "last_seen_at" TIMESTAMP`);
    await queryRunner.query(`UPDATE "sessions" SET "last_seen_at" = (now() AT TIME ZONE 'UTC')`);
    await queryRunner.query(`ALTER TABLE "sessions" ALTER COLUMN "last_seen_at" SET NOT NULL`);
    await queryRunner.query(`ALTER TABLE "sessions" ADD "client_address" character varying(100)`);
    await queryRunner.query(`ALTER TABLE "sessions" ADD "user_agent" character varying(512)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "sessions" DROP COLUMN "user_agent"`);
    await queryRunner.query(`ALTER TABLE "sessions" DROP COLUMN "client_address"`);
    await queryRunner.query(`ALTER TABLE "sessions" DROP COLUMN "last_seen_at"`);
  }
}
