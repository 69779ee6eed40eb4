import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import type { SsoConfig } from '../config/sso.config.js';
import { IAM_DATA_SOURCE } from '../database/iam-data-source.js';
import { TransactionService } from '../database/transaction.service.js';
import { IAM_PROCESS_KIND, IAM_SSO_CONFIG, type IamProcessKind } from '../iam.options.js';
import { IamKey } from '../pagination/entities/iam-key.entity.js';

const KEY_NAME = 'sso-state';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * The state of a single sign-on between the redirect to the provider and its answer (OIDC: state, nonce, PKCE
 * verifier, where to go after), kept by the browser in a short-lived HttpOnly cookie: sealed with AES-256-GCM under a
 * key the service keeps in its database (every instance and restart shares it), so that it can be neither read nor
 * forged nor moved to another purpose, and expiring with it. No server-side store to share between instances.
 */
@Injectable()
export class SsoStateService implements OnApplicationBootstrap {
  private key?: Promise<Buffer>;

  constructor(
    @InjectRepository(IamKey, IAM_DATA_SOURCE) private readonly keys: Repository<IamKey>,
    @Inject(IAM_SSO_CONFIG) private readonly config: SsoConfig,
    @Inject(IAM_PROCESS_KIND) private readonly processKind: IamProcessKind,
    private readonly tx: TransactionService,
  ) {}

  /** At start-up when single sign-on is on, so that no sign-in writes the key. */
  async onApplicationBootstrap(): Promise<void> {
    if (this.processKind !== 'cli' && this.config.oidc) {
      await this.stateKey();
    }
  }

  /** `payload` sealed for `purpose`, good until `expiresAt`. */
  async seal(purpose: string, payload: Record<string, unknown>, expiresAt: Date): Promise<string> {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', await this.stateKey(), iv);
    cipher.setAAD(Buffer.from(purpose));
    const body = Buffer.concat([
      cipher.update(JSON.stringify({ ...payload, exp: expiresAt.getTime() })),
      cipher.final(),
    ]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  /** What `sealed` holds, when it was sealed here for `purpose` and has not expired; null otherwise. */
  async open(purpose: string, sealed: string | undefined): Promise<Record<string, unknown> | null> {
    if (!sealed || sealed.length > 4096 || !/^[A-Za-z0-9_-]+$/.test(sealed)) {
      return null;
    }
    const bytes = Buffer.from(sealed, 'base64url');
    if (bytes.length <= IV_BYTES + TAG_BYTES) {
      return null;
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', await this.stateKey(), bytes.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(purpose));
      decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      const text = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString();
      const payload = JSON.parse(text) as Record<string, unknown>;
      return typeof payload.exp === 'number' && payload.exp > Date.now() ? payload : null;
    } catch {
      return null; // tampered with, or sealed under another key
    }
  }

  /** The key row, inserted if absent (by whichever instance comes first), then read; retried after a failure. */
  private stateKey(): Promise<Buffer> {
    this.key ??= (async () => {
      const value = randomBytes(32).toString('base64url');
      await this.tx.write((em) =>
        em
          .createQueryBuilder()
          .insert()
          .into(IamKey)
          .values({ name: KEY_NAME, value, createdAt: new Date() })
          .orIgnore()
          .execute(),
      );
      const row = await this.keys.findOneOrFail({ where: { name: KEY_NAME }, select: { name: true, value: true } });
      return Buffer.from(row.value, 'base64url');
    })().catch((error: unknown) => {
      this.key = undefined;
      throw error;
    });
    return this.key;
  }
}
