import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { IAM_DATA_SOURCE } from '../database/iam-data-source.js';
import { IamKey } from './entities/iam-key.entity.js';
import { ListConcurrency } from './list-concurrency.js';
import { PageTokenService } from './page-token.service.js';

/** Page tokens and the queue of list requests (global, as the lists of every feature module use them). */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([IamKey], IAM_DATA_SOURCE)],
  providers: [PageTokenService, ListConcurrency],
  exports: [PageTokenService, ListConcurrency],
})
export class PaginationModule {}
