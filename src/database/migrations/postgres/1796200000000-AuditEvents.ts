import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit trail (AuditEvent): one row per change, sign-in and refusal, read newest first by (time, id), alone or
 * after one filter (actor, target, action, outcome), each with an index that ends with (time, id).
 */
export class AuditEvents1796200000000 implements MigrationInterface {
  name = 'AuditEvents1796200000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "audit_events" ("id" uuid NOT NULL, "time" TIMESTAMP NOT NULL, "actor_kind" character varying(16) NOT NULL, "actor_id" uuid, "actor_name" character varying(100), "actor_key" character varying(400), "action" character varying(100) NOT NULL, "target" character varying(1000) NOT NULL, "outcome" character varying(8) NOT NULL, "reason" character varying(500), "request_id" character varying(128), "client_address" character varying(64), "user_agent" character varying(512), "changes" text NOT NULL, CONSTRAINT "PK_audit_events" PRIMARY KEY ("id"))`,
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
