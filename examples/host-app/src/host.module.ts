import { type MiddlewareConsumer, Module, type NestModule, RequestMethod } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { json, urlencoded } from 'express';
import { IamModule, type IamModuleOptions } from 'iam-service';
import { StatusController } from './status.controller.js';
import { Widget } from './widgets/widget.entity.js';
import { WidgetsModule } from './widgets/widgets.module.js';

/** Where the IAM's routes are mounted. */
const IAM_PREFIX = 'iam/api/v1';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true }),
    // The host's own DataSource (the default one). The IAM opens a DataSource of its own, named 'iam'.
    TypeOrmModule.forRoot({
      type: 'better-sqlite3',
      database: 'host.sqlite',
      entities: [Widget],
      // A throwaway example table; a real platform runs migrations.
      synchronize: true,
    }),
    IamModule.forRootAsync({
      // Fixed when the module is declared, outside the factory.
      routePrefix: IAM_PREFIX,
      imports: [ConfigModule],
      inject: [ConfigService],
      // Typed, so that a misplaced or misspelt option is a compile error.
      useFactory: (config: ConfigService): IamModuleOptions => ({
        database: { url: config.get<string>('DATABASE_URL', 'sqlite:iam.sqlite') },
        bootstrapToken: config.get<string>('IAM_BOOTSTRAP_TOKEN'),
        actions: ['widgets:Read'],
      }),
    }),
    WidgetsModule,
  ],
  controllers: [StatusController],
})
export class HostModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    // Nest's app-wide body parser is off (main.ts): the IAM parses the JSON bodies of its routes itself, with its
    // own size limit and error body. The host's routes get the host's parsers, everywhere but under the IAM.
    consumer
      .apply(json(), urlencoded({ extended: false }))
      .exclude({ path: `${IAM_PREFIX}/{*path}`, method: RequestMethod.ALL })
      .forRoutes({ path: '{*path}', method: RequestMethod.ALL });
  }
}
