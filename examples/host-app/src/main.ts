import 'reflect-metadata';
import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { HostModule } from './host.module.js';

async function bootstrap(): Promise<void> {
  // No app-wide body parser: it would parse the IAM's requests before the IAM does (its errors in Nest's format,
  // Nest's 100kb limit). HostModule parses bodies for the host's own routes.
  const app = await NestFactory.create<NestExpressApplication>(HostModule, { bodyParser: false });
  app.enableShutdownHooks();
  const port = Number(app.get(ConfigService).get<string>('PORT', '3000'));
  await app.listen(port);
  console.log(`Host app listening on ${await app.getUrl()} (the IAM under /iam/api/v1)`);
}

bootstrap().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
