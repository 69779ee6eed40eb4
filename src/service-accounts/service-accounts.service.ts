import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { type EntityManager, Not, Repository } from 'typeorm';
import { type IamAction, lrn } from '../auth/actions.js';
import { AdministratorsService, BUILTIN_ADMIN_NAME } from '../auth/administrators.service.js';
import { auditTarget, changesOf, created, deleted, isoOrNull, secretChanged } from '../audit/audit-event.js';
import { AuditService } from '../audit/audit.service.js';
import { AuthorizationService } from '../auth/authorization.service.js';
import type { Authenticated } from '../auth/principal-cache.js';
import type { Principal } from '../auth/principal.js';
import { digestsEqual, hashSecret } from '../auth/tokens.js';
import { ApiError } from '../common/api-error.js';
import { yieldToEventLoop } from '../common/event-loop.js';
import type { PrincipalListQueryDto } from '../common/dto/list-query.dto.js';
import { patchMetadata } from '../common/metadata.js';
import { containsPattern, listBody, PageTokenService } from '../pagination/page-token.service.js';
import { nameKey } from '../common/names.js';
import { parseRfc3339DateTime } from '../common/validators.js';
import type { AuthConfig } from '../config/auth.config.js';
import { IAM_AUTH_CONFIG, IAM_PROCESS_KIND, type IamProcessKind } from '../iam.options.js';
import { ConfigurationError } from '../config/env.validation.js';
import { isUniqueViolation } from '../database/database-errors.js';
import { hydrate, selectColumns } from '../database/raw-rows.js';
import { TransactionService } from '../database/transaction.service.js';
import type { SetGroupsDto } from '../groups/dto/set-groups.dto.js';
import { GroupsService } from '../groups/groups.service.js';
import { User } from '../users/entities/user.entity.js';
import { assertPrincipalNameFree } from '../users/users.service.js';
import type { CreateServiceAccountDto } from './dto/create-service-account.dto.js';
import {
  type ServiceAccountDto,
  type ServiceAccountListDto,
  type ServiceAccountWithTokenDto,
  toServiceAccountDto,
} from './dto/service-account-response.dto.js';
import type { UpdateServiceAccountDto } from './dto/update-service-account.dto.js';
import { ServiceAccount } from './entities/service-account.entity.js';
import {
  generateServiceAccountToken,
  isWellFormedServiceAccountToken,
  SERVICE_ACCOUNT_TOKEN_PREFIX,
} from './service-account-token.js';
import { IAM_DATA_SOURCE } from '../database/iam-data-source.js';

const MAX_TOKEN_LENGTH = 512;
const DAY_MS = 24 * 60 * 60 * 1000;

@Injectable()
export class ServiceAccountsService implements OnApplicationBootstrap {
  private readonly logger = new Logger(ServiceAccountsService.name);

  constructor(
    @InjectRepository(ServiceAccount, IAM_DATA_SOURCE) private readonly accounts: Repository<ServiceAccount>,
    @Inject(IAM_AUTH_CONFIG) private readonly config: AuthConfig,
    private readonly administrators: AdministratorsService,
    private readonly authorization: AuthorizationService,
    private readonly groups: GroupsService,
    private readonly tx: TransactionService,
    private readonly pages: PageTokenService,
    private readonly audit: AuditService,
    @Inject(IAM_PROCESS_KIND) private readonly processKind: IamProcessKind,
  ) {}

  /** Service accounts as API ServiceAccounts, with their groups (compactGroupsOfMany: a fixed few statements). */
  async toDtos(accounts: ServiceAccount[]): Promise<ServiceAccountDto[]> {
    const groups = await this.groups.compactGroupsOfMany(
      'service_account',
      accounts.map((account) => account.id),
    );
    return accounts.map((account) => toServiceAccountDto(account, this.isAdmin(account), groups.get(account.id)!));
  }

  /**
   * A page of the service accounts the caller may list (iam:ListServiceAccounts, decided in the query), in name
   * order (names are lower-case), after the page token's key: one statement for the page (limit + 1 rows, along the
   * name index), and toDtos()'s fixed few for their groups.
   */
  async list(principal: Principal, query: PrincipalListQueryDto): Promise<ServiceAccountListDto> {
    const select = this.accounts.manager
      .createQueryBuilder()
      .select(selectColumns(this.accounts.metadata, 'sa', 'sa_'))
      .from('service_accounts', 'sa');
    const policy = await this.authorization.listCondition(
      principal,
      'iam:ListServiceAccounts',
      'service-account',
      'sa.name',
    );
    if (policy) {
      select.andWhere(policy.sql, policy.params);
    }
    if (query.q !== undefined) {
      select.andWhere(`(sa.name LIKE :q ESCAPE '\\' OR lower(sa.display_name) LIKE :q ESCAPE '\\')`, {
        q: containsPattern(query.q),
      });
    }
    if (query.group !== undefined) {
      select.andWhere(
        'EXISTS (SELECT 1 FROM service_account_groups sg INNER JOIN groups g ON g.id = sg.group_id ' +
          'WHERE sg.service_account_id = sa.id AND g.name = :group)',
        { group: query.group.toLowerCase() },
      );
    }
    const page = await this.pages.page(
      'service-accounts',
      query,
      select,
      'sa.name',
      (rows) => rows.getRawMany<Record<string, unknown>>(),
      (row) => row.sa_name as string,
    );
    await yieldToEventLoop();
    const dataSource = this.accounts.manager.connection;
    const accounts = page.rows.map((row) => hydrate<ServiceAccount>(dataSource, this.accounts.metadata, row, 'sa_')!);
    return listBody(await this.toDtos(accounts), page);
  }

  async get(name: string): Promise<ServiceAccountDto> {
    const account = await this.accounts.findOne({ where: { name: nameKey(name) } });
    if (!account) {
      throw ApiError.notFound(`Service account "${name}" not found`);
    }
    const [dto] = await this.toDtos([account]);
    return dto;
  }

  /**
   * Creates the account and its token; the token is in this answer and nowhere else, ever. `administrator`: an
   * administrator by its own flag, whatever IAM_ADMINISTRATORS says, like the built-in `admin` account (the admin
   * CLI's `--admin`; the API has no way to ask for it). Only administrators create administrators.
   */
  async create(
    principal: Principal,
    dto: CreateServiceAccountDto,
    { administrator = false }: { administrator?: boolean } = {},
  ): Promise<ServiceAccountWithTokenDto> {
    // A service account named in IAM_ADMINISTRATORS would be an administrator too.
    this.authorization.assertMayCreateAdministrator(
      principal,
      administrator || this.administrators.isAdministrator(dto.name),
      'iam:CreateServiceAccount',
      lrn('service-account', dto.name),
    );
    const expiresAt = this.tokenExpiry(dto.token_expires_at);
    const token = generateServiceAccountToken();
    const account = this.accounts.create({
      id: randomUUID(),
      name: dto.name,
      displayName: dto.display_name ?? dto.name,
      description: dto.description ?? '',
      metadata: dto.metadata ?? {},
      tokenHash: hashSecret(token),
      tokenExpiresAt: expiresAt,
      tokenFromBootstrap: false,
      isBuiltinAdmin: administrator,
      createdAt: new Date(),
      lastSeenAt: null,
    });
    try {
      await this.tx.runKeepingAuthority(async (em) => {
        await this.tx.lockPrincipalNames(em);
        await assertPrincipalNameFree(em, dto.name);
        await em.insert(ServiceAccount, account);
        await this.audit.record(em, {
          actor: principal,
          action: 'iam:CreateServiceAccount',
          target: auditTarget('service-account', account.name),
          changes: {
            ...created({
              name: account.name,
              display_name: account.displayName,
              description: account.description,
              metadata: account.metadata,
              token_expires_at: isoOrNull(account.tokenExpiresAt),
            }),
            token: secretChanged(),
          },
        });
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw ApiError.conflict(`A service account named "${dto.name}" already exists`);
      }
      throw error;
    }
    return { ...(await this.get(account.name)), token };
  }

  async update(principal: Principal, name: string, dto: UpdateServiceAccountDto): Promise<ServiceAccountDto> {
    await this.tx.runKeepingAuthority(async (em) => {
      const account = await this.lockByName(em, name);
      await this.assertMayActOn(principal, account, 'iam:UpdateServiceAccount', em);
      const changes: Partial<ServiceAccount> = {};
      if (dto.display_name !== undefined) {
        changes.displayName = dto.display_name;
      }
      if (dto.description !== undefined) {
        changes.description = dto.description;
      }
      if (dto.metadata !== undefined) {
        changes.metadata = patchMetadata(account.metadata, dto.metadata);
      }
      if (Object.keys(changes).length > 0) {
        await em.update(ServiceAccount, { id: account.id }, changes);
      }
      await this.audit.record(em, {
        actor: principal,
        action: 'iam:UpdateServiceAccount',
        target: auditTarget('service-account', account.name),
        changes: changesOf(
          { display_name: account.displayName, description: account.description, metadata: account.metadata },
          { display_name: changes.displayName, description: changes.description, metadata: changes.metadata },
        ),
      });
    });
    return this.get(name);
  }

  /** Deletes the account: its token stops working at once (there is nothing left to match it). */
  async delete(principal: Principal, name: string): Promise<void> {
    await this.tx.run(async (em) => {
      const account = await this.lockByName(em, name);
      await this.assertMayActOn(principal, account, 'iam:DeleteServiceAccount', em);
      await em.delete(ServiceAccount, { id: account.id });
      await this.audit.record(em, {
        actor: principal,
        action: 'iam:DeleteServiceAccount',
        target: auditTarget('service-account', account.name),
        changes: deleted({
          name: account.name,
          display_name: account.displayName,
          description: account.description,
          metadata: account.metadata,
        }),
      });
    });
  }

  /** A new token replaces the old one, which is refused from this moment. */
  async renewToken(principal: Principal, name: string, tokenExpiresAt?: string): Promise<ServiceAccountWithTokenDto> {
    const expiresAt = this.tokenExpiry(tokenExpiresAt);
    const token = generateServiceAccountToken();
    await this.tx.run(async (em) => {
      const account = await this.lockByName(em, name);
      await this.assertMayActOn(principal, account, 'iam:RenewServiceAccountToken', em);
      await em.update(
        ServiceAccount,
        { id: account.id },
        { tokenHash: hashSecret(token), tokenExpiresAt: expiresAt, tokenFromBootstrap: false },
      );
      await this.audit.record(em, {
        actor: principal,
        action: 'iam:RenewServiceAccountToken',
        target: auditTarget('service-account', account.name),
        changes: {
          token: secretChanged(),
          ...changesOf(
            { token_expires_at: isoOrNull(account.tokenExpiresAt) },
            { token_expires_at: isoOrNull(expiresAt) },
          ),
        },
      });
    });
    return { ...(await this.get(name)), token };
  }

  /** Same semantics as a user's groups; needs iam:UpdateGroupMembers on every group touched. */
  async setGroups(principal: Principal, name: string, dto: SetGroupsDto): Promise<ServiceAccountDto> {
    await this.tx.run(async (em) => {
      const found = await em.findOne(ServiceAccount, { where: { name: nameKey(name) }, select: { id: true } });
      if (!found) {
        throw ApiError.notFound(`Service account "${name}" not found`);
      }
      // The groups are locked before the account (lock order: see TransactionService).
      const groups = await this.groups.changeGroupsOf(
        principal,
        em,
        {
          kind: 'service_account',
          id: found.id,
          lock: async () => {
            const account = await this.lockByName(em, name);
            await this.assertMayActOn(principal, account, 'iam:SetServiceAccountGroups', em);
            return account.id;
          },
        },
        dto,
      );
      await this.audit.record(em, {
        actor: principal,
        action: 'iam:SetServiceAccountGroups',
        target: auditTarget('service-account', nameKey(name)),
        changes: groups,
      });
    });
    return this.get(name);
  }

  /** The principal behind a bearer token, and its token's expiry; 401 when malformed, unknown or expired. */
  async authenticate(token: string): Promise<Authenticated> {
    if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
      throw ApiError.unauthorised('Invalid token');
    }
    if (token.startsWith(SERVICE_ACCOUNT_TOKEN_PREFIX) && !isWellFormedServiceAccountToken(token)) {
      throw ApiError.unauthorised('Malformed token (checksum mismatch): check that it was copied whole');
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
      throw ApiError.unauthorised(`Token expired at ${account.tokenExpiresAt.toISOString()}: renew it`);
    }
    return {
      principal: { kind: 'service_account', id: account.id, name: account.name, isAdmin: this.isAdmin(account) },
      expiresAt: account.tokenExpiresAt,
    };
  }

  /**
   * The built-in `admin` service account. With IAM_BOOTSTRAP_TOKEN it authenticates with exactly
   * that token (its stored hash follows the variable). Without it, and with no administrator at all,
   * it is created with a fresh token that is logged this once. Not in the admin CLI (IamProcessKind): its environment
   * may lack the service's IAM_BOOTSTRAP_TOKEN, and it has no log for a new token to go to.
   */
  async onApplicationBootstrap(): Promise<void> {
    if (this.processKind === 'cli') {
      return;
    }
    try {
      await this.ensureBuiltinAdmin();
    } catch (error) {
      // Another instance created it at the same moment: theirs stands.
      if (!isUniqueViolation(error)) {
        throw error;
      }
    }
  }

  private isAdmin(account: Pick<ServiceAccount, 'name' | 'isBuiltinAdmin'>): boolean {
    return this.administrators.isAdministrator(account.name, account.isBuiltinAdmin);
  }

  /** No takeover: see AuthorizationService.assertMayActOn. */
  private assertMayActOn(principal: Principal, account: ServiceAccount, action: IamAction, em: EntityManager) {
    return this.authorization.assertMayActOn(
      principal,
      { kind: 'service_account', id: account.id, name: account.name, isAdmin: this.isAdmin(account) },
      action,
      lrn('service-account', account.name),
      em,
    );
  }

  /** Validates a requested expiry: in the future, and within IAM_SA_TOKEN_MAX_TTL_DAYS when that is set. */
  private tokenExpiry(requested: string | undefined): Date | null {
    const maxDays = this.config.saTokenMaxTtlDays;
    const field = 'token_expires_at';
    if (requested === undefined) {
      if (maxDays !== undefined) {
        throw ApiError.invalidField(field, 'required', `${field} is required: tokens may live at most ${maxDays} days`);
      }
      return null;
    }
    const at = parseRfc3339DateTime(requested);
    if (!at) {
      // The DTOs' validator refuses it first; never fall back to new Date(), which guesses.
      throw ApiError.invalidField(field, 'invalid_format', `${field} must be an RFC 3339 date-time with a time zone`);
    }
    const now = Date.now();
    if (at.getTime() <= now) {
      throw ApiError.invalidField(field, 'invalid_value', `${field} must be in the future`);
    }
    if (maxDays !== undefined && at.getTime() > now + maxDays * DAY_MS) {
      throw ApiError.invalidField(field, 'invalid_value', `${field} may be at most ${maxDays} days ahead`);
    }
    return at;
  }

  private async lockByName(em: EntityManager, name: string): Promise<ServiceAccount> {
    const account = await em.findOne(ServiceAccount, { where: { name: nameKey(name) }, lock: this.tx.rowLock });
    if (!account) {
      throw ApiError.notFound(`Service account "${name}" not found`);
    }
    return account;
  }

  private async ensureBuiltinAdmin(): Promise<void> {
    const configuredToken = this.config.bootstrapToken;
    // Under the principal-names lock, so that no user of that name appears between the check and the insert.
    // Logged once committed: the unit of work may run more than once (TransactionService.run).
    const { freshToken, accountExisted, tokenChanged, revoked, sharedWith } = await this.tx.run(async (em) => {
      await this.tx.lockPrincipalNames(em);
      const existing = await em.findOne(ServiceAccount, {
        where: { name: BUILTIN_ADMIN_NAME },
        select: { id: true, tokenHash: true, isBuiltinAdmin: true, tokenExpiresAt: true, tokenFromBootstrap: true },
      });
      const user = await em.findOne(User, { where: { nameKey: BUILTIN_ADMIN_NAME }, select: { id: true, name: true } });
      const insert = async (tokenHash: string, tokenFromBootstrap: boolean) => {
        if (user) {
          throw builtinAdminNameTaken(user.name);
        }
        await em.insert(ServiceAccount, this.builtinAdmin(tokenHash, tokenFromBootstrap));
      };
      const sharedWith = existing && user ? user.name : null;
      if (configuredToken !== undefined) {
        const digest = hashSecret(configuredToken);
        if (!existing) {
          await insert(digest, true);
          return { freshToken: null, accountExisted: false, tokenChanged: false, revoked: false, sharedWith };
        }
        const tokenChanged =
          existing.tokenHash !== digest || !existing.isBuiltinAdmin || existing.tokenExpiresAt !== null;
        if (tokenChanged || !existing.tokenFromBootstrap) {
          await em.update(
            ServiceAccount,
            { id: existing.id },
            { tokenHash: digest, isBuiltinAdmin: true, tokenExpiresAt: null, tokenFromBootstrap: true },
          );
        }
        return { freshToken: null, accountExisted: true, tokenChanged, revoked: false, sharedWith };
      }
      // No IAM_BOOTSTRAP_TOKEN (any more): the token it set stops working.
      const revoked = existing?.isBuiltinAdmin === true && existing.tokenFromBootstrap && existing.tokenHash !== null;
      if (revoked) {
        await em.update(ServiceAccount, { id: existing.id }, { tokenHash: null, tokenFromBootstrap: false });
      }
      const usable = existing?.isBuiltinAdmin === true && existing.tokenHash !== null && !revoked;
      if (usable || (await this.anAdministratorExists(em))) {
        return { freshToken: null, accountExisted: true, tokenChanged: false, revoked, sharedWith };
      }
      // No administrator could sign in: as at first start, `admin` gets a token, printed once.
      const token = generateServiceAccountToken();
      if (existing) {
        // Also an `admin` account an earlier release let someone create: it becomes the built-in one, without
        // the expiry its creator chose (which would lock the operators out).
        await em.update(
          ServiceAccount,
          { id: existing.id },
          { tokenHash: hashSecret(token), isBuiltinAdmin: true, tokenExpiresAt: null, tokenFromBootstrap: false },
        );
      } else {
        await insert(hashSecret(token), false);
      }
      return { freshToken: token, accountExisted: existing !== null, tokenChanged: false, revoked, sharedWith };
    });
    if (sharedWith !== null) {
      this.logger.error(
        `The user "${sharedWith}" and the built-in service account "${BUILTIN_ADMIN_NAME}" share one name ` +
          '(an earlier release allowed it): delete that user, or rename it in the database',
      );
    }
    if (tokenChanged) {
      this.logger.log('IAM_BOOTSTRAP_TOKEN changed: the admin service account now uses the new token');
    }
    if (revoked) {
      this.logger.warn(
        `IAM_BOOTSTRAP_TOKEN is no longer set: the token it gave the service account "${BUILTIN_ADMIN_NAME}" ` +
          'is revoked' +
          (freshToken ? '' : '; an administrator may issue a new one (POST …/service-accounts/admin/renew-token)'),
      );
    }
    if (freshToken) {
      const account = `service account "${BUILTIN_ADMIN_NAME}"`;
      this.logger.warn(
        `No administrator exists: ${accountExisted ? `gave ${account} a new token` : `created ${account}`}. ` +
          `Its token is shown this once, store it now: ${freshToken}`,
      );
    }
  }

  /**
   * Whether an administrator other than the built-in account exists: a principal named in IAM_ADMINISTRATORS, or a
   * service account the admin CLI made an administrator (`create-service-account --admin`).
   */
  private async anAdministratorExists(em: EntityManager): Promise<boolean> {
    if (await em.exists(ServiceAccount, { where: { isBuiltinAdmin: true, name: Not(BUILTIN_ADMIN_NAME) } })) {
      return true;
    }
    const names = this.administrators.configuredNames().filter((name) => name !== BUILTIN_ADMIN_NAME);
    if (names.length === 0) {
      return false;
    }
    const users = await em.createQueryBuilder(User, 'u').where('u.name_key IN (:...names)', { names }).getCount();
    const accounts = await em
      .createQueryBuilder(ServiceAccount, 'sa')
      .where('sa.name IN (:...names)', { names })
      .getCount();
    return users + accounts > 0;
  }

  private builtinAdmin(tokenHash: string, tokenFromBootstrap: boolean): Partial<ServiceAccount> {
    return {
      id: randomUUID(),
      name: BUILTIN_ADMIN_NAME,
      displayName: 'Administrator',
      description: 'Built-in administrator service account',
      metadata: {},
      tokenHash,
      tokenExpiresAt: null,
      tokenFromBootstrap,
      isBuiltinAdmin: true,
      createdAt: new Date(),
      lastSeenAt: null,
    };
  }
}

/**
 * A user holds the built-in account's name (possible only with data from before the name was reserved):
 * creating the account would give two principals one name, so the service does not start.
 */
function builtinAdminNameTaken(userName: string): ConfigurationError {
  return new ConfigurationError(
    `Cannot create the built-in service account "${BUILTIN_ADMIN_NAME}": a user named "${userName}" holds ` +
      'that name (users and service accounts share one namespace, without regard to case). Delete that user, ' +
      'or rename it in the database, then start again. To delete it through the API, start once without ' +
      'IAM_BOOTSTRAP_TOKEN and with IAM_ADMINISTRATORS naming an existing principal you can authenticate as, and ' +
      `send DELETE /api/v1/users/${encodeURIComponent(userName)}.`,
  );
}
