import { registerAs } from '@nestjs/config';
import { validateEnvironment } from './env.validation.js';

/** The audit trail's settings (see AuditService, AuditRetentionService). */
export interface AuditConfig {
  /** Days an event is kept: older ones are deleted at start-up and once a day. */
  retentionDays: number;
  /** Also write each committed event to the log, as one JSON line (for shipping to a SIEM). */
  log: boolean;
}

export const auditConfig = registerAs('audit', (): AuditConfig => {
  const env = validateEnvironment(process.env);
  return { retentionDays: env.IAM_AUDIT_RETENTION_DAYS, log: env.IAM_AUDIT_LOG };
});
