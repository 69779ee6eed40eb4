import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ApiError } from '../common/api-error.js';
import { type IamAction } from './actions.js';
import { decide, type PolicyStatement } from './policy.js';
import type { Principal } from './principal.js';

/**
 * Decides what a principal may do: administrators everything; everyone else what the policies of the
 * roles bound to their groups allow (deny wins, no match is a deny). Policies are read once per request,
 * so a change to a role, a binding or a membership applies from the caller's next request.
 */
@Injectable()
export class AuthorizationService {
  /** Per-request cache: the principal object lives for one request. */
  private readonly statements = new WeakMap<Principal, Promise<PolicyStatement[]>>();

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async isAllowed(principal: Principal, action: IamAction, resource: string): Promise<boolean> {
    if (principal.isAdmin) {
      return true;
    }
    return decide(await this.statementsOf(principal), action, resource) === 'allow';
  }

  /** 403 naming the action and the resource unless allowed. */
  async assertAllowed(principal: Principal, action: IamAction, resource: string): Promise<void> {
    if (!(await this.isAllowed(principal, action, resource))) {
      throw ApiError.forbidden(`Not allowed: ${action} on ${resource}`);
    }
  }

  /** The items the principal may see with `action` (list endpoints answer with these, never a 403). */
  async filterAllowed<T>(principal: Principal, action: IamAction, items: T[], resourceOf: (item: T) => string) {
    if (principal.isAdmin) {
      return items;
    }
    const statements = await this.statementsOf(principal);
    return items.filter((item) => decide(statements, action, resourceOf(item)) === 'allow');
  }

  /** Only an administrator may act on an administrator. */
  assertMayActOnAdministrator(principal: Principal, targetIsAdmin: boolean, action: IamAction, resource: string) {
    if (targetIsAdmin && !principal.isAdmin) {
      throw ApiError.forbidden(`Not allowed: ${action} on ${resource} (an administrator; only administrators may)`);
    }
  }

  private statementsOf(principal: Principal): Promise<PolicyStatement[]> {
    let pending = this.statements.get(principal);
    if (!pending) {
      pending = this.load(principal);
      this.statements.set(principal, pending);
    }
    return pending;
  }

  private async load(principal: Principal): Promise<PolicyStatement[]> {
    const membership =
      principal.kind === 'user'
        ? { table: 'user_groups', column: 'user_id' }
        : { table: 'service_account_groups', column: 'service_account_id' };
    const rows = await this.dataSource
      .createQueryBuilder()
      .distinct(true)
      .select('r.id', 'id')
      .addSelect('r.policy', 'policy')
      .from('roles', 'r')
      .innerJoin('group_roles', 'gr', 'gr.role_id = r.id')
      .innerJoin(membership.table, 'm', `m.group_id = gr.group_id`)
      .where(`m.${membership.column} = :id`, { id: principal.id })
      .getRawMany<{ id: string; policy: string }>();
    return rows.flatMap((row) => JSON.parse(row.policy) as PolicyStatement[]);
  }
}
