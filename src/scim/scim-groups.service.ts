import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { type EntityManager, Repository } from 'typeorm';
import { lrn } from '../auth/actions.js';
import { auditTarget, changesOf, created, deleted, listChange } from '../audit/audit-event.js';
import { AuditService } from '../audit/audit.service.js';
import { AdministratorsService } from '../auth/administrators.service.js';
import { AuthorizationService } from '../auth/authorization.service.js';
import type { Principal } from '../auth/principal.js';
import type { SsoConfig } from '../config/sso.config.js';
import { isUniqueViolation } from '../database/database-errors.js';
import { IAM_DATA_SOURCE } from '../database/iam-data-source.js';
import { TransactionService } from '../database/transaction.service.js';
import { Group } from '../groups/entities/group.entity.js';
import { IAM_SSO_CONFIG } from '../iam.options.js';
import { UNSTORABLE_TEXT } from '../common/validators.js';
import { Role } from '../roles/entities/role.entity.js';
import { assertIfMatch, assertProvisioner } from './scim-access.js';
import { ScimError } from './scim-error.js';
import { equalityOn } from './scim-filter.js';
import {
  filterAndSort,
  listResponse,
  MAX_SCANNED_RESOURCES,
  readAttributesQuery,
  readListQuery,
  shows,
  tooMany,
} from './scim-list.js';
import { applyPatch } from './scim-patch.js';
import {
  type GroupInput,
  groupNameOf,
  isUuid,
  type Json,
  project,
  readGroup,
  type ScimGroupSource,
  type ScimResource,
  toScimGroup,
} from './scim-resources.js';

const IN_CHUNK = 1000;

interface Member {
  id: string;
  name: string;
  displayName: string;
}

/**
 * SCIM Groups (RFC 7643 section 4.2) over the IAM's groups: displayName ↔ display_name, the group's name made from
 * the first displayName (groupNameOf) and kept after, externalId, members ↔ the users in the group (service accounts
 * in it are neither shown nor touched). A group made here has an empty sso_name: its membership is SCIM's, never
 * reset by a single sign-on's group sync.
 *
 * Who may do what: a service account allowed `iam:ScimProvision` on `iam:group:<name>` sees and provisions that group.
 * A membership change is the house's "only what you hold" (as PUT /users/{name}/groups and PATCH /groups/{name}): each
 * user added or removed must be one the token may act on (it holds all they hold; administrators only by an
 * administrator's token), joining binds the group's roles (the token must hold their permissions, or iam:BindRole), and
 * leaving lifts their denies (assertMayUnbind). So a SCIM token cannot make anyone more than it is.
 */
@Injectable()
export class ScimGroupsService {
  constructor(
    @InjectRepository(Group, IAM_DATA_SOURCE) private readonly groups: Repository<Group>,
    @Inject(IAM_SSO_CONFIG) private readonly config: SsoConfig,
    private readonly authorization: AuthorizationService,
    private readonly administrators: AdministratorsService,
    private readonly tx: TransactionService,
    private readonly audit: AuditService,
  ) {}

  async list(principal: Principal, rawQuery: Record<string, unknown>, baseUrl: string): Promise<ScimResource> {
    assertProvisioner(principal);
    const query = readListQuery(rawQuery);
    const select = this.groups.createQueryBuilder('g');
    const policy = await this.authorization.listCondition(principal, 'iam:ScimProvision', 'group', 'g.name');
    if (policy) {
      select.andWhere(policy.sql, policy.params);
    }
    const indexed = query.filter && equalityOn(query.filter, ['displayName', 'externalId', 'id']);
    if (indexed && UNSTORABLE_TEXT.test(indexed.value)) {
      return listResponse([], 0, query); // no stored value holds NUL (and PostgreSQL cannot compare with it)
    }
    if (indexed) {
      if (indexed.attr === 'displayName') {
        select.andWhere('lower(g.display_name) = :displayName', { displayName: indexed.value.toLowerCase() });
      } else if (indexed.attr === 'externalId') {
        select.andWhere('g.external_id = :externalId', { externalId: indexed.value });
      } else if (isUuid(indexed.value)) {
        select.andWhere('g.id = :id', { id: indexed.value.toLowerCase() });
      } else {
        return listResponse([], 0, query);
      }
    }
    const scan = (query.filter && !indexed) || query.sortBy;
    // Members are read only when shown, or when a filter or sort may look at them.
    const withMembers = shows(query, 'members') || Boolean(scan);
    if (scan) {
      if ((await select.getCount()) > MAX_SCANNED_RESOURCES) {
        throw tooMany('group');
      }
      const resources = (await this.sources(await select.getMany(), withMembers)).map((g) => toScimGroup(g, baseUrl));
      const kept = filterAndSort(resources, query);
      return listResponse(kept.slice(query.startIndex - 1, query.startIndex - 1 + query.count), kept.length, query);
    }
    const total = await select.getCount();
    const rows =
      query.count === 0
        ? []
        : await select
            .orderBy('g.created_at', 'ASC')
            .addOrderBy('g.id', 'ASC')
            .skip(query.startIndex - 1)
            .take(query.count)
            .getMany();
    return listResponse(
      (await this.sources(rows, withMembers)).map((group) => toScimGroup(group, baseUrl)),
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
    const query = readAttributesQuery(rawQuery);
    const group = isUuid(id) ? await this.groups.findOne({ where: { id: id.toLowerCase() } }) : null;
    if (!group || !(await this.authorization.isAllowed(principal, 'iam:ScimProvision', lrn('group', group.name)))) {
      throw groupNotFound(id);
    }
    const [source] = await this.sources([group], shows(query, 'members'));
    return project(toScimGroup(source, baseUrl), query.attributes, query.excludedAttributes);
  }

  async create(principal: Principal, body: Json, baseUrl: string): Promise<ScimResource> {
    assertProvisioner(principal);
    const input = readGroup(body);
    const name = groupNameOf(input.displayName);
    await this.authorization.assertAllowed(principal, 'iam:ScimProvision', lrn('group', name));
    const group: Group = this.groups.create({
      id: randomUUID(),
      name,
      displayName: input.displayName,
      description: '',
      ssoName: '',
      metadata: {},
      createdAt: new Date(),
      externalId: input.externalId,
      updatedAt: null,
    });
    try {
      await this.tx.run(async (em) => {
        if (await em.exists(Group, { where: { name } })) {
          throw duplicate(input.displayName, name);
        }
        await em.insert(Group, group);
        const members = await this.lockUsers(em, input.members ?? []);
        await this.assertMayChangeMembers(principal, em, group, members, [], []);
        await this.addMembers(em, group, members);
        await this.audit.record(em, {
          actor: principal,
          action: 'iam:CreateGroup',
          target: auditTarget('group', name),
          changes: created({
            name,
            display_name: group.displayName,
            external_id: group.externalId,
            ...(members.length > 0 ? { members: members.map((member) => member.name).sort() } : {}),
          }),
        });
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw duplicate(input.displayName, name);
      }
      throw error;
    }
    return this.get(principal, group.id, {}, baseUrl);
  }

  replace(principal: Principal, id: string, body: Json, ifMatch: string | undefined, baseUrl: string) {
    return this.update(principal, id, ifMatch, baseUrl, () => body);
  }

  patch(principal: Principal, id: string, body: Json, ifMatch: string | undefined, baseUrl: string) {
    return this.update(principal, id, ifMatch, baseUrl, (current) =>
      applyPatch(current, body, this.config.scimLenient),
    );
  }

  /** Deletes the group; taking its members out of it is checked as any removal is. */
  async delete(principal: Principal, id: string, ifMatch: string | undefined, baseUrl: string): Promise<void> {
    assertProvisioner(principal);
    await this.tx.run(async (em) => {
      const { group, members, current, roles } = await this.lockForChange(em, principal, id, baseUrl);
      assertIfMatch(ifMatch, current);
      await this.assertMayChangeMembers(principal, em, group, [], members, roles);
      await em.delete(Group, { id: group.id });
      await this.audit.record(em, {
        actor: principal,
        action: 'iam:DeleteGroup',
        target: auditTarget('group', group.name),
        changes: {
          ...deleted({ name: group.name, display_name: group.displayName, external_id: group.externalId }),
          ...listChange(
            'members',
            members.map((member) => member.name),
            [],
          ),
        },
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
      const { group, members, current, roles } = await this.lockForChange(em, principal, id, baseUrl);
      assertIfMatch(ifMatch, current);
      const input: GroupInput = readGroup(next(current));
      const wanted = input.members !== undefined ? await this.lockUsers(em, input.members) : members;
      const toAdd = wanted.filter((user) => !members.some((member) => member.id === user.id));
      const toRemove = members.filter((member) => !wanted.some((user) => user.id === member.id));
      await this.assertMayChangeMembers(principal, em, group, toAdd, toRemove, roles);
      const changes = {
        ...changesOf(
          { display_name: group.displayName, external_id: group.externalId },
          { display_name: input.displayName, external_id: input.externalId },
        ),
        ...listChange(
          'members',
          members.map((member) => member.name),
          wanted.map((member) => member.name),
        ),
      };
      if (Object.keys(changes).length === 0) {
        return;
      }
      await em.update(
        Group,
        { id: group.id },
        { displayName: input.displayName, externalId: input.externalId, updatedAt: now },
      );
      await this.addMembers(em, group, toAdd);
      if (toRemove.length > 0) {
        await em
          .createQueryBuilder()
          .delete()
          .from('user_groups')
          .where('group_id = :groupId', { groupId: group.id })
          .andWhere('user_id IN (:...ids)', { ids: toRemove.map((member) => member.id) })
          .execute();
      }
      await this.audit.record(em, {
        actor: principal,
        action: 'iam:UpdateGroup',
        target: auditTarget('group', group.name),
        changes,
      });
    });
    return this.get(principal, id, {}, baseUrl);
  }

  /**
   * The group locked (FOR UPDATE), its roles (read), and its user members share-locked, in the house lock order
   * (groups, roles, principals: see TransactionService); 404 `noTarget` when there is none or the token may not
   * provision it.
   */
  private async lockForChange(em: EntityManager, principal: Principal, id: string, baseUrl: string) {
    const group = isUuid(id)
      ? await em.findOne(Group, { where: { id: id.toLowerCase() }, lock: this.tx.rowLock })
      : null;
    if (!group || !(await this.authorization.isAllowed(principal, 'iam:ScimProvision', lrn('group', group.name)))) {
      throw groupNotFound(id);
    }
    const roles = await em
      .createQueryBuilder(Role, 'r')
      .innerJoin('group_roles', 'gr', 'gr.role_id = r.id')
      .where('gr.group_id = :groupId', { groupId: group.id })
      .orderBy('r.name')
      .getMany();
    const memberIds = (
      await em
        .createQueryBuilder()
        .select('ug.user_id', 'user_id')
        .from('user_groups', 'ug')
        .where('ug.group_id = :groupId', { groupId: group.id })
        .getRawMany<{ user_id: string }>()
    ).map((row) => row.user_id);
    const members = await this.lockUsers(em, memberIds, false);
    const current = toScimGroup(this.sourceOf(group, members), baseUrl);
    return { group, members, current, roles };
  }

  /**
   * Users by id, share-locked in id order (lock order 4); with `strict`, 400 `invalidValue` naming the ids of no user
   * (a PUT or PATCH naming members that do not exist changes nothing).
   */
  private async lockUsers(em: EntityManager, ids: string[], strict = true): Promise<Member[]> {
    const unique = [...new Set(ids.map((id) => id.toLowerCase()))];
    const found: Member[] = [];
    for (let i = 0; i < unique.length; i += IN_CHUNK) {
      const query = em
        .createQueryBuilder()
        .select(['u.id AS id', 'u.name AS name', 'u.display_name AS display_name'])
        .from('users', 'u')
        .where('u.id IN (:...ids)', { ids: unique.slice(i, i + IN_CHUNK) })
        .orderBy('u.id');
      if (this.tx.shareLock) {
        query.setLock('pessimistic_read');
      }
      const rows = await query.getRawMany<{ id: string; name: string; display_name: string }>();
      found.push(...rows.map((row) => ({ id: row.id, name: row.name, displayName: row.display_name })));
    }
    const missing = unique.filter((id) => !found.some((user) => user.id === id));
    if (strict && missing.length > 0) {
      throw ScimError.invalidValue(`members: no user with the id ${missing.slice(0, 10).join(', ')}`);
    }
    return found;
  }

  /** Only what the token holds (see the class). */
  private async assertMayChangeMembers(
    principal: Principal,
    em: EntityManager,
    group: Group,
    added: Member[],
    removed: Member[],
    roles: Role[],
  ): Promise<void> {
    for (const member of [...added, ...removed]) {
      await this.authorization.assertMayActOn(
        principal,
        { kind: 'user', id: member.id, name: member.name, isAdmin: this.administrators.isAdministrator(member.name) },
        'iam:ScimProvision',
        `${lrn('group', group.name)} (member ${member.name})`,
        em,
      );
    }
    if (added.length > 0) {
      await this.authorization.assertMayBind(principal, roles);
    }
    if (removed.length > 0) {
      await this.authorization.assertMayUnbind(principal, roles);
    }
  }

  private async addMembers(em: EntityManager, group: Group, members: Member[]): Promise<void> {
    if (members.length > 0) {
      await em
        .createQueryBuilder()
        .insert()
        .into('user_groups')
        .values(members.map((member) => ({ user_id: member.id, group_id: group.id })))
        .orIgnore()
        .execute();
    }
  }

  private sourceOf(group: Group, members?: Member[]): ScimGroupSource {
    return {
      id: group.id,
      name: group.name,
      displayName: group.displayName,
      externalId: group.externalId,
      createdAt: group.createdAt,
      updatedAt: group.updatedAt,
      members,
    };
  }

  /** Groups as the mappers take them, with their user members when asked (a statement per IN_CHUNK groups). */
  private async sources(groups: Group[], withMembers: boolean): Promise<ScimGroupSource[]> {
    if (!withMembers) {
      return groups.map((group) => this.sourceOf(group));
    }
    const members = new Map<string, Member[]>(groups.map((group) => [group.id, []]));
    for (let i = 0; i < groups.length; i += IN_CHUNK) {
      const rows = await this.groups.manager
        .createQueryBuilder()
        .select(['ug.group_id AS group_id', 'u.id AS id', 'u.name AS name', 'u.display_name AS display_name'])
        .from('user_groups', 'ug')
        .innerJoin('users', 'u', 'u.id = ug.user_id')
        .where('ug.group_id IN (:...ids)', { ids: groups.slice(i, i + IN_CHUNK).map((group) => group.id) })
        .getRawMany<{ group_id: string; id: string; name: string; display_name: string }>();
      for (const row of rows) {
        members.get(row.group_id)?.push({ id: row.id, name: row.name, displayName: row.display_name });
      }
    }
    return groups.map((group) => this.sourceOf(group, members.get(group.id)));
  }
}

const groupNotFound = (id: string) => ScimError.noTarget(`Group ${JSON.stringify(id.slice(0, 100))} not found`);

const duplicate = (displayName: string, name: string) =>
  ScimError.uniqueness(`A group named "${name}" already exists (the name made from displayName "${displayName}")`);
