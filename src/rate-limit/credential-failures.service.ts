import { createHash } from 'node:crypto';
import { HttpStatus, Inject, Injectable, Logger } from '@nestjs/common';
import { InjectThrottlerStorage, normalizeIp, type ThrottlerStorage } from '@nestjs/throttler';
import { ApiError } from '../common/api-error.js';
import type { AuthConfig } from '../config/auth.config.js';
import { IAM_AUTH_CONFIG } from '../iam.options.js';
import { rateLimitStoreUnavailable } from './rate-limit.guard.js';

type StorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

const FAILURES = 'auth-failures';
const BLOCKED = 'auth-blocked';

/**
 * Counts failed credential checks (a bearer token, a session cookie or a password that did not check out)
 * per client address, in the throttler's store (Redis when configured, so every instance sees the same
 * count). After IAM_AUTH_FAILURE_LIMIT of them in a window the address is blocked for a window: every request
 * from it that carries credentials is a 429 before they are looked at, so that guessing a token or a password stops
 * there, whether the guess would have been right or not.
 *
 * The store offers one operation, increment(), and its contract is that a key whose hits exceeded the limit
 * stays blocked for blockDuration whatever the limit of later calls. Failures are counted on one key; the
 * block is a second key, set by one hit against a limit of 0 and read by a hit against an unreachable
 * limit (with a 1 ms window, so that reading leaves nothing to count).
 */
@Injectable()
export class CredentialFailuresService {
  private readonly log = new Logger(CredentialFailuresService.name);
  private readonly windowMs: number;

  constructor(
    @InjectThrottlerStorage() private readonly storage: ThrottlerStorage,
    @Inject(IAM_AUTH_CONFIG) private readonly config: AuthConfig,
  ) {
    this.windowMs = config.loginRateWindowSeconds * 1000;
  }

  /** 429 with Retry-After while `address` is blocked. */
  async assertNotBlocked(address: string | undefined): Promise<void> {
    const record = await this.hit(this.key(BLOCKED, address), 1, Number.MAX_SAFE_INTEGER, BLOCKED);
    if (record.isBlocked) {
      const seconds = Math.max(1, record.timeToBlockExpire);
      throw new ApiError(
        HttpStatus.TOO_MANY_REQUESTS,
        'too_many_requests',
        `Too many failed credentials from this address: try again in ${seconds} s`,
      ).withRetryAfter(seconds);
    }
  }

  /** Counts one failed check from `address`; the limit-th in a window blocks the address for a window. */
  async recordFailure(address: string | undefined): Promise<void> {
    // A key is blocked once its hits exceed the limit given: limit - 1, so that the limit-th failure blocks.
    const limit = this.config.authFailureLimit - 1;
    const failures = await this.hit(this.key(FAILURES, address), this.windowMs, limit, FAILURES);
    if (failures.isBlocked) {
      await this.hit(this.key(BLOCKED, address), 1, 0, BLOCKED);
    }
  }

  private async hit(key: string, ttl: number, limit: number, name: string): Promise<StorageRecord> {
    try {
      return await this.storage.increment(key, ttl, limit, this.windowMs, name);
    } catch (error) {
      this.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'Rate-limit store failed');
      throw rateLimitStoreUnavailable();
    }
  }

  /** A digest, as the throttler's own keys are: no address is stored in clear. */
  private key(kind: string, address: string | undefined): string {
    return createHash('sha256')
      .update(`${kind}-${normalizeIp(address ?? 'unknown')}`)
      .digest('hex');
  }
}
