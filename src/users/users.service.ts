import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { type EntityManager, Repository } from 'typeorm';
import { type IamAction, lrn } from '../auth/actions.js';
import { auditTarget, changesOf, created, deleted, isoOrNull } from '../audit/audit-event.js';
import { AuditService } from '../audit/audit.service.js';
import { AdministratorsService, BUILTIN_ADMIN_NAME } from '../auth/administrators.service.js';
import { AuthorizationService } from '../auth/authorization.service.js';
import type { Principal } from '../auth/principal.js';
import { ApiError } from '../common/api-error.js';
import { yieldToEventLoop } from '../common/event-loop.js';
import { patchMetadata } from '../common/metadata.js';
import type { PrincipalListQueryDto } from '../common/dto/list-query.dto.js';
import { nameKey } from '../common/names.js';
import { containsPattern, listBody, PageTokenService } from '../pagination/page-token.service.js';
import { isUniqueViolation } from '../database/database-errors.js';
import { hydrate, queryRows, selectColumns } from '../database/raw-rows.js';
import { Profile } from '../profiles/entities/profile.entity.js';
import { TransactionService } from '../database/transaction.service.js';
import { GroupsService } from '../groups/groups.service.js';
import type { CreateUserDto } from './dto/create-user.dto.js';
import type { SetGroupsDto } from '../groups/dto/set-groups.dto.js';
import type { UpdateUserDto } from './dto/update-user.dto.js';
import { type AuthMethod, toUserDto, type UserDto, type UserListDto } from './dto/user-response.dto.js';
import { User } from './entities/user.entity.js';
import { IAM_DATA_SOURCE } from '../database/iam-data-source.js';

/** Names are unique and looked up without regard to case, in their canonical form (see names.ts). */
export const userNameKey = (name: string) => nameKey(name);

/** A user's LRN as audit events carry it: by the key it is stored under (lower case). */
export const userTarget = (user: Pick<User, 'nameKey'>) => auditTarget('user', user.nameKey);

/**
 * The stored key of the user a name given in a request refers to. Normally the name's canonical key, so
 * that `josé` typed in NFC or NFD, or in fullwidth letters, finds the one user. A user stored before the
 * name rules under a name that is not canonical (`josé` in NFD) keeps being found by exactly that name.
 */
export async function userKeyOf(em: EntityManager, name: string): Promise<string> {
  const key = userNameKey(name);
  const exact = name.toLowerCase();
  if (exact === key) {
    return key;
  }
  return (await em.exists(User, { where: { nameKey: exact } })) ? exact : key;
}

@Injectable()
export class UsersService {
  constructor(
    @InjectRepository(User, IAM_DATA_SOURCE) private readonly users: Repository<User>,
    private readonly groups: GroupsService,
    private readonly administrators: AdministratorsService,
    private readonly authorization: AuthorizationService,
    private readonly tx: TransactionService,
    private readonly pages: PageTokenService,
    private readonly audit: AuditService,
  ) {}

  /**
   * Users (profile loaded) as API Users, with their groups (compactGroupsOfMany: a fixed few statements for any number
   * of users). `viewer` sees `locked_until` on the users it may unlock (iam:UnlockUser); without one nobody's is shown.
   */
  private async toDtos(users: User[], viewer?: Principal): Promise<UserDto[]> {
    const mayUnlock = new Set(
      viewer
        ? await this.authorization.filterAllowed(viewer, 'iam:UnlockUser', users, (user) => lrn('user', user.name))
        : [],
    );
    const ids = users.map((user) => user.id);
    const groups = await this.groups.compactGroupsOfMany('user', ids);
    const methods = await this.authMethodsOf(ids);
    return users.map((user) =>
      toUserDto(
        user,
        this.administrators.isAdministrator(user.name),
        groups.get(user.id)!,
        methods.get(user.id) ?? [],
        mayUnlock.has(user),
      ),
    );
  }

  /**
   * How each of these users can sign in (AuthMethod): whether a password is set (the hash itself is never read out)
   * and the methods of their single sign-on identities. One statement, whatever the number of users.
   */
  private async authMethodsOf(ids: string[]): Promise<Map<string, AuthMethod[]>> {
    const methods = new Map<string, AuthMethod[]>();
    if (ids.length === 0) {
      return methods;
    }
    const [sql, parameters] = this.users.manager.connection.driver.escapeQueryWithParameters(
      `SELECT "u"."id" AS "user_id", 'password' AS "method" FROM "users" "u" ` +
        `WHERE "u"."id" IN (:...ids) AND "u"."password_hash" IS NOT NULL ` +
        `UNION SELECT "i"."user_id" AS "user_id", "i"."method" AS "method" FROM "user_identities" "i" ` +
        `WHERE "i"."user_id" IN (:...ids)`,
      { ids },
    );
    const rows = await this.users.manager.query<{ user_id: string; method: AuthMethod }[]>(sql, parameters);
    for (const row of rows) {
      methods.set(row.user_id, [...(methods.get(row.user_id) ?? []), row.method]);
    }
    return methods;
  }

  /**
   * A page of the users the caller may list (iam:ListUsers, decided in the query), in name order (without regard
   * to case), after the page token's key: one statement for the page with the users' profiles (limit + 1 rows, along
   * the name_key index), and toDtos()'s fixed few for their groups, whatever the table's size.
   */
  async list(principal: Principal, query: PrincipalListQueryDto): Promise<UserListDto> {
    const dataSource = this.users.manager.connection;
    const profiles = dataSource.getMetadata(Profile);
    const select = this.users.manager
      .createQueryBuilder()
      .select(`${selectColumns(this.users.metadata, 'u', 'u_')}, ${selectColumns(profiles, 'p', 'p_')}`)
      .from('users', 'u')
      .leftJoin('user_profiles', 'p', 'p.user_id = u.id');
    const policy = await this.authorization.listCondition(principal, 'iam:ListUsers', 'user', 'u.name_key');
    if (policy) {
      select.andWhere(policy.sql, policy.params);
    }
    if (query.q !== undefined) {
      select.andWhere(
        `(u.name_key LIKE :q ESCAPE '\\' OR lower(u.display_name) LIKE :q ESCAPE '\\' OR ` +
          `lower(p.email_address) LIKE :q ESCAPE '\\')`,
        { q: containsPattern(query.q) },
      );
    }
    if (query.group !== undefined) {
      select.andWhere(
        'EXISTS (SELECT 1 FROM user_groups ug INNER JOIN groups g ON g.id = ug.group_id ' +
          'WHERE ug.user_id = u.id AND g.name = :group)',
        { group: query.group.toLowerCase() },
      );
    }
    const page = await this.pages.page(
      'users',
      query,
      select,
      'u.name_key',
      (rows) => rows.getRawMany<Record<string, unknown>>(),
      (row) => row.u_name_key as string,
    );
    await yieldToEventLoop();
    const users = page.rows.map((row) => {
      const user = hydrate<User>(dataSource, this.users.metadata, row, 'u_')!;
      user.profile = hydrate<Profile>(dataSource, profiles, row, 'p_');
      return user;
    });
    return listBody(await this.toDtos(users, principal), page);
  }

  async get(name: string, viewer?: Principal): Promise<UserDto> {
    const user = await this.read('name_key', await userKeyOf(this.users.manager, name));
    if (!user) {
      throw ApiError.notFound(`User "${name}" not found`);
    }
    return this.toDto(user, viewer);
  }

  async getById(id: string, viewer?: Principal): Promise<UserDto> {
    const user = await this.read('id', id);
    if (!user) {
      throw ApiError.notFound('User not found');
    }
    return this.toDto(user, viewer);
  }

  /**
   * One user (profile loaded, groups not) by a unique column: a hand-written statement (raw-rows.ts), since reading
   * a user is on the path of most requests (GET /users/{name}, /users/me).
   */
  private async read(column: 'id' | 'name_key', value: string): Promise<User | null> {
    const dataSource = this.users.manager.connection;
    const users = this.users.metadata;
    const profiles = dataSource.getMetadata(Profile);
    const [row] = await queryRows(
      dataSource,
      `SELECT ${selectColumns(users, 'u', 'u_')}, ${selectColumns(profiles, 'p', 'p_')} FROM "users" "u" ` +
        `LEFT JOIN "user_profiles" "p" ON "p"."user_id" = "u"."id" WHERE "u"."${column}" = :value`,
      { value },
    );
    if (!row) {
      return null;
    }
    const user = hydrate<User>(dataSource, users, row, 'u_')!;
    user.profile = hydrate<Profile>(dataSource, profiles, row, 'p_');
    return user;
  }

  /** One user as an API User: its groups (one statement) and, for a viewer who may lift it, its lockout. */
  private async toDto(user: User, viewer?: Principal): Promise<UserDto> {
    const groups = await this.groups.compactGroupsOf('user', user.id);
    const mayUnlock = viewer
      ? await this.authorization.isAllowed(viewer, 'iam:UnlockUser', lrn('user', user.name))
      : false;
    const methods = (await this.authMethodsOf([user.id])).get(user.id) ?? [];
    return toUserDto(user, this.administrators.isAdministrator(user.name), groups, methods, mayUnlock);
  }

  async create(principal: Principal, dto: CreateUserDto): Promise<UserDto> {
    // Creating a principal named in IAM_ADMINISTRATORS creates an administrator.
    this.authorization.assertMayCreateAdministrator(
      principal,
      this.administrators.isAdministrator(dto.name),
      'iam:CreateUser',
      lrn('user', dto.name),
    );
    const user = this.users.create({
      id: randomUUID(),
      name: dto.name,
      nameKey: userNameKey(dto.name),
      displayName: dto.display_name ?? dto.name,
      metadata: dto.metadata ?? {},
      passwordHash: null,
      createdAt: new Date(),
      lastSeenAt: null,
    });
    try {
      await this.tx.runKeepingAuthority(async (em) => {
        await this.tx.lockPrincipalNames(em);
        await assertPrincipalNameFree(em, dto.name);
        await em.insert(User, user);
        await this.audit.record(em, {
          actor: principal,
          action: 'iam:CreateUser',
          target: userTarget(user),
          changes: created({ name: user.name, display_name: user.displayName, metadata: user.metadata }),
        });
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw ApiError.conflict(
          `A user named "${dto.name}" already exists (names are compared without regard to case)`,
        );
      }
      throw error;
    }
    return this.get(user.name, principal);
  }

  async update(principal: Principal, name: string, dto: UpdateUserDto): Promise<UserDto> {
    await this.tx.runKeepingAuthority(async (em) => {
      const user = await this.lockByName(em, name);
      await this.assertMayActOn(principal, user, 'iam:UpdateUser', em);
      const changes: Partial<User> = {};
      if (dto.display_name !== undefined) {
        changes.displayName = dto.display_name;
      }
      if (dto.metadata !== undefined) {
        changes.metadata = patchMetadata(user.metadata, dto.metadata);
      }
      if (Object.keys(changes).length > 0) {
        await em.update(User, { id: user.id }, { ...changes, updatedAt: new Date() });
      }
      await this.audit.record(em, {
        actor: principal,
        action: 'iam:UpdateUser',
        target: userTarget(user),
        changes: changesOf(
          { display_name: user.displayName, metadata: user.metadata },
          { display_name: changes.displayName, metadata: changes.metadata },
        ),
      });
    });
    return this.get(name, principal);
  }

  /** Deletes the user; profile, settings, sessions and memberships go with it (ON DELETE CASCADE). */
  async delete(principal: Principal, name: string): Promise<void> {
    await this.tx.run(async (em) => {
      const user = await this.lockByName(em, name);
      await this.assertMayActOn(principal, user, 'iam:DeleteUser', em);
      await em.delete(User, { id: user.id });
      await this.audit.record(em, {
        actor: principal,
        action: 'iam:DeleteUser',
        target: userTarget(user),
        changes: deleted({ name: user.name, display_name: user.displayName, metadata: user.metadata }),
      });
    });
  }

  /**
   * Changes the user's memberships in one transaction; nothing changes when any group is missing. Needs
   * iam:UpdateGroupMembers on every group added or removed, and administrator rights for an administrator.
   */
  async setGroups(principal: Principal, name: string, dto: SetGroupsDto): Promise<UserDto> {
    await this.tx.run(async (em) => {
      const found = await em.findOne(User, {
        where: { nameKey: await userKeyOf(em, name) },
        select: { id: true, nameKey: true },
      });
      if (!found) {
        throw ApiError.notFound(`User "${name}" not found`);
      }
      // The groups are locked before the user (lock order: see TransactionService).
      const groups = await this.groups.changeGroupsOf(
        principal,
        em,
        {
          kind: 'user',
          id: found.id,
          lock: async () => {
            const user = await this.lockByName(em, name);
            await this.assertMayActOn(principal, user, 'iam:SetUserGroups', em);
            return user.id;
          },
        },
        dto,
      );
      await this.audit.record(em, {
        actor: principal,
        action: 'iam:SetUserGroups',
        target: userTarget(found),
        changes: groups,
      });
    });
    return this.get(name, principal);
  }

  /** Lifts the user's lockout (and forgets its failed password checks). */
  async unlock(principal: Principal, name: string): Promise<void> {
    await this.tx.run(async (em) => {
      const user = await this.lockByName(em, name);
      await this.assertMayActOn(principal, user, 'iam:UnlockUser', em);
      await em.update(User, { id: user.id }, { lockedUntil: null, failedLogins: 0, failedLoginsSince: null });
      await this.audit.record(em, {
        actor: principal,
        action: 'iam:UnlockUser',
        target: userTarget(user),
        // As the API shows it: a lock that has run out is none.
        changes: changesOf(
          { locked_until: user.lockedUntil && user.lockedUntil > new Date() ? isoOrNull(user.lockedUntil) : null },
          { locked_until: null },
        ),
      });
    });
  }

  /** The user row (no relations) by name, or a 404. */
  async findEntityOrFail(name: string): Promise<User> {
    const user = await this.users.findOne({ where: { nameKey: await userKeyOf(this.users.manager, name) } });
    if (!user) {
      throw ApiError.notFound(`User "${name}" not found`);
    }
    return user;
  }

  /**
   * No takeover: acting on a user in a way that hands it over needs the caller to hold everything that user holds
   * (AuthorizationService.assertMayActOn; administrators are for administrators only).
   */
  assertMayActOn(
    principal: Principal,
    user: Pick<User, 'id' | 'name'>,
    action: IamAction,
    em?: EntityManager,
  ): Promise<void> {
    return this.authorization.assertMayActOn(
      principal,
      { kind: 'user', id: user.id, name: user.name, isAdmin: this.administrators.isAdministrator(user.name) },
      action,
      lrn('user', user.name),
      em,
    );
  }

  private async lockByName(em: EntityManager, name: string): Promise<User> {
    const user = await em.findOne(User, { where: { nameKey: await userKeyOf(em, name) }, lock: this.tx.rowLock });
    if (!user) {
      throw ApiError.notFound(`User "${name}" not found`);
    }
    return user;
  }
}

/**
 * Users and service accounts share one namespace (compared without regard to case), in which `admin` is
 * the built-in service account's alone. Call inside a transaction holding TransactionService.lockPrincipalNames.
 */
export async function assertPrincipalNameFree(em: EntityManager, name: string): Promise<void> {
  const key = nameKey(name);
  // Even while that account is deleted: start-up recreates it under this name, with root rights.
  if (key === BUILTIN_ADMIN_NAME) {
    throw ApiError.conflict(
      `The name "${name}" belongs to the built-in service account "${BUILTIN_ADMIN_NAME}", which the service ` +
        'creates itself (names are compared without regard to case)',
    );
  }
  const [users, accounts] = [
    await em.createQueryBuilder().from('users', 'u').where('u.name_key = :key', { key }).getCount(),
    await em.createQueryBuilder().from('service_accounts', 'sa').where('sa.name = :key', { key }).getCount(),
  ];
  if (users + accounts > 0) {
    throw ApiError.conflict(`The name "${name}" is taken by a ${users > 0 ? 'user' : 'service account'}`);
  }
}
