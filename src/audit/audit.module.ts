import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { IAM_DATA_SOURCE } from '../database/iam-data-source.js';
import { AuditRetentionService } from './audit-retention.service.js';
import { AuditService } from './audit.service.js';
import { AuditEvent } from './entities/audit-event.entity.js';

/**
 * Recording the audit trail (AuditService) and keeping it to its retention: global, imported by IamCoreModule, since
 * every feature module records its changes. The routes that read it are AuditEventsModule's.
 */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([AuditEvent], IAM_DATA_SOURCE)],
  providers: [AuditService, AuditRetentionService],
  exports: [AuditService, AuditRetentionService],
})
export class AuditModule {}
