import { type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { IamHttpMiddleware } from '../common/iam-http.middleware.js';
import { IAM_DATA_SOURCE } from '../database/iam-data-source.js';
import { AuditEventsController } from './audit-events.controller.js';
import { AuditEventsService } from './audit-events.service.js';
import { AuditEvent } from './entities/audit-event.entity.js';

/** The routes that read the audit trail (GET /audit-events, /audit-events/{id}); the recording is AuditModule's. */
@Module({
  imports: [TypeOrmModule.forFeature([AuditEvent], IAM_DATA_SOURCE)],
  controllers: [AuditEventsController],
  providers: [AuditEventsService],
})
export class AuditEventsModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(IamHttpMiddleware).forRoutes(AuditEventsController);
  }
}
