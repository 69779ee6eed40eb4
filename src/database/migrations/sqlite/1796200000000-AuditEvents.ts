import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit trail (AuditEvent): one row per change, sign-in and refusal, read newest first by (time, id), alone or
 * after one filter (actor, target, action, outcome), each with an index that ends with (time, id).
 */
export class AuditEvents1796200000000 implements MigrationInterface {
  name = 'AuditEvents1796200000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "audit_events" ("id" varchar PRIMARY KEY NOT NULL, "time" datetime NOT NULL, "actor_kind" varchar(16) NOT NULL, "actor_id" varchar, "actor_name" varchar(100), "actor_key" varchar(400), "action" varchar(100) NOT NULL, "target" varchar(1000) NOT NULL, "outcome" varchar(8) NOT NULL, "reason" varchar(500), "request_id" varchar(128), "client_address" varchar(64), "user_agent" varchar(512), "changes" text NOT NULL)`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_audit_events_time" ON "audit_events" ("time", "id") `);
    await queryRunner.query(`CREATE INDEX "IDX_audit_events_actor" ON "audit_events" ("actor_key", "time", "id") `);
    await queryRunner.query(`CREATE INDEX "IDX_audit_events_target" ON "audit_events" ("target", "time", "id") `);
    await queryRunner.query(`CREATE INDEX "IDX_audit_events_action" ON "audit_events" ("action", "time", "id") `);
    await queryRunner.query(`CREATE INDEX "IDX_audit_events_outcome" ON "audit_events" ("outcome", "time", "id") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_audit_events_outcome"`);
    await queryRunner.query(`DROP INDEX "IDX_audit_events_action"`);
    await queryRunner.query(`DROP INDEX "IDX_audit_events_target"`);
    await queryRunner.query(`DROP INDEX "IDX_audit_events_actor"`);
    await queryRunner.query(`DROP INDEX "IDX_audit_events_time"`);
    await queryRunner.query(`DROP TABLE "audit_events"`);
  }
}
