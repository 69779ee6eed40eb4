import { Global, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { type ThrottlerModuleOptions, ThrottlerModule } from '@nestjs/throttler';
import type { AuthConfig } from '../config/auth.config.js';
import { IAM_AUTH_CONFIG } from '../iam.options.js';
import { CredentialFailuresService } from './credential-failures.service.js';
import { rateLimitThrottlers } from './rate-limits.js';

/** A Redis command that takes longer fails (503) instead of holding the request. */
const REDIS_TIMEOUT_MS = 2000;

/**
 * The store closes its connection in onModuleDestroy, which Nest runs before GracefulShutdown lets the requests in
 * flight finish (beforeApplicationShutdown): they would answer 503. This one closes it once they are done.
 */
class DrainingRedisStorage extends ThrottlerStorageRedisService implements OnApplicationShutdown {
  override onModuleDestroy(): void {
    // See onApplicationShutdown.
  }

  onApplicationShutdown(): void {
    this.redis.disconnect(false);
  }
}

/**
 * Redis (REDIS_URL) for the counters, so that every instance counts together; without it each instance
 * counts in its own memory. The connection is logged once when it fails and once when it is back.
 */
function redisStorage(redis: NonNullable<AuthConfig['redis']>): ThrottlerStorageRedisService {
  const log = new Logger('RateLimitRedis');
  const storage = new DrainingRedisStorage(redis.url, {
    keyPrefix: redis.keyPrefix,
    connectTimeout: REDIS_TIMEOUT_MS,
    commandTimeout: REDIS_TIMEOUT_MS,
    maxRetriesPerRequest: 1,
  });
  let down = false;
  storage.redis.on('error', (error: Error) => {
    if (!down) {
      down = true;
      log.error({ err: error.message }, 'Redis for rate limits is unreachable: limited routes answer 503');
    }
  });
  storage.redis.on('ready', () => {
    if (down) {
      down = false;
      log.log('Redis for rate limits is reachable again');
    }
  });
  return storage;
}

function throttlerOptions(config: AuthConfig): ThrottlerModuleOptions {
  return {
    throttlers: rateLimitThrottlers(config),
    storage: config.redis ? redisStorage(config.redis) : undefined,
    // No X-RateLimit-* headers; a 429 carries Retry-After (RateLimitGuard).
    setHeaders: false,
  };
}

/**
 * Rate limits: the throttler's options and store (global, for RateLimitGuard on the routes that name a limit
 * with @RateLimit()) and the count of failed credential checks per client address.
 */
@Global()
@Module({
  imports: [ThrottlerModule.forRootAsync({ inject: [IAM_AUTH_CONFIG], useFactory: throttlerOptions })],
  providers: [CredentialFailuresService],
  exports: [CredentialFailuresService],
})
export class RateLimitModule {}
