import { type ExecutionContext, HttpStatus, Injectable, Logger } from '@nestjs/common';
import { ThrottlerGuard, type ThrottlerLimitDetail } from '@nestjs/throttler';
import { ApiError } from '../common/api-error.js';

/** Seconds a client is asked to wait when the rate-limit store cannot be reached. */
const STORE_UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/** The answer while the rate-limit store (Redis) cannot be reached: the limits are not waived. */
export const rateLimitStoreUnavailable = () =>
  new ApiError(
    HttpStatus.SERVICE_UNAVAILABLE,
    'service_unavailable',
    'The rate-limit store is unavailable: try again shortly',
  ).withRetryAfter(STORE_UNAVAILABLE_RETRY_AFTER_SECONDS);

/**
 * @nestjs/throttler's guard with the project's error body: a 429 `too_many_requests` with Retry-After (in
 * seconds). Bound to routes with @RateLimit(), never globally. A store that fails is a 503, not a 500.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  private readonly log = new Logger(RateLimitGuard.name);

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    try {
      return await super.canActivate(context);
    } catch (error) {
      if (error instanceof ApiError) {
        throw error;
      }
      this.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'Rate-limit store failed');
      throw rateLimitStoreUnavailable();
    }
  }

  protected override throwThrottlingException(_context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const seconds = Math.max(1, detail.timeToBlockExpire);
    throw new ApiError(
      HttpStatus.TOO_MANY_REQUESTS,
      'too_many_requests',
      `Too many attempts: try again in ${seconds} s`,
    ).withRetryAfter(seconds);
  }
}
