import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { IamModule } from 'iam-service';
import { StatusController } from './status.controller.js';
import { Widget } from './widgets/widget.entity.js';
import { WidgetsModule } from './widgets/widgets.module.js';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true }),
    // The host's own DataSource (the default one). The IAM opens a DataSource of its own, named 'iam'.
    TypeOrmModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        type: 'better-sqlite3' as const,
        database: config.get<string>('HOST_DATABASE_PATH', 'host.sqlite'),
        entities: [Widget],
        // A throwaway example table; a real platform runs migrations.
        synchronize: true,
      }),
    }),
    IamModule.forRootAsync({
      imports: [ConfigModule],
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        database: { url: config.get<string>('DATABASE_URL', 'sqlite:iam.sqlite') },
        routePrefix: 'iam/api/v1',
        bootstrapToken: config.get<string>('IAM_BOOTSTRAP_TOKEN'),
        actions: ['widgets:Read'],
      }),
    }),
    WidgetsModule,
  ],
  controllers: [StatusController],
})
export class HostModule {}
