import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { type EntityManager, In, Repository } from 'typeorm';
import { auditTarget, changesOf, created, deleted } from '../audit/audit-event.js';
import { AuditService } from '../audit/audit.service.js';
import { AuthorizationService } from '../auth/authorization.service.js';
import { canonicalAction, type PolicyStatement } from '../auth/policy.js';
import type { Principal } from '../auth/principal.js';
import { ApiError } from '../common/api-error.js';
import { canonicalName } from '../common/names.js';
import type { ListQueryDto } from '../common/dto/list-query.dto.js';
import { patchMetadata } from '../common/metadata.js';
import { containsPattern, listBody, PageTokenService } from '../pagination/page-token.service.js';
import { isUniqueViolation } from '../database/database-errors.js';
import { TransactionService } from '../database/transaction.service.js';
import { type CreateRoleDto, MAX_STATEMENTS } from './dto/create-role.dto.js';
import type { PolicyStatementDto } from './dto/policy-statement.dto.js';
import { type RoleDto, type RoleListDto, toCompactRole, toRoleDto } from './dto/role-response.dto.js';
import type { UpdateRoleDto } from './dto/update-role.dto.js';
import { Role } from './entities/role.entity.js';
import { IAM_DATA_SOURCE } from '../database/iam-data-source.js';

/** Validated statements as stored: lists everywhere, actions in their canonical spelling. */
export function normaliseStatement(statement: PolicyStatementDto): PolicyStatement {
  const list = (value: string | string[]) => (typeof value === 'string' ? [value] : [...value]);
  return {
    effect: statement.effect,
    action: list(statement.action).map((action) => canonicalAction(action) ?? action),
    // Names are stored in their canonical form (names.ts): patterns are too, so that one written in NFD matches.
    resource: list(statement.resource).map(canonicalName),
  };
}

/** A role's fields as audit events show them. */
const auditedFields = (role: Role) => ({
  display_name: role.displayName,
  description: role.description,
  policy: role.policy,
  metadata: role.metadata,
});

@Injectable()
export class RolesService {
  constructor(
    @InjectRepository(Role, IAM_DATA_SOURCE) private readonly roles: Repository<Role>,
    private readonly authorization: AuthorizationService,
    private readonly tx: TransactionService,
    private readonly pages: PageTokenService,
    private readonly audit: AuditService,
  ) {}

  /**
   * A page of the roles the caller may list (iam:ListRoles, decided in the query), in name order (names are
   * lower-case), after the page token's key: one query (limit + 1 rows, along the name index).
   */
  async list(principal: Principal, query: ListQueryDto): Promise<RoleListDto> {
    const select = this.roles.createQueryBuilder('r');
    const policy = await this.authorization.listCondition(principal, 'iam:ListRoles', 'role', 'r.name');
    if (policy) {
      select.andWhere(policy.sql, policy.params);
    }
    if (query.q !== undefined) {
      select.andWhere(`(r.name LIKE :q ESCAPE '\\' OR lower(r.display_name) LIKE :q ESCAPE '\\')`, {
        q: containsPattern(query.q),
      });
    }
    const page = await this.pages.page(
      'roles',
      query,
      select,
      'r.name',
      (rows) => rows.getMany(),
      (role) => role.name,
    );
    return listBody(page.rows.map(toCompactRole), page);
  }

  async get(name: string): Promise<RoleDto> {
    return toRoleDto(await this.findOrFail(this.roles.manager, name));
  }

  /** A new role's policy is held by the caller, or the caller may escalate (AuthorizationService.assertMayGrant). */
  async create(principal: Principal, dto: CreateRoleDto): Promise<RoleDto> {
    const role = this.roles.create({
      id: randomUUID(),
      name: dto.name,
      displayName: dto.display_name ?? dto.name,
      description: dto.description ?? '',
      policy: (dto.policy ?? []).map(normaliseStatement),
      metadata: dto.metadata ?? {},
      createdAt: new Date(),
    });
    await this.authorization.assertMayGrant(principal, role);
    try {
      await this.tx.runKeepingAuthority(async (em) => {
        await em.insert(Role, role);
        await this.audit.record(em, {
          actor: principal,
          action: 'iam:CreateRole',
          target: auditTarget('role', role.name),
          changes: created({
            name: role.name,
            display_name: role.displayName,
            description: role.description,
            policy: role.policy,
            metadata: role.metadata,
          }),
        });
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw ApiError.conflict(`A role named "${dto.name}" already exists`);
      }
      throw error;
    }
    return toRoleDto(role);
  }

  async update(principal: Principal, name: string, dto: UpdateRoleDto): Promise<RoleDto> {
    return this.tx.run(async (em) => {
      const role = await this.findOrFail(em, name, true);
      const before = auditedFields(role);
      if (dto.display_name !== undefined) {
        role.displayName = dto.display_name;
      }
      if (dto.description !== undefined) {
        role.description = dto.description;
      }
      if (dto.policy !== undefined) {
        const before = role.policy;
        role.policy = dto.policy.map(normaliseStatement);
        await this.authorization.assertMayChangePolicy(principal, role, before);
      }
      role.metadata = patchMetadata(role.metadata, dto.metadata);
      await em.save(Role, role);
      await this.audit.record(em, {
        actor: principal,
        action: 'iam:UpdateRole',
        target: auditTarget('role', role.name),
        changes: changesOf(before, auditedFields(role)),
      });
      return toRoleDto(role);
    });
  }

  /** Appends one statement to the role's policy. */
  async appendStatement(principal: Principal, name: string, statement: PolicyStatementDto): Promise<RoleDto> {
    return this.tx.run(async (em) => {
      const role = await this.findOrFail(em, name, true);
      if (role.policy.length >= MAX_STATEMENTS) {
        throw ApiError.invalidField('policy', 'too_many', `A policy has at most ${MAX_STATEMENTS} statements`);
      }
      const before = role.policy;
      role.policy = [...role.policy, normaliseStatement(statement)];
      await this.authorization.assertMayGrant(principal, role);
      await em.update(Role, { id: role.id }, { policy: role.policy });
      await this.audit.record(em, {
        actor: principal,
        action: 'iam:UpdateRole',
        target: auditTarget('role', role.name),
        changes: changesOf({ policy: before }, { policy: role.policy }),
      });
      return toRoleDto(role);
    });
  }

  /** Deletes the role; it is unbound from its groups (ON DELETE CASCADE), which lifts its denies. */
  async delete(principal: Principal, name: string): Promise<void> {
    await this.tx.run(async (em) => {
      const role = await this.findOrFail(em, name, true);
      await this.authorization.assertMayUnbind(principal, [role]);
      await em.delete(Role, { id: role.id });
      await this.audit.record(em, {
        actor: principal,
        action: 'iam:DeleteRole',
        target: auditTarget('role', role.name),
        changes: deleted({ name: role.name, ...auditedFields(role) }),
      });
    });
  }

  /**
   * The roles with these names, in the caller's transaction and share-locked in id order (lock order: see
   * TransactionService); a 404 naming every missing one (under `field`).
   */
  async findAllOrFail(em: EntityManager, names: string[], field: string): Promise<Role[]> {
    const unique = [...new Set(names)];
    if (unique.length === 0) {
      return [];
    }
    const found = await em.find(Role, { where: { name: In(unique) }, order: { id: 'ASC' }, lock: this.tx.shareLock });
    const missing = unique.filter((name) => !found.some((role) => role.name === name));
    if (missing.length > 0) {
      const title = `Role${missing.length > 1 ? 's' : ''} not found: ${missing.join(', ')}`;
      throw ApiError.notFound(title, [{ name: field, error: 'not_found', title }]);
    }
    return found;
  }

  private async findOrFail(em: EntityManager, name: string, lock = false): Promise<Role> {
    const role = await em.findOne(Role, { where: { name }, lock: lock ? this.tx.rowLock : undefined });
    if (!role) {
      throw ApiError.notFound(`Role "${name}" not found`);
    }
    return role;
  }
}
