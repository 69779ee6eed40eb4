import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { type EntityManager, In, Repository } from 'typeorm';
import { auditTarget, created, listChange } from '../audit/audit-event.js';
import { AuditService } from '../audit/audit.service.js';
import { AdministratorsService, BUILTIN_ADMIN_NAME } from '../auth/administrators.service.js';
import { ApiError } from '../common/api-error.js';
import { canonicalName, nameKey, nameProblem } from '../common/names.js';
import { RESERVED_USER_NAMES } from '../common/validators.js';
import type { SsoConfig } from '../config/sso.config.js';
import { isUniqueViolation } from '../database/database-errors.js';
import { IAM_DATA_SOURCE } from '../database/iam-data-source.js';
import { TransactionService } from '../database/transaction.service.js';
import { Group } from '../groups/entities/group.entity.js';
import { IAM_SSO_CONFIG } from '../iam.options.js';
import { Profile } from '../profiles/entities/profile.entity.js';
import { deactivatedUser, type NewSession, type SignInClient, SessionsService } from '../sessions/sessions.service.js';
import { User } from '../users/entities/user.entity.js';
import { assertPrincipalNameFree, userKeyOf, UsersService, userTarget } from '../users/users.service.js';
import { type SsoMethod, UserIdentity } from './entities/user-identity.entity.js';
import type { SsoIdentity } from './sso-identity.js';

const USER_NAME_MAX = 100;
const DISPLAY_NAME_MAX = 150;
const FULL_NAME_MAX = 100;
const EMAIL_MAX = 100;

/** A refused single sign-on: the answer, and the reason code its `iam:Login` failure is recorded with. */
export class SsoSignInRefused extends ApiError {
  constructor(
    readonly reason: string,
    error: ApiError,
  ) {
    super(error.getStatus(), error.type, error.title, error.invalidFields);
  }
}

/** Text from a provider as stored: control characters dropped, trimmed, at most `max` characters; undefined if empty. */
function kept(value: string | undefined, max: number): string | undefined {
  const text = [...(value ?? '').replace(/[\p{Cc}\p{Cs}]/gu, '').trim()].slice(0, max).join('');
  return text.length > 0 ? text : undefined;
}

/** Who the sign-in is for, worked out before the transaction (and checked again under its locks). */
type Plan = { kind: 'bound'; userId: string } | { kind: 'link'; userId: string } | { kind: 'create' };

/**
 * The single sign-on core: a protocol module (OIDC, SAML) hands it a verified SsoIdentity; this finds or makes the
 * user, refreshes their profile and groups, and starts their session, as a password sign-in does.
 *
 * Who an identity signs in as (no takeover through the provider):
 * 1. an identity bound to a user (method, issuer, subject: UserIdentity) signs in as that user, whatever name the
 *    provider now sends;
 * 2. otherwise the user with the provider's user name, whom the sign-in binds to the identity, unless that user is
 *    bound to another identity already (refused, always), or has a password or is an administrator
 *    (IAM_ADMINISTRATORS): refused unless IAM_SSO_LINK_EXISTING_USERS. A user an administrator made without a
 *    password (provisioned ahead) is bound at the first sign-in;
 * 3. otherwise a new user (just in time), named as the provider says if that is a valid user name here (400
 *    otherwise) and free (409 when a service account or the built-in `admin` has it); one named in IAM_ADMINISTRATORS
 *    only with IAM_SSO_LINK_EXISTING_USERS.
 * A password lockout does not stop a single sign-on: it counts wrong passwords, and the provider checked the person.
 */
@Injectable()
export class SsoSignInService {
  private readonly logger = new Logger(SsoSignInService.name);

  constructor(
    @InjectRepository(UserIdentity, IAM_DATA_SOURCE) private readonly identities: Repository<UserIdentity>,
    @InjectRepository(User, IAM_DATA_SOURCE) private readonly users: Repository<User>,
    @Inject(IAM_SSO_CONFIG) private readonly config: SsoConfig,
    private readonly sessions: SessionsService,
    private readonly usersService: UsersService,
    private readonly administrators: AdministratorsService,
    private readonly tx: TransactionService,
    private readonly audit: AuditService,
  ) {}

  /**
   * Signs the identity in: finds, binds or creates its user (see the class), refreshes the profile (full name, e-mail
   * address, display name) from the provider, sets the user's membership of the groups whose `sso_name` is one of the
   * provider's groups to exactly those (IAM_SSO_GROUP_SYNC; groups with an empty sso_name are left alone; groups
   * the provider names that do not exist here are ignored and logged), and starts a session, ending the one presented
   * (SessionsService.startSession). All in one transaction (lock order: see TransactionService), with its `iam:Login`
   * event naming the method; a refusal is recorded as a failed `iam:Login` with its reason code (SsoSignInRefused).
   */
  async signIn(identity: SsoIdentity, client: SignInClient = {}, presented?: string): Promise<NewSession> {
    const username = canonicalName(identity.username.trim());
    const target = username.length > 0 ? auditTarget('user', username) : auditTarget('user', '*');
    try {
      return await this.attempt(identity, username, client, presented);
    } catch (error) {
      const refused =
        error instanceof SsoSignInRefused
          ? error
          : isUniqueViolation(error)
            ? new SsoSignInRefused('sso_conflict', ApiError.conflict('A concurrent sign-in changed this user: retry'))
            : undefined;
      if (!refused) {
        throw error;
      }
      await this.audit.recordAlone({
        action: 'iam:Login',
        target,
        outcome: 'failed',
        reason: refused.reason,
        actor: null,
        changes: { auth_method: { before: null, after: identity.method } },
      });
      throw refused;
    }
  }

  /**
   * Records a sign-in a protocol module refused before it had an identity (a failed `iam:Login` with the reason code
   * and the method) and returns the answer to throw.
   */
  async refused(method: SsoMethod, reason: string, error: ApiError): Promise<SsoSignInRefused> {
    await this.audit.recordAlone({
      action: 'iam:Login',
      target: auditTarget('user', '*'),
      outcome: 'failed',
      reason,
      actor: null,
      changes: { auth_method: { before: null, after: method } },
    });
    return new SsoSignInRefused(reason, error);
  }

  private async attempt(
    identity: SsoIdentity,
    username: string,
    client: SignInClient,
    presented: string | undefined,
  ): Promise<NewSession> {
    const subject = kept(identity.subject, 255);
    if (!subject || subject !== identity.subject || identity.issuer.length > 500) {
      throw new SsoSignInRefused(
        'sso_invalid_identity',
        ApiError.badRequest('The identity provider sent no usable subject or issuer'),
      );
    }
    const plan = await this.plan(identity, username);
    const now = new Date();
    const session = this.sessions.newSession(now);
    const newUserId = randomUUID();
    const userId = await this.tx.run(async (em) => {
      if (plan.kind === 'create') {
        await this.tx.lockPrincipalNames(em); // 1
      }
      const id = plan.kind === 'create' ? newUserId : plan.userId;
      const groups = await this.lockGroups(em, identity, plan.kind === 'create' ? undefined : id); // 2
      const user = await this.lockOrCreateUser(em, identity, username, plan, newUserId, now); // 4
      // 5: the rows that hang off the user.
      if (plan.kind !== 'bound') {
        await em.insert(UserIdentity, {
          id: randomUUID(),
          userId: id,
          method: identity.method,
          issuer: identity.issuer,
          subject: identity.subject,
          createdAt: now,
        });
      }
      await this.refreshProfile(em, user, identity);
      const membership = groups ? await this.syncGroups(em, id, groups) : {};
      await this.sessions.startSession(em, id, session, client, presented, now);
      await this.audit.record(em, {
        action: 'iam:Login',
        target: userTarget(user),
        actor: { kind: 'user', id, name: user.name },
        changes: {
          auth_method: { before: null, after: identity.method },
          ...(plan.kind !== 'bound'
            ? { identity: { before: null, after: `${identity.issuer} ${identity.subject}` } }
            : {}),
          ...membership,
        },
      });
      return id;
    });
    return { ...session, user: await this.usersService.getById(userId) };
  }

  /** Who the identity signs in as (see the class); refusals as SsoSignInRefused. */
  private async plan(identity: SsoIdentity, username: string): Promise<Plan> {
    const bound = await this.identities.findOne({
      where: { method: identity.method, issuer: identity.issuer, subject: identity.subject },
      select: { id: true, userId: true },
    });
    if (bound) {
      return { kind: 'bound', userId: bound.userId };
    }
    this.assertValidName(username);
    const existing = await this.users.findOne({
      where: { nameKey: await userKeyOf(this.users.manager, username) },
      select: { id: true, name: true, passwordHash: true },
    });
    if (!existing) {
      if (this.administrators.isAdministrator(username) && !this.config.linkExistingUsers) {
        throw takeoverRefused(username);
      }
      return { kind: 'create' };
    }
    await this.assertMayLink(this.users.manager, existing);
    return { kind: 'link', userId: existing.id };
  }

  /** A user may be bound to a new identity: not bound to one already; no password, not an administrator, or opted in. */
  private async assertMayLink(em: EntityManager, user: Pick<User, 'id' | 'name' | 'passwordHash'>): Promise<void> {
    if (await em.exists(UserIdentity, { where: { userId: user.id } })) {
      throw takeoverRefused(user.name);
    }
    const guarded = user.passwordHash !== null || this.administrators.isAdministrator(user.name);
    if (guarded && !this.config.linkExistingUsers) {
      throw takeoverRefused(user.name);
    }
  }

  /** The provider's user name must be one this service would accept from POST /users (400 otherwise). */
  private assertValidName(username: string): void {
    const problem =
      username.length === 0
        ? 'is empty'
        : [...username].length > USER_NAME_MAX
          ? `is longer than ${USER_NAME_MAX} characters`
          : RESERVED_USER_NAMES.includes(username.toLowerCase())
            ? 'is reserved'
            : nameProblem(username)?.reason;
    if (problem) {
      throw new SsoSignInRefused(
        'sso_invalid_username',
        ApiError.badRequest(
          `The identity provider's user name ${JSON.stringify(username)} is not a valid user name here: it ${problem}`,
        ),
      );
    }
    if (nameKey(username) === BUILTIN_ADMIN_NAME) {
      throw new SsoSignInRefused(
        'sso_name_taken',
        ApiError.conflict(`The user name "${username}" belongs to the built-in service account`),
      );
    }
  }

  /**
   * The groups whose membership this sign-in may change, share-locked in id order (lock order 2): those whose sso_name
   * is one of the provider's, and those the user is in now. Undefined when group sync is off or the provider sent
   * no groups (memberships are then left alone).
   */
  private async lockGroups(
    em: EntityManager,
    identity: SsoIdentity,
    userId: string | undefined,
  ): Promise<{ wanted: Group[]; current: Group[] } | undefined> {
    if (!this.config.groupSync || identity.groups === undefined) {
      return undefined;
    }
    const named = [...new Set(identity.groups)].filter((name) => name !== '');
    const currentIds = userId
      ? (
          await em
            .createQueryBuilder()
            .select('ug.group_id', 'group_id')
            .from('user_groups', 'ug')
            .where('ug.user_id = :userId', { userId })
            .getRawMany<{ group_id: string }>()
        ).map((row) => row.group_id)
      : [];
    const where = [
      ...(named.length > 0 ? [{ ssoName: In(named) }] : []),
      ...(currentIds.length > 0 ? [{ id: In(currentIds) }] : []),
    ];
    const groups =
      where.length > 0
        ? await em.find(Group, {
            select: { id: true, name: true, ssoName: true },
            where,
            order: { id: 'ASC' },
            lock: this.tx.shareLock,
          })
        : [];
    const wanted = groups.filter((group) => group.ssoName !== '' && named.includes(group.ssoName));
    const unknown = named.filter((name) => !groups.some((group) => group.ssoName === name));
    if (unknown.length > 0) {
      this.logger.log(
        { method: identity.method, unknown_groups: unknown.slice(0, 50) },
        'Single sign-on: groups of the identity provider that no group here has as its sso_name are ignored',
      );
    }
    const current = groups.filter((group) => currentIds.includes(group.id));
    return { wanted, current };
  }

  /**
   * The user's row, locked (lock order 4), with the plan checked again under the lock; or the new user (JIT), whose
   * name is checked against every principal's under the names lock.
   */
  private async lockOrCreateUser(
    em: EntityManager,
    identity: SsoIdentity,
    username: string,
    plan: Plan,
    newUserId: string,
    now: Date,
  ): Promise<Pick<User, 'id' | 'name' | 'nameKey' | 'displayName'>> {
    if (plan.kind === 'create') {
      try {
        await assertPrincipalNameFree(em, username);
      } catch (error) {
        if (error instanceof ApiError) {
          throw new SsoSignInRefused('sso_name_taken', error);
        }
        throw error;
      }
      const user = {
        id: newUserId,
        name: username,
        nameKey: nameKey(username),
        displayName:
          kept(identity.displayName, DISPLAY_NAME_MAX) ?? kept(identity.fullName, DISPLAY_NAME_MAX) ?? username,
        metadata: {},
        passwordHash: null,
        createdAt: now,
        lastSeenAt: null,
      };
      await em.insert(User, user);
      await this.audit.record(em, {
        action: 'iam:CreateUser',
        target: userTarget(user),
        actor: { kind: 'user', id: user.id, name: user.name },
        changes: created({ name: user.name, display_name: user.displayName, auth_method: identity.method }),
      });
      return user;
    }
    const user = await em.findOne(User, {
      where: { id: plan.userId },
      select: { id: true, name: true, nameKey: true, displayName: true, passwordHash: true, active: true },
      lock: this.tx.rowLock,
    });
    if (!user) {
      throw new SsoSignInRefused('sso_conflict', ApiError.conflict('The user was deleted meanwhile: sign in again'));
    }
    if (!user.active) {
      throw new SsoSignInRefused('deactivated', deactivatedUser());
    }
    if (plan.kind === 'link') {
      await this.assertMayLink(em, user);
    }
    return user;
  }

  /** Full name, e-mail address and display name as the provider has them now (each kept when it sends none). */
  private async refreshProfile(
    em: EntityManager,
    user: Pick<User, 'id' | 'displayName'>,
    identity: SsoIdentity,
  ): Promise<void> {
    const displayName = kept(identity.displayName, DISPLAY_NAME_MAX) ?? kept(identity.fullName, DISPLAY_NAME_MAX);
    if (displayName !== undefined && displayName !== user.displayName) {
      await em.update(User, { id: user.id }, { displayName });
    }
    const fullName = kept(identity.fullName, FULL_NAME_MAX);
    // An address too long for the column is left out rather than cut into another address.
    const email = identity.email && identity.email.length <= EMAIL_MAX ? kept(identity.email, EMAIL_MAX) : undefined;
    if (fullName === undefined && email === undefined) {
      return;
    }
    const profile = await em.findOne(Profile, { where: { userId: user.id } });
    const next = {
      fullName: fullName ?? profile?.fullName ?? null,
      emailAddress: email ?? profile?.emailAddress ?? null,
    };
    if (!profile) {
      await em.insert(Profile, { userId: user.id, ...next });
    } else if (profile.fullName !== next.fullName || profile.emailAddress !== next.emailAddress) {
      await em.update(Profile, { userId: user.id }, next);
    }
  }

  /** Sets the user's membership of the groups with an sso_name to exactly `wanted`; the change, for the audit event. */
  private async syncGroups(
    em: EntityManager,
    userId: string,
    groups: { wanted: Group[]; current: Group[] },
  ): Promise<Record<string, { before: unknown; after: unknown }>> {
    const currentIds = new Set(groups.current.map((group) => group.id));
    const wantedIds = new Set(groups.wanted.map((group) => group.id));
    const add = groups.wanted.filter((group) => !currentIds.has(group.id));
    const remove = groups.current.filter((group) => group.ssoName !== '' && !wantedIds.has(group.id));
    if (add.length > 0) {
      await em
        .createQueryBuilder()
        .insert()
        .into('user_groups')
        .values(add.map((group) => ({ user_id: userId, group_id: group.id })))
        .execute();
    }
    if (remove.length > 0) {
      await em
        .createQueryBuilder()
        .delete()
        .from('user_groups')
        .where('user_id = :userId', { userId })
        .andWhere('group_id IN (:...ids)', { ids: remove.map((group) => group.id) })
        .execute();
    }
    if (add.length === 0 && remove.length === 0) {
      return {};
    }
    const removed = new Set(remove.map((group) => group.id));
    const before = groups.current.map((group) => group.name);
    const after = [
      ...groups.current.filter((group) => !removed.has(group.id)).map((group) => group.name),
      ...add.map((group) => group.name),
    ];
    return listChange('groups', before, after);
  }
}

/** The refusal of a sign-in that would take over another identity's user, a password user or an administrator. */
function takeoverRefused(name: string): SsoSignInRefused {
  return new SsoSignInRefused(
    'sso_account_conflict',
    ApiError.forbidden(
      `The user "${name}" exists and cannot be bound to this identity by single sign-on ` +
        '(bound to another identity, has a password, or is an administrator): ask an administrator',
    ),
  );
}
