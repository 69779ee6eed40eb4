import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { ApiError } from '../common/api-error.js';
import { type IamAction, lrn, type ResourceKind } from './actions.js';
import { firstUncovered, type Lack } from './containment.js';
import { CompiledPolicy, type PolicyStatement } from './policy.js';
import { policyCondition, type SqlCondition } from './policy-sql.js';
import type { Principal, StoredPrincipalKind } from './principal.js';
import { IAM_DATA_SOURCE } from '../database/iam-data-source.js';

/** A principal acted upon: enough to tell how much authority it holds. */
export interface TargetPrincipal {
  kind: StoredPrincipalKind;
  id: string;
  name: string;
  isAdmin: boolean;
}

/** A role as far as binding it or changing its policy is concerned. */
export interface RoleGrant {
  name: string;
  policy: PolicyStatement[];
}

const describeLack = (lack: Lack) => `${lack.action} on ${lack.resource}`;

/** What lifting these statements' denies may give someone: each deny, read as an allow. */
const liftedBy = (policy: PolicyStatement[]): PolicyStatement[] =>
  policy.filter((statement) => statement.effect === 'deny').map((statement) => ({ ...statement, effect: 'allow' }));

/**
 * Decides what a principal may do: administrators everything; everyone else what the policies of the
 * roles bound to their groups allow (deny wins, no match is a deny). A principal's policy comes with it from
 * PrincipalCache, loaded at most once per request, so a change to a role, a binding or a membership applies from
 * the caller's next request.
 *
 * And no escalation ("you can only grant what you hold", see containment.ts): binding a role, widening a role's
 * policy, and acting on a principal in a way that hands it over (its password, token, groups, sessions, identity)
 * need the caller to hold at least what is granted or handed over, or an explicit grant to escalate
 * (iam:BindRole, iam:EscalateRole on the role).
 */
@Injectable()
export class AuthorizationService {
  /** Each request's principal object with its policy (adopt(), else loaded on first use). */
  private readonly policies = new WeakMap<Principal, Promise<CompiledPolicy>>();

  constructor(@InjectDataSource(IAM_DATA_SOURCE) private readonly dataSource: DataSource) {}

  async isAllowed(principal: Principal, action: IamAction | (string & {}), resource: string): Promise<boolean> {
    if (principal.isAdmin) {
      return true;
    }
    return (await this.policyOf(principal)).decide(action, resource) === 'allow';
  }

  /** 403 naming the action and the resource unless allowed. */
  async assertAllowed(principal: Principal, action: IamAction | (string & {}), resource: string): Promise<void> {
    if (!(await this.isAllowed(principal, action, resource))) {
      throw ApiError.forbidden(`Not allowed: ${action} on ${resource}`);
    }
  }

  /** The items the principal may see with `action` (list endpoints answer with these, never a 403). */
  async filterAllowed<T>(principal: Principal, action: IamAction, items: T[], resourceOf: (item: T) => string) {
    if (principal.isAdmin) {
      return items;
    }
    const policy = await this.policyOf(principal);
    return items.filter((item) => policy.decide(action, resourceOf(item)) === 'allow');
  }

  /**
   * What filterAllowed() decides, as a SQL condition for a list query: the items of `kind` whose LRN
   * (`'iam:<kind>:' || <column>`, `column` holding the lower-cased name) the principal may see with `action`.
   * Null for administrators (no condition).
   */
  async listCondition(
    principal: Principal,
    action: IamAction,
    kind: ResourceKind,
    column: string,
  ): Promise<SqlCondition | null> {
    if (principal.isAdmin) {
      return null;
    }
    return policyCondition(await this.statementsOf(principal), action, kind, column);
  }

  /** Creating a principal with an administrator's name creates an administrator: administrators only. */
  assertMayCreateAdministrator(principal: Principal, isAdminName: boolean, action: IamAction, resource: string) {
    if (isAdminName && !principal.isAdmin) {
      throw ApiError.forbidden(`Not allowed: ${action} on ${resource} (an administrator; only administrators may)`);
    }
  }

  /**
   * Acting on `target` in a way that hands it over (its password, token, groups, sessions, deletion, identity) needs
   * the caller to hold everything the target holds: only administrators act on an administrator, and anyone else
   * only on a principal whose effective permissions their own contain. Read with `em`, inside the caller's
   * transaction, after the target is locked.
   */
  async assertMayActOn(
    principal: Principal,
    target: TargetPrincipal,
    action: IamAction,
    resource: string,
    em: EntityManager = this.dataSource.manager,
  ): Promise<void> {
    if (principal.isAdmin || (principal.kind === target.kind && principal.id === target.id)) {
      return;
    }
    if (target.isAdmin) {
      throw ApiError.forbidden(`Not allowed: ${action} on ${resource} (an administrator; only administrators may)`);
    }
    const lack = firstUncovered(await this.statementsOf(principal), await this.load(em, target.kind, target.id));
    if (lack) {
      throw ApiError.forbidden(
        `Not allowed: ${action} on ${resource}: "${target.name}" holds ${describeLack(lack)}, which you do not ` +
          '(you may act so only on principals whose permissions yours contain)',
      );
    }
  }

  /**
   * Binding roles (to a group, or to a principal by adding it to a group that has them): each role's policy must be
   * held by the caller, or the caller must be allowed iam:BindRole on the role.
   */
  async assertMayBind(principal: Principal, roles: RoleGrant[]): Promise<void> {
    for (const role of roles) {
      const lack = await this.lackOf(principal, role.policy);
      if (lack && !(await this.isAllowed(principal, 'iam:BindRole', lrn('role', role.name)))) {
        throw ApiError.forbidden(
          `Not allowed to bind role "${role.name}": it grants ${describeLack(lack)}, which you do not hold ` +
            `(nor iam:BindRole on ${lrn('role', role.name)})`,
        );
      }
    }
  }

  /** A new role's policy: the caller must hold it, or be allowed iam:EscalateRole on the role. */
  assertMayGrant(principal: Principal, role: RoleGrant): Promise<void> {
    return this.assertMayChangePolicy(principal, role, []);
  }

  /**
   * Lifting a deny widens what someone may do within it: unbinding a role that has denies (from a group, by taking a
   * principal out of a group that has it, or by deleting it) needs the caller to hold what those denies take away,
   * or iam:BindRole on the role. Roles without denies pass at no cost.
   */
  async assertMayUnbind(principal: Principal, roles: RoleGrant[]): Promise<void> {
    for (const role of roles) {
      const lack = await this.lackOf(principal, liftedBy(role.policy));
      if (lack && !(await this.isAllowed(principal, 'iam:BindRole', lrn('role', role.name)))) {
        throw ApiError.forbidden(
          `Not allowed to unbind role "${role.name}": it denies ${describeLack(lack)}, which you do not hold ` +
            `(nor iam:BindRole on ${lrn('role', role.name)})`,
        );
      }
    }
  }

  /**
   * Giving a role a new policy in place of `before`: the caller must hold the new policy and what the denies it drops
   * took away, or be allowed iam:EscalateRole on the role.
   */
  async assertMayChangePolicy(principal: Principal, role: RoleGrant, before: PolicyStatement[]): Promise<void> {
    const kept = new Set(role.policy.map((statement) => JSON.stringify(statement)));
    const dropped = liftedBy(before.filter((statement) => !kept.has(JSON.stringify(statement))));
    const lack = await this.lackOf(principal, [...role.policy, ...dropped]);
    if (lack && !(await this.isAllowed(principal, 'iam:EscalateRole', lrn('role', role.name)))) {
      throw ApiError.forbidden(
        `Not allowed to give role "${role.name}" this policy: it grants ${describeLack(lack)}, which you do not ` +
          `hold (nor iam:EscalateRole on ${lrn('role', role.name)})`,
      );
    }
  }

  private async lackOf(principal: Principal, granted: PolicyStatement[]): Promise<Lack | null> {
    return principal.isAdmin ? null : firstUncovered(await this.statementsOf(principal), granted);
  }

  /**
   * Everything the principal's groups' roles grant, compiled for decisions (administrators, the operator among them:
   * nothing to load).
   */
  async loadPolicy(principal: Principal): Promise<CompiledPolicy> {
    return new CompiledPolicy(
      principal.isAdmin || principal.kind === 'operator'
        ? []
        : await this.load(this.dataSource.manager, principal.kind, principal.id),
    );
  }

  /** Gives this request's principal object the policy that was loaded with it (PrincipalCache). */
  adopt(principal: Principal, policy: CompiledPolicy): void {
    this.policies.set(principal, Promise.resolve(policy));
  }

  private policyOf(principal: Principal): Promise<CompiledPolicy> {
    let pending = this.policies.get(principal);
    if (!pending) {
      pending = this.loadPolicy(principal);
      this.policies.set(principal, pending);
    }
    return pending;
  }

  private async statementsOf(principal: Principal): Promise<readonly PolicyStatement[]> {
    return (await this.policyOf(principal)).statements;
  }

  /** Every statement of every role bound to a group the principal is in. */
  private async load(em: EntityManager, kind: StoredPrincipalKind, id: string): Promise<PolicyStatement[]> {
    const membership =
      kind === 'user'
        ? { table: 'user_groups', column: 'user_id' }
        : { table: 'service_account_groups', column: 'service_account_id' };
    const rows = await em
      .createQueryBuilder()
      .distinct(true)
      .select('r.id', 'id')
      .addSelect('r.policy', 'policy')
      .from('roles', 'r')
      .innerJoin('group_roles', 'gr', 'gr.role_id = r.id')
      .innerJoin(membership.table, 'm', `m.group_id = gr.group_id`)
      .where(`m.${membership.column} = :id`, { id })
      .getRawMany<{ id: string; policy: string }>();
    return rows.flatMap((row) => JSON.parse(row.policy) as PolicyStatement[]);
  }
}
