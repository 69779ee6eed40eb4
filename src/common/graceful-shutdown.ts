import type { Server } from 'node:http';
import { type BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { appConfig, type AppConfig } from '../config/app.config.js';
import { EnvironmentVariables } from '../config/env.validation.js';

/** How often idle keep-alive connections are closed while the server drains. */
const IDLE_SWEEP_MS = 100;

const defaults = new EnvironmentVariables();

/**
 * The deadline of a shutdown (SIGTERM, or app.close()). Nest's shutdown sequence runs this hook, then closes
 * the HTTP server, which stops accepting connections and waits for the open ones, and only then closes the
 * database. While it waits, connections are closed as soon as they are idle (their request answered), and
 * when SHUTDOWN_TIMEOUT_SECONDS have passed every connection still open is closed, a client stalling in
 * the middle of a request body included, so that the process can exit.
 */
@Injectable()
export class GracefulShutdown implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Shutdown');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {}

  beforeApplicationShutdown(signal?: string): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server?.listening) {
      return;
    }
    const timeoutSeconds = this.config.shutdownTimeoutSeconds ?? defaults.SHUTDOWN_TIMEOUT_SECONDS;
    this.logger.log(
      { signal, timeout_seconds: timeoutSeconds },
      `Shutting down${signal ? ` on ${signal}` : ''}: no new connections; requests in flight have ${timeoutSeconds} s to finish`,
    );
    const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS).unref();
    const deadline = setTimeout(() => {
      this.logger.warn(
        { timeout_seconds: timeoutSeconds },
        'Shutdown deadline reached: closing the connections still open',
      );
      server.closeAllConnections();
    }, timeoutSeconds * 1000).unref();
    server.once('close', () => {
      clearInterval(sweep);
      clearTimeout(deadline);
    });
  }
}
