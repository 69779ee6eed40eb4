import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { type EntityManager, Repository, type SelectQueryBuilder } from 'typeorm';
import { lrn } from '../auth/actions.js';
import { changesOf, created, deleted } from '../audit/audit-event.js';
import { AuditService } from '../audit/audit.service.js';
import { AdministratorsService } from '../auth/administrators.service.js';
import { AuthorizationService } from '../auth/authorization.service.js';
import type { Principal } from '../auth/principal.js';
import { ApiError } from '../common/api-error.js';
import { nameKey } from '../common/names.js';
import type { SsoConfig } from '../config/sso.config.js';
import { isUniqueViolation } from '../database/database-errors.js';
import { IAM_DATA_SOURCE } from '../database/iam-data-source.js';
import { TransactionService } from '../database/transaction.service.js';
import { IAM_SSO_CONFIG } from '../iam.options.js';
import { UNSTORABLE_TEXT } from '../common/validators.js';
import { Profile } from '../profiles/entities/profile.entity.js';
import { Session } from '../sessions/entities/session.entity.js';
import { User } from '../users/entities/user.entity.js';
import { assertPrincipalNameFree, userTarget } from '../users/users.service.js';
import { assertIfMatch, assertProvisioner } from './scim-access.js';
import { ScimError } from './scim-error.js';
import { equalityOn } from './scim-filter.js';
import {
  filterAndSort,
  listResponse,
  MAX_SCANNED_RESOURCES,
  readAttributesQuery,
  readListQuery,
  tooMany,
} from './scim-list.js';
import { applyPatch } from './scim-patch.js';
import {
  isUuid,
  type Json,
  project,
  readUser,
  type ScimResource,
  type ScimUserSource,
  toScimUser,
  type UserInput,
} from './scim-resources.js';

/** How many ids one `IN (…)` names (well under SQLite's and PostgreSQL's bounds on parameters). */
const IN_CHUNK = 1000;

/**
 * SCIM Users (RFC 7643 section 4.1) over the IAM's users: userName ↔ name, displayName ↔ display_name,
 * name.formatted ↔ profile full_name, the primary e-mail ↔ profile email_address, externalId, active.
 *
 * Who may do what (see the README, "Provisioning with SCIM"): a service account allowed `iam:ScimProvision` on
 * `iam:user:<name>` sees and provisions that user; changing or deleting an existing user also needs the token to hold
 * everything that user holds (AuthorizationService.assertMayActOn: administrators are for administrators only), and a
 * user named in IAM_ADMINISTRATORS is created by an administrator's token only. userName cannot change (400
 * `mutability`): names are what policies name.
 */
@Injectable()
export class ScimUsersService {
  constructor(
    @InjectRepository(User, IAM_DATA_SOURCE) private readonly users: Repository<User>,
    @Inject(IAM_SSO_CONFIG) private readonly config: SsoConfig,
    private readonly authorization: AuthorizationService,
    private readonly administrators: AdministratorsService,
    private readonly tx: TransactionService,
    private readonly audit: AuditService,
  ) {}

  async list(principal: Principal, rawQuery: Record<string, unknown>, baseUrl: string): Promise<ScimResource> {
    assertProvisioner(principal);
    const query = readListQuery(rawQuery);
    const select = this.users.createQueryBuilder('u').leftJoinAndSelect('u.profile', 'p');
    const policy = await this.authorization.listCondition(principal, 'iam:ScimProvision', 'user', 'u.name_key');
    if (policy) {
      select.andWhere(policy.sql, policy.params);
    }
    const indexed = query.filter && equalityOn(query.filter, ['userName', 'externalId', 'id']);
    if (indexed && UNSTORABLE_TEXT.test(indexed.value)) {
      return listResponse([], 0, query); // no stored value holds NUL (and PostgreSQL cannot compare with it)
    }
    if (indexed) {
      if (indexed.attr === 'userName') {
        select.andWhere('u.name_key = :key', { key: nameKey(indexed.value) });
      } else if (indexed.attr === 'externalId') {
        select.andWhere('u.external_id = :externalId', { externalId: indexed.value });
      } else if (isUuid(indexed.value)) {
        select.andWhere('u.id = :id', { id: indexed.value.toLowerCase() });
      } else {
        return listResponse([], 0, query);
      }
    }
    if ((query.filter && !indexed) || query.sortBy) {
      if ((await select.getCount()) > MAX_SCANNED_RESOURCES) {
        throw tooMany('user');
      }
      const resources = (await this.sources(await select.getMany())).map((user) => toScimUser(user, baseUrl));
      const kept = filterAndSort(resources, query);
      return listResponse(kept.slice(query.startIndex - 1, query.startIndex - 1 + query.count), kept.length, query);
    }
    const total = await select.getCount();
    const rows = await this.page(select, query.startIndex - 1, query.count);
    return listResponse(
      (await this.sources(rows)).map((user) => toScimUser(user, baseUrl)),
      total,
      query,
    );
  }

  async get(
    principal: Principal,
    id: string,
    rawQuery: Record<string, unknown>,
    baseUrl: string,
  ): Promise<ScimResource> {
    assertProvisioner(principal);
    const { attributes, excludedAttributes: excluded } = readAttributesQuery(rawQuery);
    const user = isUuid(id)
      ? await this.users.findOne({ where: { id: id.toLowerCase() }, relations: { profile: true } })
      : null;
    if (!user || !(await this.authorization.isAllowed(principal, 'iam:ScimProvision', lrn('user', user.name)))) {
      throw userNotFound(id);
    }
    const [source] = await this.sources([user]);
    return project(toScimUser(source, baseUrl), attributes, excluded);
  }

  async create(principal: Principal, body: Json, baseUrl: string): Promise<ScimResource> {
    assertProvisioner(principal);
    const input = readUser(body, this.config.scimLenient);
    const resource = lrn('user', input.userName);
    await this.authorization.assertAllowed(principal, 'iam:ScimProvision', resource);
    this.authorization.assertMayCreateAdministrator(
      principal,
      this.administrators.isAdministrator(input.userName),
      'iam:ScimProvision',
      resource,
    );
    const user = {
      id: randomUUID(),
      name: input.userName,
      nameKey: nameKey(input.userName),
      displayName: input.displayName,
      metadata: {},
      passwordHash: null,
      createdAt: new Date(),
      lastSeenAt: null,
      active: input.active ?? true,
      externalId: input.externalId,
      updatedAt: null,
    };
    try {
      await this.tx.runKeepingAuthority(async (em) => {
        await this.tx.lockPrincipalNames(em);
        try {
          await assertPrincipalNameFree(em, input.userName);
        } catch (error) {
          throw error instanceof ApiError && error.getStatus() === 409 ? ScimError.uniqueness(error.title) : error;
        }
        await em.insert(User, user);
        if (input.fullName !== null || input.emailAddress !== null) {
          await em.insert(Profile, { userId: user.id, fullName: input.fullName, emailAddress: input.emailAddress });
        }
        await this.audit.record(em, {
          actor: principal,
          action: 'iam:CreateUser',
          target: userTarget(user),
          changes: created({
            name: user.name,
            display_name: user.displayName,
            external_id: user.externalId,
            active: user.active,
            full_name: input.fullName,
            email_address: input.emailAddress,
          }),
        });
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw ScimError.uniqueness(
          `A user named "${input.userName}" already exists (names are compared without regard to case)`,
        );
      }
      throw error;
    }
    return this.get(principal, user.id, {}, baseUrl);
  }

  /** PUT: the user becomes what the body says (attributes not sent are cleared; `active` not sent is kept). */
  replace(principal: Principal, id: string, body: Json, ifMatch: string | undefined, baseUrl: string) {
    return this.update(principal, id, ifMatch, baseUrl, () => body);
  }

  /** PATCH: the operations applied to the user as SCIM renders it, then stored as a PUT would be. */
  patch(principal: Principal, id: string, body: Json, ifMatch: string | undefined, baseUrl: string) {
    return this.update(principal, id, ifMatch, baseUrl, (current) =>
      applyPatch(current, body, this.config.scimLenient),
    );
  }

  async delete(principal: Principal, id: string, ifMatch: string | undefined, baseUrl: string): Promise<void> {
    assertProvisioner(principal);
    await this.tx.run(async (em) => {
      const { user, current } = await this.lockForChange(em, principal, id, baseUrl);
      assertIfMatch(ifMatch, current);
      await em.delete(User, { id: user.id });
      await this.audit.record(em, {
        actor: principal,
        action: 'iam:DeleteUser',
        target: userTarget(user),
        changes: deleted({ name: user.name, display_name: user.displayName, external_id: user.externalId }),
      });
    });
  }

  private async update(
    principal: Principal,
    id: string,
    ifMatch: string | undefined,
    baseUrl: string,
    next: (current: ScimResource) => Json,
  ): Promise<ScimResource> {
    assertProvisioner(principal);
    const now = new Date();
    await this.tx.run(async (em) => {
      const { user, current } = await this.lockForChange(em, principal, id, baseUrl);
      assertIfMatch(ifMatch, current);
      const input = readUser(next(current), this.config.scimLenient);
      if (nameKey(input.userName) !== user.nameKey) {
        throw ScimError.scim(
          'mutability',
          `userName cannot change here (from "${user.name}" to "${input.userName}"): policies name users by it`,
        );
      }
      await this.store(em, principal, user, input, now);
    });
    return this.get(principal, id, {}, baseUrl);
  }

  /**
   * The user locked (FOR UPDATE; lock order: see TransactionService), with what SCIM shows of it; 404 `noTarget` when
   * there is none or the token may not provision it, 403 when it holds more than the token does.
   */
  private async lockForChange(em: EntityManager, principal: Principal, id: string, baseUrl: string) {
    const user = isUuid(id) ? await em.findOne(User, { where: { id: id.toLowerCase() }, lock: this.tx.rowLock }) : null;
    if (!user || !(await this.authorization.isAllowed(principal, 'iam:ScimProvision', lrn('user', user.name)))) {
      throw userNotFound(id);
    }
    await this.authorization.assertMayActOn(
      principal,
      { kind: 'user', id: user.id, name: user.name, isAdmin: this.administrators.isAdministrator(user.name) },
      'iam:ScimProvision',
      lrn('user', user.name),
      em,
    );
    user.profile = await em.findOne(Profile, { where: { userId: user.id } });
    const [source] = await this.sources([user], em);
    return { user, current: toScimUser(source, baseUrl) };
  }

  /** Writes the changes of `input` to the locked user, and one iam:UpdateUser event with them. */
  private async store(em: EntityManager, principal: Principal, user: User, input: UserInput, now: Date): Promise<void> {
    const before = {
      display_name: user.displayName,
      external_id: user.externalId,
      active: user.active,
      full_name: user.profile?.fullName ?? null,
      email_address: user.profile?.emailAddress ?? null,
    };
    const after = {
      display_name: input.displayName,
      external_id: input.externalId,
      active: input.active ?? user.active,
      full_name: input.fullName,
      email_address: input.emailAddress,
    };
    const changes = changesOf(before, after);
    if (Object.keys(changes).length === 0) {
      return;
    }
    await em.update(
      User,
      { id: user.id },
      { displayName: after.display_name, externalId: after.external_id, active: after.active, updatedAt: now },
    );
    if (changes.full_name || changes.email_address) {
      if (user.profile) {
        await em.update(Profile, { userId: user.id }, { fullName: after.full_name, emailAddress: after.email_address });
      } else {
        await em.insert(Profile, { userId: user.id, fullName: after.full_name, emailAddress: after.email_address });
      }
    }
    if (before.active && !after.active) {
      // Deactivated: every session ends with this transaction (run() moves the authority version, so cached
      // principals go too: at once here, within the cross-instance window elsewhere).
      await em.delete(Session, { userId: user.id });
    }
    await this.audit.record(em, { actor: principal, action: 'iam:UpdateUser', target: userTarget(user), changes });
  }

  /** A page of the query's users in creation order (then id). */
  private page(select: SelectQueryBuilder<User>, offset: number, limit: number): Promise<User[]> {
    if (limit === 0) {
      return Promise.resolve([]);
    }
    return select.orderBy('u.created_at', 'ASC').addOrderBy('u.id', 'ASC').skip(offset).take(limit).getMany();
  }

  /** Users (profile loaded) with their groups, as the mappers take them: a statement per IN_CHUNK users. */
  private async sources(users: User[], em: EntityManager = this.users.manager): Promise<ScimUserSource[]> {
    const groups = new Map<string, { id: string; displayName: string }[]>();
    for (let i = 0; i < users.length; i += IN_CHUNK) {
      const ids = users.slice(i, i + IN_CHUNK).map((user) => user.id);
      const rows = await em
        .createQueryBuilder()
        .select(['ug.user_id AS user_id', 'g.id AS id', 'g.display_name AS display_name'])
        .from('user_groups', 'ug')
        .innerJoin('groups', 'g', 'g.id = ug.group_id')
        .where('ug.user_id IN (:...ids)', { ids })
        .getRawMany<{ user_id: string; id: string; display_name: string }>();
      for (const row of rows) {
        groups.set(row.user_id, [...(groups.get(row.user_id) ?? []), { id: row.id, displayName: row.display_name }]);
      }
    }
    return users.map((user) => ({
      id: user.id,
      name: user.name,
      displayName: user.displayName,
      externalId: user.externalId,
      active: user.active,
      createdAt: user.createdAt,
      updatedAt: user.updatedAt,
      fullName: user.profile?.fullName ?? null,
      emailAddress: user.profile?.emailAddress ?? null,
      groups: groups.get(user.id) ?? [],
    }));
  }
}

const userNotFound = (id: string) => ScimError.noTarget(`User ${JSON.stringify(id.slice(0, 100))} not found`);
