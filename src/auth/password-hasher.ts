import { Inject, Injectable } from '@nestjs/common';
import argon2, { type HashOptions } from 'argon2';
import type { AuthConfig } from '../config/auth.config.js';
import { IAM_AUTH_CONFIG } from '../iam.options.js';

/**
 * argon2id, at the cost set by IAM_PASSWORD_HASH_MEMORY_KIB, IAM_PASSWORD_HASH_TIME_COST and
 * IAM_PASSWORD_HASH_PARALLELISM (by default the library's: m=64 MiB, t=3, p=4). A hash carries the settings
 * it was made with, so hashes made at another cost still verify. argon2 runs on libuv's thread pool, so
 * hashing never blocks the event loop.
 */
@Injectable()
export class PasswordHasher {
  private dummyHash?: Promise<string>;
  private readonly options: HashOptions;

  constructor(@Inject(IAM_AUTH_CONFIG) config: AuthConfig) {
    this.options = {
      type: argon2.argon2id,
      memoryCost: config.passwordHash.memoryKib,
      timeCost: config.passwordHash.timeCost,
      parallelism: config.passwordHash.parallelism,
    };
  }

  hash(password: string): Promise<string> {
    return argon2.hash(password, this.options);
  }

  async verify(hash: string | null | undefined, password: string): Promise<boolean> {
    if (!hash) {
      // Spend the same time as a real check, so that "no such user" and "wrong password" look alike.
      this.dummyHash ??= this.hash('not-a-real-password');
      await argon2.verify(await this.dummyHash, password).catch(() => false);
      return false;
    }
    return argon2.verify(hash, password).catch(() => false);
  }
}
