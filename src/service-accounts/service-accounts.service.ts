import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AdministratorsService } from '../auth/administrators.service.js';
import type { Principal } from '../auth/principal.js';
import { digestsEqual, generateSecret, hashSecret } from '../auth/tokens.js';
import { ApiError } from '../common/api-error.js';
import { authConfig, type AuthConfig } from '../config/auth.config.js';
import { isUniqueViolation } from '../database/database-errors.js';
import { TransactionService } from '../database/transaction.service.js';
import { User } from '../users/entities/user.entity.js';
import { type ServiceAccountDto, toServiceAccountDto } from './dto/service-account-response.dto.js';
import { ServiceAccount } from './entities/service-account.entity.js';

export const BUILTIN_ADMIN_NAME = 'admin';
const MAX_TOKEN_LENGTH = 512;

@Injectable()
export class ServiceAccountsService implements OnApplicationBootstrap {
  private readonly logger = new Logger(ServiceAccountsService.name);

  constructor(
    @InjectRepository(ServiceAccount) private readonly accounts: Repository<ServiceAccount>,
    @Inject(authConfig.KEY) private readonly config: AuthConfig,
    private readonly administrators: AdministratorsService,
    private readonly tx: TransactionService,
  ) {}

  toDto(account: ServiceAccount): ServiceAccountDto {
    return toServiceAccountDto(account, this.administrators.isAdministrator(account.name, account.isBuiltinAdmin));
  }

  async list(): Promise<ServiceAccountDto[]> {
    const accounts = await this.accounts.find({ order: { name: 'ASC' } });
    return accounts.map((account) => this.toDto(account));
  }

  async get(name: string): Promise<ServiceAccountDto> {
    const account = await this.accounts.findOne({ where: { name } });
    if (!account) {
      throw ApiError.notFound(`Service account "${name}" not found`);
    }
    return this.toDto(account);
  }

  /** The principal behind a bearer token; 401 when unknown or expired. */
  async authenticate(token: string): Promise<Principal> {
    if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
      throw ApiError.unauthorised('Invalid token');
    }
    const digest = hashSecret(token);
    const account = await this.accounts.findOne({
      where: { tokenHash: digest },
      select: { id: true, name: true, tokenHash: true, tokenExpiresAt: true, isBuiltinAdmin: true },
    });
    if (!account?.tokenHash || !digestsEqual(account.tokenHash, digest)) {
      throw ApiError.unauthorised('Invalid token');
    }
    const now = new Date();
    if (account.tokenExpiresAt && account.tokenExpiresAt <= now) {
      throw ApiError.unauthorised(`Token expired at ${account.tokenExpiresAt.toISOString()}`);
    }
    await this.tx.run((em) => em.update(ServiceAccount, { id: account.id }, { lastSeenAt: now }));
    return {
      kind: 'service_account',
      id: account.id,
      name: account.name,
      isAdmin: this.administrators.isAdministrator(account.name, account.isBuiltinAdmin),
    };
  }

  /**
   * The built-in `admin` service account. With IAM_BOOTSTRAP_TOKEN it authenticates with exactly
   * that token (its stored hash follows the variable). Without it, and with no administrator at all,
   * it is created with a fresh token that is logged this once.
   */
  async onApplicationBootstrap(): Promise<void> {
    try {
      await this.ensureBuiltinAdmin();
    } catch (error) {
      // Another instance created it at the same moment: theirs stands.
      if (!isUniqueViolation(error)) {
        throw error;
      }
    }
  }

  private async ensureBuiltinAdmin(): Promise<void> {
    const configuredToken = this.config.bootstrapToken;
    const freshToken = await this.tx.run(async (em) => {
      const existing = await em.findOne(ServiceAccount, {
        where: { name: BUILTIN_ADMIN_NAME },
        select: { id: true, tokenHash: true, isBuiltinAdmin: true, tokenExpiresAt: true },
        lock: this.tx.rowLock,
      });
      if (configuredToken !== undefined) {
        const digest = hashSecret(configuredToken);
        if (!existing) {
          await em.insert(ServiceAccount, this.builtinAdmin(digest));
        } else if (existing.tokenHash !== digest || !existing.isBuiltinAdmin || existing.tokenExpiresAt) {
          await em.update(
            ServiceAccount,
            { id: existing.id },
            { tokenHash: digest, isBuiltinAdmin: true, tokenExpiresAt: null },
          );
          this.logger.log('IAM_BOOTSTRAP_TOKEN changed: the admin service account now uses the new token');
        }
        return null;
      }
      if (existing?.isBuiltinAdmin || (await this.anAdministratorExists(em.getRepository(User)))) {
        return null;
      }
      const token = generateSecret();
      if (existing) {
        await em.update(ServiceAccount, { id: existing.id }, { tokenHash: hashSecret(token), isBuiltinAdmin: true });
      } else {
        await em.insert(ServiceAccount, this.builtinAdmin(hashSecret(token)));
      }
      return token;
    });
    if (freshToken) {
      this.logger.warn(
        `No administrator exists: created service account "${BUILTIN_ADMIN_NAME}". ` +
          `Its token is shown this once, store it now: ${freshToken}`,
      );
    }
  }

  private async anAdministratorExists(users: Repository<User>): Promise<boolean> {
    const names = this.administrators.configuredNames();
    if (names.length === 0) {
      return false;
    }
    const [userCount, accountCount] = await Promise.all([
      users.createQueryBuilder('u').where('u.name_key IN (:...names)', { names }).getCount(),
      users.manager.createQueryBuilder(ServiceAccount, 'sa').where('sa.name IN (:...names)', { names }).getCount(),
    ]);
    return userCount + accountCount > 0;
  }

  private builtinAdmin(tokenHash: string): Partial<ServiceAccount> {
    return {
      id: randomUUID(),
      name: BUILTIN_ADMIN_NAME,
      displayName: 'Administrator',
      description: 'Built-in administrator service account',
      metadata: {},
      tokenHash,
      tokenExpiresAt: null,
      isBuiltinAdmin: true,
      createdAt: new Date(),
      lastSeenAt: null,
    };
  }
}
