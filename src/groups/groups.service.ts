import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { type EntityManager, In, type ObjectLiteral, Repository, type SelectQueryBuilder } from 'typeorm';
import { lrn } from '../auth/actions.js';
import { type AuditChanges, auditTarget, changesOf, created, deleted, listChange } from '../audit/audit-event.js';
import { AuditService } from '../audit/audit.service.js';
import { AdministratorsService } from '../auth/administrators.service.js';
import { AuthorizationService } from '../auth/authorization.service.js';
import type { Principal } from '../auth/principal.js';
import { ApiError } from '../common/api-error.js';
import type { ListQueryDto } from '../common/dto/list-query.dto.js';
import { patchMetadata } from '../common/metadata.js';
import { containsPattern, listBody, PageTokenService } from '../pagination/page-token.service.js';
import { nameKey } from '../common/names.js';
import { LRUCache } from 'lru-cache';
import { AuthorityVersionService } from '../database/authority-version.service.js';
import { isUniqueViolation } from '../database/database-errors.js';
import { hydrate, queryRows, selectColumns } from '../database/raw-rows.js';
import { TransactionService } from '../database/transaction.service.js';
import { toCompactRole } from '../roles/dto/role-response.dto.js';
import { Role } from '../roles/entities/role.entity.js';
import { RolesService } from '../roles/roles.service.js';
import type { CreateGroupDto } from './dto/create-group.dto.js';
import type { SetGroupsDto } from './dto/set-groups.dto.js';
import {
  type CompactGroupDto,
  type GroupCounts,
  type GroupDto,
  type GroupListDto,
  type GroupMemberDto,
  toCompactGroupDto,
} from './dto/group-response.dto.js';
import type { UpdateGroupDto } from './dto/update-group.dto.js';
import { Group } from './entities/group.entity.js';
import { IAM_DATA_SOURCE } from '../database/iam-data-source.js';

export type MemberKind = 'user' | 'service_account';

/** The junction table that holds a kind of principal's memberships. */
export const MEMBERSHIP = {
  user: { table: 'user_groups', column: 'user_id', entityTable: 'users', key: 'name_key', lrnKind: 'user' },
  service_account: {
    table: 'service_account_groups',
    column: 'service_account_id',
    entityTable: 'service_accounts',
    key: 'name',
    lrnKind: 'service-account',
  },
} as const;

/** A membership change as requested: `set` alone, or `add` and/or `remove` (removal wins). */
export interface MembershipChange {
  add?: string[];
  remove?: string[];
  set?: string[];
}

/** The groups a membership change really adds and removes, and the names of those the principal was in. */
export interface MembershipPlan {
  add: Group[];
  remove: Group[];
  current: string[];
}

/**
 * The principal whose groups change (PUT /users/{name}/groups, PUT /service-accounts/{name}/groups). Its
 * groups are locked before the principal itself (lock order: see TransactionService).
 */
export interface GroupsChangeTarget {
  kind: MemberKind;
  /** The principal's id as read without a lock, to find the groups it is in before locking it. */
  id: string;
  /** Locks the principal (FOR UPDATE) and checks that the caller may act on it; answers its id. */
  lock(): Promise<string>;
}

interface ResolvedMember {
  kind: MemberKind;
  id: string;
  name: string;
  isBuiltinAdmin: boolean;
}

@Injectable()
export class GroupsService {
  constructor(
    @InjectRepository(Group, IAM_DATA_SOURCE) private readonly groups: Repository<Group>,
    private readonly roles: RolesService,
    private readonly authorization: AuthorizationService,
    private readonly administrators: AdministratorsService,
    private readonly tx: TransactionService,
    private readonly pages: PageTokenService,
    private readonly authority: AuthorityVersionService,
    private readonly audit: AuditService,
  ) {}

  /** Remembered group counts (countsOf), for the authority generation `countsGeneration`. */
  private readonly counts = new LRUCache<string, GroupCounts>({ max: 100_000 });
  private countsGeneration = -1;

  private get dataSource() {
    return this.groups.manager.connection;
  }

  /**
   * A page of the groups the caller may list (iam:ListGroups, decided in the query), in name order (names are
   * lower-case), after the page token's key: one query for the page (limit + 1 rows, along the name index) and
   * compact()'s three for the counts.
   */
  async list(principal: Principal, query: ListQueryDto): Promise<GroupListDto> {
    const select = this.groups.createQueryBuilder('g');
    const policy = await this.authorization.listCondition(principal, 'iam:ListGroups', 'group', 'g.name');
    if (policy) {
      select.andWhere(policy.sql, policy.params);
    }
    if (query.q !== undefined) {
      select.andWhere(`(g.name LIKE :q ESCAPE '\\' OR lower(g.display_name) LIKE :q ESCAPE '\\')`, {
        q: containsPattern(query.q),
      });
    }
    const page = await this.pages.page(
      'groups',
      query,
      select,
      'g.name',
      (rows) => rows.getMany(),
      (group) => group.name,
    );
    return listBody(await this.compact(this.groups.manager, page.rows), page);
  }

  async get(name: string): Promise<GroupDto> {
    const em = this.groups.manager;
    const group = await em.findOne(Group, { where: { name }, relations: { roles: true } });
    if (!group) {
      throw ApiError.notFound(`Group "${name}" not found`);
    }
    const [compact] = await this.compact(em, [group]);
    const members = async (kind: MemberKind): Promise<GroupMemberDto[]> => {
      const m = MEMBERSHIP[kind];
      const rows = await em
        .createQueryBuilder()
        .select(['p.id AS id', 'p.name AS name', 'p.display_name AS display_name'])
        .from(m.entityTable, 'p')
        .innerJoin(m.table, 'j', `j.${m.column} = p.id`)
        .where('j.group_id = :groupId', { groupId: group.id })
        .orderBy(`p.${m.key}`, 'ASC')
        .getRawMany<{ id: string; name: string; display_name: string }>();
      return rows.map((row) => ({ ...row, lrn: lrn(m.lrnKind, row.name) }));
    };
    return {
      ...compact,
      users: await members('user'),
      service_accounts: await members('service_account'),
      roles: [...group.roles].sort((a, b) => (a.name < b.name ? -1 : 1)).map(toCompactRole),
    };
  }

  async create(principal: Principal, dto: CreateGroupDto): Promise<GroupDto> {
    const resource = lrn('group', dto.name);
    // An sso_name lets the provider put people in the group: as adding members (their roles are bound below).
    if (dto.members?.length || dto.sso_name) {
      await this.authorization.assertAllowed(principal, 'iam:UpdateGroupMembers', resource);
    }
    if (dto.roles?.length) {
      await this.authorization.assertAllowed(principal, 'iam:UpdateGroupRoles', resource);
    }
    const group = this.groups.create({
      id: randomUUID(),
      name: dto.name,
      displayName: dto.display_name ?? dto.name,
      ssoName: dto.sso_name ?? '',
      description: dto.description ?? '',
      metadata: dto.metadata ?? {},
      createdAt: new Date(),
    });
    try {
      await this.tx.run(async (em) => {
        await em.insert(Group, group);
        const roles = await this.roles.findAllOrFail(em, dto.roles ?? [], 'roles');
        const members = await this.resolveMembers(em, dto.members ?? [], 'members');
        await this.authorization.assertMayBind(principal, roles);
        await this.assertMayChangeMembers(principal, em, members, resource);
        await this.bindRoles(em, group, roles);
        await this.addMembers(em, group, members);
        await this.audit.record(em, {
          actor: principal,
          action: 'iam:CreateGroup',
          target: auditTarget('group', group.name),
          changes: created({
            name: group.name,
            display_name: group.displayName,
            sso_name: group.ssoName,
            description: group.description,
            metadata: group.metadata,
            ...(members.length > 0 ? { members: members.map((member) => member.name).sort() } : {}),
            ...(roles.length > 0 ? { roles: roles.map((role) => role.name).sort() } : {}),
          }),
        });
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw ApiError.conflict(`A group named "${dto.name}" already exists`);
      }
      throw error;
    }
    return this.get(group.name);
  }

  async update(principal: Principal, name: string, dto: UpdateGroupDto): Promise<GroupDto> {
    const { add_members: add, remove_members: remove, set_members: set } = dto;
    if (set !== undefined && (add !== undefined || remove !== undefined)) {
      throw ApiError.invalidField(
        'set_members',
        'conflicting',
        'set_members cannot be combined with add_members or remove_members',
      );
    }
    const resource = lrn('group', name);
    if (set !== undefined || add !== undefined || remove !== undefined) {
      await this.authorization.assertAllowed(principal, 'iam:UpdateGroupMembers', resource);
    }
    // The group's sso_name decides whom single sign-on puts in it and takes out: a change of it is a change of members.
    const ssoNameGiven = dto.sso_name !== undefined;
    if (ssoNameGiven) {
      await this.authorization.assertAllowed(principal, 'iam:UpdateGroupMembers', resource);
    }
    if (dto.roles !== undefined) {
      await this.authorization.assertAllowed(principal, 'iam:UpdateGroupRoles', resource);
    }
    await this.tx.run(async (em) => {
      const group = await em.findOne(Group, { where: { name }, lock: this.tx.rowLock });
      if (!group) {
        throw ApiError.notFound(`Group "${name}" not found`);
      }
      const changes: Partial<Group> = {};
      if (dto.display_name !== undefined) {
        changes.displayName = dto.display_name;
      }
      if (dto.description !== undefined) {
        changes.description = dto.description;
      }
      if (ssoNameGiven && dto.sso_name !== group.ssoName) {
        changes.ssoName = dto.sso_name;
      }
      if (dto.metadata !== undefined) {
        changes.metadata = patchMetadata(group.metadata, dto.metadata);
      }
      if (Object.keys(changes).length > 0) {
        await em.update(Group, { id: group.id }, { ...changes, updatedAt: new Date() });
      }
      // Lock order: the group, then the roles, then the principals; role bindings and memberships last.
      const bound = await this.rolesOf(em, [group.id]);
      const roles = dto.roles !== undefined ? await this.roles.findAllOrFail(em, dto.roles, 'roles') : undefined;
      if (changes.ssoName) {
        // Whoever the provider names joins with the group's roles: only roles the caller could bind itself.
        await this.authorization.assertMayBind(principal, roles ?? bound);
      }
      if (roles !== undefined) {
        await this.authorization.assertMayBind(
          principal,
          roles.filter((role) => !bound.some((b) => b.id === role.id)),
        );
        await this.authorization.assertMayUnbind(
          principal,
          bound.filter((b) => !roles.some((role) => role.id === b.id)),
        );
      }
      let members: AuditChanges = {};
      if (set !== undefined || add !== undefined || remove !== undefined) {
        members = await this.changeMembers(
          principal,
          em,
          group,
          { add, remove, set },
          { before: bound, after: roles ?? bound },
        );
      }
      if (roles !== undefined) {
        await em.createQueryBuilder().delete().from('group_roles').where('group_id = :id', { id: group.id }).execute();
        await this.bindRoles(em, group, roles);
      }
      await this.audit.record(em, {
        actor: principal,
        action: 'iam:UpdateGroup',
        target: auditTarget('group', group.name),
        changes: {
          ...changesOf(
            {
              display_name: group.displayName,
              sso_name: group.ssoName,
              description: group.description,
              metadata: group.metadata,
            },
            {
              display_name: changes.displayName,
              sso_name: changes.ssoName,
              description: changes.description,
              metadata: changes.metadata,
            },
          ),
          ...(roles !== undefined
            ? listChange(
                'roles',
                bound.map((role) => role.name),
                roles.map((role) => role.name),
              )
            : {}),
          ...members,
        },
      });
    });
    return this.get(name);
  }

  /**
   * Deletes the group; its memberships and role bindings go with it (ON DELETE CASCADE). Deleting a group
   * takes its members out of it, so a group with an administrator in it is for administrators to delete.
   */
  async delete(principal: Principal, name: string): Promise<void> {
    await this.tx.run(async (em) => {
      const group = await em.findOne(Group, { where: { name }, lock: this.tx.rowLock });
      if (!group) {
        throw ApiError.notFound(`Group "${name}" not found`);
      }
      const members = await this.membersOf(em, group);
      await this.assertMayChangeMembers(principal, em, members, lrn('group', group.name), 'iam:DeleteGroup');
      if (members.length > 0) {
        await this.authorization.assertMayUnbind(principal, await this.rolesOf(em, [group.id]));
      }
      await em.delete(Group, { id: group.id });
      await this.audit.record(em, {
        actor: principal,
        action: 'iam:DeleteGroup',
        target: auditTarget('group', group.name),
        changes: {
          ...deleted({ name: group.name, display_name: group.displayName, description: group.description }),
          ...listChange(
            'members',
            members.map((member) => member.name),
            [],
          ),
        },
      });
    });
  }

  /** Groups as CompactGroups, counts included (countsOf: at most one statement for any number of groups). */
  async compact(em: EntityManager, groups: Group[]): Promise<CompactGroupDto[]> {
    if (groups.length === 0) {
      return [];
    }
    const counts = await this.countsOf(em, [...new Set(groups.map((group) => group.id))]);
    return groups.map((group) => toCompactGroupDto(group, counts.get(group.id)));
  }

  /**
   * The groups of one principal as CompactGroups, counts included, by name: one hand-written statement
   * (raw-rows.ts), plus countsOf()'s, since this is on the path of every read of a user or a service account.
   */
  async compactGroupsOf(kind: Principal['kind'], id: string): Promise<CompactGroupDto[]> {
    const metadata = this.dataSource.getMetadata(Group);
    const membership = kind === 'user' ? ['user_groups', 'user_id'] : ['service_account_groups', 'service_account_id'];
    const rows = await queryRows(
      this.dataSource,
      `SELECT ${selectColumns(metadata, 'g', 'g_')} FROM "${membership[0]}" "m" ` +
        `INNER JOIN "groups" "g" ON "g"."id" = "m"."group_id" WHERE "m"."${membership[1]}" = :id`,
      { id },
    );
    const groups = rows.map((row) => hydrate<Group>(this.dataSource, metadata, row, 'g_')!);
    return (await this.compact(this.groups.manager, groups)).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /**
   * The groups of many principals of one kind (a list's page), as CompactGroups by name, per principal id: one
   * statement for the memberships, one for the distinct groups they name, and countsOf()'s. Reading each group once,
   * not once per membership, keeps a page of 1,000 users in 3 groups to 3,000 two-column rows and a few hundred groups.
   */
  async compactGroupsOfMany(kind: MemberKind, ids: string[]): Promise<Map<string, CompactGroupDto[]>> {
    const byPrincipal = new Map<string, CompactGroupDto[]>(ids.map((id) => [id, []]));
    if (ids.length === 0) {
      return byPrincipal;
    }
    const membership = MEMBERSHIP[kind];
    const memberships = (await queryRows(
      this.dataSource,
      `SELECT "m"."${membership.column}" AS "principal_id", "m"."group_id" AS "group_id" FROM "${membership.table}" "m" ` +
        `WHERE "m"."${membership.column}" IN (:...ids)`,
      { ids },
    )) as { principal_id: string; group_id: string }[];
    const groupIds = [...new Set(memberships.map((row) => row.group_id))];
    if (groupIds.length === 0) {
      return byPrincipal;
    }
    const metadata = this.dataSource.getMetadata(Group);
    const rows = await queryRows(
      this.dataSource,
      `SELECT ${selectColumns(metadata, 'g', 'g_')} FROM "groups" "g" WHERE "g"."id" IN (:...groupIds)`,
      { groupIds },
    );
    const groups = rows.map((row) => hydrate<Group>(this.dataSource, metadata, row, 'g_')!);
    const compact = new Map((await this.compact(this.groups.manager, groups)).map((group) => [group.id, group]));
    for (const row of memberships) {
      // A group deleted between the two reads is left out.
      const group = compact.get(row.group_id);
      if (group) {
        byPrincipal.get(row.principal_id)?.push(group);
      }
    }
    for (const list of byPrincipal.values()) {
      list.sort((a, b) => (a.name < b.name ? -1 : 1));
    }
    return byPrincipal;
  }

  /**
   * The member and role counts of these groups. Counting is as long as a group is big (a list page of users at
   * 100,000 users counted 300,000 memberships), so counts are remembered, for the authority generation they were
   * read in: every change of a membership or a binding moves it (TransactionService.run), which forgets them on
   * this instance at once and on the others at their next reading of the counter. They are shown, never used to
   * decide anything, so they are used even while that reading is late (a saturated pool under load), when the
   * principal cache is not: recounting on every request then made it worse.
   */
  private async countsOf(em: EntityManager, ids: string[]): Promise<Map<string, GroupCounts>> {
    const generation = this.authority.lastKnown();
    if (generation !== this.countsGeneration) {
      this.counts.clear();
      this.countsGeneration = generation;
    }
    const missing = ids.filter((id) => !this.counts.has(id));
    const found = new Map<string, GroupCounts>();
    if (missing.length > 0) {
      const countOf = (table: string) => (query: SelectQueryBuilder<ObjectLiteral>) =>
        query.select('COUNT(*)').from(table, 'j').where('j.group_id = g.id');
      const rows = await em
        .createQueryBuilder()
        .select('g.id', 'id')
        .addSelect(countOf('user_groups'), 'users')
        .addSelect(countOf('service_account_groups'), 'accounts')
        .addSelect(countOf('group_roles'), 'roles')
        .from('groups', 'g')
        .where('g.id IN (:...ids)', { ids: missing })
        .getRawMany<GroupCounts & { id: string }>();
      for (const { id, ...counts } of rows) {
        found.set(id, counts);
        if (generation === this.countsGeneration) {
          this.counts.set(id, counts);
        }
      }
    }
    return new Map(
      ids.flatMap((id) => {
        const counts = found.get(id) ?? this.counts.get(id);
        return counts ? [[id, counts] as const] : [];
      }),
    );
  }

  /**
   * The principal side of membership (PUT /users/{name}/groups, PUT /service-accounts/{name}/groups), in
   * the caller's transaction: `set_groups` alone, or `add_to_groups` and/or `remove_from_groups` (removal
   * wins). Every named group must exist, and the caller needs iam:UpdateGroupMembers on each group the
   * change really adds or removes.
   *
   * Lock order (TransactionService): the groups named, and for `set_groups` the groups the principal is in,
   * are share-locked in id order before the principal is locked.
   */
  async changeGroupsOf(
    principal: Principal,
    em: EntityManager,
    target: GroupsChangeTarget,
    dto: SetGroupsDto,
  ): Promise<AuditChanges> {
    const { add_to_groups: add, remove_from_groups: remove, set_groups: set } = dto;
    const current = set !== undefined ? await this.groupIdsOf(em, target) : [];
    await this.shareLockGroups(em, [...(add ?? []), ...(remove ?? []), ...(set ?? [])], current);
    const member = { kind: target.kind, id: await target.lock() };
    if (set !== undefined && (add !== undefined || remove !== undefined)) {
      throw ApiError.invalidField(
        'set_groups',
        'conflicting',
        'set_groups cannot be combined with add_to_groups or remove_from_groups',
      );
    }
    const plan = await this.planMembership(
      em,
      member,
      { add, remove, set },
      {
        add: 'add_to_groups',
        remove: 'remove_from_groups',
        set: 'set_groups',
      },
    );
    await this.authorizeMembershipPlan(principal, em, plan);
    await this.applyMembership(em, member, plan);
    const removed = new Set(plan.remove.map((group) => group.name));
    return listChange('groups', plan.current, [
      ...plan.current.filter((group) => !removed.has(group)),
      ...plan.add.map((group) => group.name),
    ]);
  }

  /**
   * Works out which groups a principal's membership change really adds and removes. Every named group must
   * exist (404 naming the missing ones, under the request field that named them).
   */
  private async planMembership(
    em: EntityManager,
    member: { kind: MemberKind; id: string },
    change: MembershipChange,
    fields: { add: string; remove: string; set: string },
  ): Promise<MembershipPlan> {
    const currentGroups = await this.groupsOf(em, member);
    const currentIds = new Set(currentGroups.map((group) => group.id));
    const current = currentGroups.map((group) => group.name);
    if (change.set !== undefined) {
      const wanted = (await this.findByFields(em, { [fields.set]: change.set }))[fields.set];
      const wantedIds = new Set(wanted.map((group) => group.id));
      const removedIds = [...currentIds].filter((id) => !wantedIds.has(id));
      // Not locked again: a group the principal joined after shareLockGroups would be locked out of order.
      // Removing the membership needs only its row.
      return {
        add: wanted.filter((group) => !currentIds.has(group.id)),
        remove: currentGroups.filter((group) => removedIds.includes(group.id)),
        current,
      };
    }
    const named = await this.findByFields(em, { [fields.add]: change.add ?? [], [fields.remove]: change.remove ?? [] });
    const toAdd = named[fields.add];
    const toRemove = named[fields.remove];
    const removedNames = new Set(toRemove.map((group) => group.name));
    return {
      add: toAdd.filter((group) => !removedNames.has(group.name) && !currentIds.has(group.id)),
      remove: toRemove.filter((group) => currentIds.has(group.id)),
      current,
    };
  }

  /** The groups a principal is in, with their names (no lock). */
  private async groupsOf(em: EntityManager, member: { kind: MemberKind; id: string }): Promise<Group[]> {
    const m = MEMBERSHIP[member.kind];
    return em
      .createQueryBuilder(Group, 'g')
      .innerJoin(m.table, 'j', 'j.group_id = g.id')
      .where(`j.${m.column} = :id`, { id: member.id })
      .getMany();
  }

  /** The ids of the groups a principal is in (no lock). */
  private async groupIdsOf(em: EntityManager, member: { kind: MemberKind; id: string }): Promise<string[]> {
    const m = MEMBERSHIP[member.kind];
    const rows = await em
      .createQueryBuilder()
      .select('j.group_id', 'group_id')
      .from(m.table, 'j')
      .where(`j.${m.column} = :id`, { id: member.id })
      .getRawMany<{ group_id: string }>();
    return rows.map((row) => row.group_id);
  }

  /**
   * Share-locks the groups with these names or ids, in id order (lock order: see TransactionService); a
   * missing one is skipped (the caller reports it). Nothing to do on SQLite, which is serialised.
   */
  private async shareLockGroups(em: EntityManager, names: string[], ids: string[]): Promise<void> {
    if (!this.tx.shareLock || (names.length === 0 && ids.length === 0)) {
      return;
    }
    await em.find(Group, {
      select: { id: true },
      where: [
        ...(names.length > 0 ? [{ name: In([...new Set(names)]) }] : []),
        ...(ids.length > 0 ? [{ id: In([...new Set(ids)]) }] : []),
      ],
      order: { id: 'ASC' },
      lock: this.tx.shareLock,
    });
  }

  /**
   * No escalation: a principal's groups change only with iam:UpdateGroupMembers on every group touched, and joining
   * a group binds its roles to the principal, so the caller must be able to bind them (AuthorizationService.assertMayBind);
   * leaving one unbinds them, which lifts their denies (assertMayUnbind).
   * (That the caller may act on the principal at all is checked when it is locked.)
   */
  private async authorizeMembershipPlan(principal: Principal, em: EntityManager, plan: MembershipPlan): Promise<void> {
    for (const group of [...plan.add, ...plan.remove]) {
      await this.authorization.assertAllowed(principal, 'iam:UpdateGroupMembers', lrn('group', group.name));
    }
    const joined = await this.rolesOf(
      em,
      plan.add.map((group) => group.id),
    );
    const left = await this.rolesOf(
      em,
      plan.remove.map((group) => group.id),
    );
    await this.authorization.assertMayBind(principal, joined);
    await this.authorization.assertMayUnbind(principal, left);
  }

  /** The roles bound to any of these groups, each once (no lock: see the lock order on TransactionService). */
  private async rolesOf(em: EntityManager, groupIds: string[]): Promise<Role[]> {
    if (groupIds.length === 0) {
      return [];
    }
    const roles = await em
      .createQueryBuilder(Role, 'r')
      .innerJoin('group_roles', 'gr', 'gr.role_id = r.id')
      .where('gr.group_id IN (:...groupIds)', { groupIds })
      .orderBy('r.name')
      .getMany();
    return roles.filter((role, index) => roles.findIndex((other) => other.id === role.id) === index);
  }

  private async applyMembership(em: EntityManager, member: { kind: MemberKind; id: string }, plan: MembershipPlan) {
    const m = MEMBERSHIP[member.kind];
    if (plan.add.length > 0) {
      await em
        .createQueryBuilder()
        .insert()
        .into(m.table)
        .values(plan.add.map((group) => ({ [m.column]: member.id, group_id: group.id })))
        .orIgnore()
        .execute();
    }
    if (plan.remove.length > 0) {
      await em
        .createQueryBuilder()
        .delete()
        .from(m.table)
        .where(`${m.column} = :id`, { id: member.id })
        .andWhere('group_id IN (:...groupIds)', { groupIds: plan.remove.map((group) => group.id) })
        .execute();
    }
  }

  /**
   * The groups named under each request field, inside the caller's transaction and share-locked (a
   * concurrent delete waits). One 404 names every missing group, with an `invalid_fields` entry per field.
   */
  async findByFields(em: EntityManager, fields: Record<string, string[]>): Promise<Record<string, Group[]>> {
    const unique = [...new Set(Object.values(fields).flat())];
    const found =
      unique.length > 0
        ? await em.find(Group, { where: { name: In(unique) }, order: { id: 'ASC' }, lock: this.tx.shareLock })
        : [];
    const byName = new Map(found.map((group) => [group.name, group]));
    const missing = unique.filter((name) => !byName.has(name));
    if (missing.length > 0) {
      const title = `Group${missing.length > 1 ? 's' : ''} not found: ${missing.join(', ')}`;
      const invalidFields = Object.entries(fields)
        .filter(([, names]) => names.some((name) => !byName.has(name)))
        .map(([field, names]) => ({
          name: field,
          error: 'not_found' as const,
          title: `Not found: ${[...new Set(names.filter((name) => !byName.has(name)))].join(', ')}`,
        }));
      throw ApiError.notFound(title, invalidFields);
    }
    return Object.fromEntries(
      Object.entries(fields).map(([field, names]) => [field, [...new Set(names)].map((name) => byName.get(name)!)]),
    );
  }

  private async bindRoles(em: EntityManager, group: Group, roles: Role[]): Promise<void> {
    if (roles.length > 0) {
      await em
        .createQueryBuilder()
        .insert()
        .into('group_roles')
        .values(roles.map((role) => ({ group_id: group.id, role_id: role.id })))
        .orIgnore()
        .execute();
    }
  }

  /**
   * Principals (users or service accounts) by name, share-locked in id order (users, then service
   * accounts); a 404 naming every unknown one.
   */
  private async resolveMembers(em: EntityManager, names: string[], field: string): Promise<ResolvedMember[]> {
    // Each name by its canonical key, and by exactly its own (lower-cased) form for names from before the
    // name rules (see userKeyOf).
    const wanted = [...new Set(names)].map((name) => ({ name, exact: name.toLowerCase(), key: nameKey(name) }));
    const keys = [...new Set(wanted.flatMap((w) => [w.exact, w.key]))];
    if (keys.length === 0) {
      return [];
    }
    const users = await this.shareLocked(em.createQueryBuilder())
      .select(['u.id AS id', 'u.name AS name', 'u.name_key AS key'])
      .from('users', 'u')
      .where('u.name_key IN (:...keys)', { keys })
      .orderBy('u.id')
      .getRawMany<{ id: string; name: string; key: string }>();
    const accounts = await this.shareLocked(em.createQueryBuilder())
      .select(['sa.id AS id', 'sa.name AS name', 'sa.is_builtin_admin AS builtin'])
      .from('service_accounts', 'sa')
      .where('sa.name IN (:...keys)', { keys })
      .orderBy('sa.id')
      .getRawMany<{ id: string; name: string; builtin: boolean | number }>();
    const userKeys = new Set(users.map((u) => u.key));
    const chosenKeys = new Set(wanted.map((w) => (userKeys.has(w.exact) ? w.exact : w.key)));
    const resolved: ResolvedMember[] = [
      ...users
        .filter((u) => chosenKeys.has(u.key))
        .map((u) => ({ kind: 'user' as const, id: u.id, name: u.name, isBuiltinAdmin: false })),
      ...accounts.map((a) => ({
        kind: 'service_account' as const,
        id: a.id,
        name: a.name,
        isBuiltinAdmin: !!a.builtin,
      })),
    ];
    const found = new Set([...users.map((u) => u.key), ...accounts.map((a) => a.name)]);
    const missing = wanted.filter((w) => !found.has(w.exact) && !found.has(w.key)).map((w) => w.name);
    if (missing.length > 0) {
      const title = `Principal${missing.length > 1 ? 's' : ''} not found: ${missing.join(', ')}`;
      throw ApiError.notFound(title, [{ name: field, error: 'not_found', title }]);
    }
    return resolved;
  }

  /** FOR SHARE on PostgreSQL (see TransactionService.shareLock); SQLite is serialised. */
  private shareLocked<T extends SelectQueryBuilder<ObjectLiteral>>(qb: T): T {
    return this.tx.shareLock ? qb.setLock('pessimistic_read') : qb;
  }

  /** No takeover: changing a principal's groups is for callers who hold all it holds (see assertMayActOn). */
  private async assertMayChangeMembers(
    principal: Principal,
    em: EntityManager,
    members: ResolvedMember[],
    resource: string,
    action: 'iam:UpdateGroupMembers' | 'iam:DeleteGroup' = 'iam:UpdateGroupMembers',
  ): Promise<void> {
    for (const member of members) {
      await this.authorization.assertMayActOn(
        principal,
        {
          kind: member.kind,
          id: member.id,
          name: member.name,
          isAdmin: this.administrators.isAdministrator(member.name, member.isBuiltinAdmin),
        },
        action,
        `${resource} (member ${member.name})`,
        em,
      );
    }
  }

  private async addMembers(em: EntityManager, group: Group, members: ResolvedMember[]): Promise<void> {
    for (const kind of ['user', 'service_account'] as const) {
      const m = MEMBERSHIP[kind];
      const ids = members.filter((member) => member.kind === kind).map((member) => member.id);
      if (ids.length > 0) {
        await em
          .createQueryBuilder()
          .insert()
          .into(m.table)
          .values(ids.map((id) => ({ [m.column]: id, group_id: group.id })))
          .orIgnore()
          .execute();
      }
    }
  }

  private async removeMembers(em: EntityManager, group: Group, members: ResolvedMember[]): Promise<void> {
    for (const kind of ['user', 'service_account'] as const) {
      const m = MEMBERSHIP[kind];
      const ids = members.filter((member) => member.kind === kind).map((member) => member.id);
      if (ids.length > 0) {
        await em
          .createQueryBuilder()
          .delete()
          .from(m.table)
          .where('group_id = :groupId', { groupId: group.id })
          .andWhere(`${m.column} IN (:...ids)`, { ids })
          .execute();
      }
    }
  }

  /**
   * The group side of membership: add/remove (removal wins) or set, by principal name. New members get the group's
   * roles once this request is done (`roles.after`), so the caller must be able to bind them; members who leave lose
   * the roles it had (`roles.before`), which lifts their denies.
   */
  private async changeMembers(
    principal: Principal,
    em: EntityManager,
    group: Group,
    change: MembershipChange,
    roles: { before: Role[]; after: Role[] },
  ): Promise<AuditChanges> {
    const resource = lrn('group', group.name);
    const current = await this.membersOf(em, group);
    const isCurrent = (member: ResolvedMember) => current.some((c) => c.kind === member.kind && c.id === member.id);
    let toAdd: ResolvedMember[];
    let toRemove: ResolvedMember[];
    if (change.set !== undefined) {
      const wanted = await this.resolveMembers(em, change.set, 'set_members');
      toAdd = wanted.filter((member) => !isCurrent(member));
      toRemove = current.filter((c) => !wanted.some((w) => w.kind === c.kind && w.id === c.id));
    } else {
      const adding = await this.resolveMembers(em, change.add ?? [], 'add_members');
      const removing = await this.resolveMembers(em, change.remove ?? [], 'remove_members');
      const removed = (member: ResolvedMember) => removing.some((r) => r.kind === member.kind && r.id === member.id);
      toAdd = adding.filter((member) => !removed(member) && !isCurrent(member));
      toRemove = removing.filter(isCurrent);
    }
    await this.assertMayChangeMembers(principal, em, [...toAdd, ...toRemove], resource);
    if (toAdd.length > 0) {
      await this.authorization.assertMayBind(principal, roles.after);
    }
    if (toRemove.length > 0) {
      await this.authorization.assertMayUnbind(principal, roles.before);
    }
    await this.addMembers(em, group, toAdd);
    await this.removeMembers(em, group, toRemove);
    const removed = (member: ResolvedMember) => toRemove.some((r) => r.kind === member.kind && r.id === member.id);
    return listChange(
      'members',
      current.map((member) => member.name),
      [...current.filter((member) => !removed(member)), ...toAdd].map((member) => member.name),
    );
  }

  /** The group's members, users and service accounts. */
  private async membersOf(em: EntityManager, group: Group): Promise<ResolvedMember[]> {
    const members: ResolvedMember[] = [];
    for (const kind of ['user', 'service_account'] as const) {
      const m = MEMBERSHIP[kind];
      const rows = await em
        .createQueryBuilder()
        .select(['p.id AS id', 'p.name AS name'])
        .addSelect(kind === 'service_account' ? 'p.is_builtin_admin' : '0', 'builtin')
        .from(m.entityTable, 'p')
        .innerJoin(m.table, 'j', `j.${m.column} = p.id`)
        .where('j.group_id = :groupId', { groupId: group.id })
        .getRawMany<{ id: string; name: string; builtin: boolean | number | string }>();
      members.push(
        ...rows.map((r) => ({ kind, id: r.id, name: r.name, isBuiltinAdmin: r.builtin === true || r.builtin === 1 })),
      );
    }
    return members;
  }
}
