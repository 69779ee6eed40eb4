import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { type EntityManager, LessThan, LessThanOrEqual, Not, Repository } from 'typeorm';
import { auditTarget, secretChanged } from '../audit/audit-event.js';
import { AuditService } from '../audit/audit.service.js';
import { AdministratorsService } from '../auth/administrators.service.js';
import { PasswordHasher } from '../auth/password-hasher.js';
import type { Authenticated } from '../auth/principal-cache.js';
import type { Principal } from '../auth/principal.js';
import { digestsEqual, generateSecret, hashSecret } from '../auth/tokens.js';
import { ApiError } from '../common/api-error.js';
import { DEFAULT_LIST_LIMIT } from '../common/dto/list-query.dto.js';
import type { AuthConfig } from '../config/auth.config.js';
import { IAM_AUTH_CONFIG, IAM_PROCESS_KIND, IAM_SSO_CONFIG, type IamProcessKind } from '../iam.options.js';
import type { SsoConfig } from '../config/sso.config.js';
import { TransactionService } from '../database/transaction.service.js';
import { listBody, PageTokenService } from '../pagination/page-token.service.js';
import { CredentialFailuresService } from '../rate-limit/credential-failures.service.js';
import type { UserDto } from '../users/dto/user-response.dto.js';
import { User } from '../users/entities/user.entity.js';
import { userKeyOf, UsersService, userTarget } from '../users/users.service.js';
import type { SessionListQueryDto } from './dto/session-list-query.dto.js';
import { type SessionListDto, toSessionDto } from './dto/session-response.dto.js';
import { CLIENT_ADDRESS_MAX_LENGTH, Session, USER_AGENT_MAX_LENGTH } from './entities/session.entity.js';
import { IAM_DATA_SOURCE } from '../database/iam-data-source.js';

/** A session id as we issue it: 32 random bytes, base64url. Anything else is rejected unseen. */
const SESSION_ID_FORMAT = /^[A-Za-z0-9_-]{43}$/;

/** The one answer to an unknown name, a wrong password, no password, or a password changed meanwhile. */
const invalidLogin = () => ApiError.unauthorised('Invalid username or password');

/** The answer to a deactivated user (SCIM `active: false`) who signs in or presents a session. */
export const deactivatedUser = () =>
  ApiError.unauthorised('This account is deactivated: ask your administrator or identity provider to reactivate it');

/** The answer to a current_password that is wrong, or no longer current. */
const incorrectCurrentPassword = () =>
  ApiError.invalidField('current_password', 'incorrect', 'current_password is not correct');

/** Whether sign-in and password change are refused for now (IAM_LOCKOUT_THRESHOLD wrong passwords). */
const isLocked = (user: Pick<User, 'lockedUntil'>, now: Date) => user.lockedUntil !== null && user.lockedUntil > now;

/** The answer to an id that is not one of the user's sessions (another user's included: nothing tells them apart). */
const sessionNotFound = () => ApiError.notFound('Session not found');

/**
 * What is kept of a request header (the user agent, the client address): control characters dropped, cut to `max`
 * characters (code points, as the database counts them); null when nothing is left.
 */
function keptHeaderText(value: string | undefined, max: number): string | null {
  const kept = [...(value ?? '').replace(/[\p{Cc}\p{Cs}]/gu, '')].slice(0, max).join('');
  return kept.length > 0 ? kept : null;
}

/** Where a sign-in came from, kept with its session for the session list. */
export interface SignInClient {
  address?: string;
  userAgent?: string;
}

export interface NewSession {
  sessionId: string;
  expiresAt: Date;
  user: UserDto;
}

@Injectable()
export class SessionsService implements OnApplicationBootstrap {
  constructor(
    @InjectRepository(Session, IAM_DATA_SOURCE) private readonly sessions: Repository<Session>,
    @InjectRepository(User, IAM_DATA_SOURCE) private readonly users: Repository<User>,
    @Inject(IAM_AUTH_CONFIG) private readonly config: AuthConfig,
    @Inject(IAM_SSO_CONFIG) private readonly sso: SsoConfig,
    private readonly usersService: UsersService,
    private readonly administrators: AdministratorsService,
    private readonly hasher: PasswordHasher,
    private readonly tx: TransactionService,
    private readonly failures: CredentialFailuresService,
    private readonly pages: PageTokenService,
    private readonly audit: AuditService,
    @Inject(IAM_PROCESS_KIND) private readonly processKind: IamProcessKind,
  ) {}

  /**
   * Expired and idle sessions are refused anyway; this keeps the table from growing without bound (a service's
   * chore: not the admin CLI's).
   */
  async onApplicationBootstrap(): Promise<void> {
    if (this.processKind === 'cli') {
      return;
    }
    const now = new Date();
    await this.tx.write((em) => em.delete(Session, { expiresAt: LessThan(now) }));
    await this.tx.write((em) => em.delete(Session, { lastSeenAt: LessThanOrEqual(this.idleCutoff(now)) }));
  }

  /** Sessions last used at or before this are idle (refused): IAM_SESSION_IDLE_MINUTES before `now`. */
  private idleCutoff(now: Date): Date {
    return new Date(now.getTime() - this.config.sessionIdleMinutes * 60_000);
  }

  /**
   * Checks name and password; the same 401 for an unknown name, a wrong password, no password, a locked
   * account or a password changed meanwhile. A locked account is refused without checking the password (but
   * after as long as a check takes, so that the answer's timing does not tell the lock either). Every
   * failure counts against the client address, a wrong password against the account too (lockout); a
   * success forgets the account's failures. The session is made only if the password checked is still the
   * user's: one set while it was being checked ends every session, and this one must not slip in after.
   * The session the caller presented (`presented`, its cookie), whoever's it is, ends with the new one's
   * start: a sign-in never leaves a session behind. The new session keeps the client's address and user agent
   * (cut to their columns' lengths) for the session list. Every sign-in is in the audit trail (`iam:Login`): a
   * success in its transaction, a failure by itself with its reason (`unknown_user`, `invalid_credentials`, `locked`;
   * a 429 is recorded as `rate_limited` by AuditService.recordRefusal), never with the password. With
   * IAM_PASSWORD_LOGIN=admins-only, a user who is not an administrator and gives the right password gets a 403
   * (`password_login_disabled`): they sign in with single sign-on.
   */
  async login(username: string, password: string, client: SignInClient = {}, presented?: string): Promise<NewSession> {
    const clientAddress = client.address;
    await this.failures.assertNotBlocked(clientAddress);
    const user = await this.users.findOne({
      where: { nameKey: await userKeyOf(this.users.manager, username) },
      select: { id: true, name: true, nameKey: true, passwordHash: true, lockedUntil: true, active: true },
    });
    const target = user ? userTarget(user) : auditTarget('user', username);
    const failed = (reason: string) =>
      this.audit.recordAlone({ action: 'iam:Login', target, outcome: 'failed', reason, actor: null });
    if (user && isLocked(user, new Date())) {
      // A check of nothing, which takes as long as a real one: a locked account must not answer faster.
      await this.hasher.verify(null, password);
      await this.failures.recordFailure(clientAddress);
      await failed('locked');
      throw invalidLogin();
    }
    const ok = await this.hasher.verify(user?.passwordHash, password);
    if (!user || !ok) {
      await this.failures.recordFailure(clientAddress);
      if (user) {
        await this.recordWrongPassword(user.id);
      }
      await failed(user ? 'invalid_credentials' : 'unknown_user');
      throw invalidLogin();
    }
    if (!user.active) {
      // Told only to whoever knows the password, as the lock is not: anyone else gets the 401 above.
      await failed('deactivated');
      throw deactivatedUser();
    }
    if (this.sso.passwordLogin === 'admins-only' && !this.administrators.isAdministrator(user.name)) {
      // Told only to whoever knows the password: anyone else gets the 401 above.
      await failed('password_login_disabled');
      throw ApiError.forbidden('Password sign-in is for administrators only: sign in with single sign-on');
    }
    const now = new Date();
    const { sessionId, expiresAt } = this.newSession(now);
    const changedMeanwhile = invalidLogin();
    await this.tx
      .run(async (em) => {
        if (!(await this.lockUnchangedPassword(em, user.id, user.passwordHash, now))) {
          throw changedMeanwhile;
        }
        await this.startSession(em, user.id, { sessionId, expiresAt }, client, presented, now);
        await em.update(User, { id: user.id }, { failedLogins: 0, failedLoginsSince: null });
        await this.audit.record(em, {
          action: 'iam:Login',
          target,
          actor: { kind: 'user', id: user.id, name: user.name },
        });
      })
      .catch(async (error: unknown) => {
        if (error === changedMeanwhile) {
          // Its password was set, or it was locked or deactivated, while this one was being checked.
          await failed('invalid_credentials');
        }
        throw error;
      });
    return { sessionId, expiresAt, user: await this.usersService.getById(user.id) };
  }

  /** A new session's secret id and expiry (made outside the transaction: run() may run the work again). */
  newSession(now: Date): { sessionId: string; expiresAt: Date } {
    return { sessionId: generateSecret(), expiresAt: new Date(now.getTime() + this.config.sessionTtlMinutes * 60_000) };
  }

  /**
   * Starts the session `session` (newSession()) for the user in the sign-in's transaction `em`, whose row the caller
   * has locked (lock order: see TransactionService): the user's expired and idle sessions go, and the session the
   * caller presented (`presented`, its cookie), whoever's it is, ends with the new one's start, so that a sign-in never
   * leaves a session behind. The new session keeps the client's address and user agent (cut to their columns'
   * lengths) for the session list; the user's last-seen stamp is the sign-in. For every way of signing in (password,
   * single sign-on): the caller records the sign-in (`iam:Login`) in the same transaction.
   */
  async startSession(
    em: EntityManager,
    userId: string,
    session: { sessionId: string; expiresAt: Date },
    client: SignInClient,
    presented: string | undefined,
    now: Date,
  ): Promise<void> {
    await em.delete(Session, { userId, expiresAt: LessThan(now) });
    await em.delete(Session, { userId, lastSeenAt: LessThanOrEqual(this.idleCutoff(now)) });
    if (presented !== undefined && SESSION_ID_FORMAT.test(presented)) {
      await em.delete(Session, { tokenHash: hashSecret(presented) });
    }
    await em.insert(Session, {
      id: randomUUID(),
      userId,
      tokenHash: hashSecret(session.sessionId),
      createdAt: now,
      expiresAt: session.expiresAt,
      lastSeenAt: now,
      clientAddress: keptHeaderText(client.address, CLIENT_ADDRESS_MAX_LENGTH),
      userAgent: keptHeaderText(client.userAgent, USER_AGENT_MAX_LENGTH),
    });
    await em.update(User, { id: userId }, { lastSeenAt: now });
  }

  /**
   * The principal behind a session cookie, and until when it is good: the session's expiry, or its idle deadline
   * (IAM_SESSION_IDLE_MINUTES after its last stamp) when sooner, so that PrincipalCache never answers for it past
   * either. 401 when unknown, ended, expired or idle; an expired or idle session is removed.
   */
  async authenticate(sessionId: string): Promise<Authenticated> {
    if (!SESSION_ID_FORMAT.test(sessionId)) {
      throw ApiError.unauthorised('Invalid session');
    }
    const digest = hashSecret(sessionId);
    const session = await this.sessions.findOne({
      where: { tokenHash: digest },
      select: {
        id: true,
        userId: true,
        tokenHash: true,
        expiresAt: true,
        lastSeenAt: true,
        user: { id: true, name: true, active: true },
      },
      relations: { user: true },
    });
    if (!session || !digestsEqual(session.tokenHash, digest)) {
      throw ApiError.unauthorised('Invalid or ended session: sign in again');
    }
    if (!session.user.active) {
      // Deactivation ends the user's sessions in its transaction; this refuses one that a sign-in racing it left.
      throw deactivatedUser();
    }
    const now = new Date();
    if (session.expiresAt <= now) {
      // Refused by its expiry everywhere already (PrincipalCache included): removing it changes no one's authority.
      await this.tx.write((em) => em.delete(Session, { id: session.id }));
      throw ApiError.unauthorised('Session expired: sign in again');
    }
    const idleCutoff = this.idleCutoff(now);
    if (session.lastSeenAt <= idleCutoff) {
      // Removing it changes no one's authority: every instance's cached deadline comes from a stamp read from this
      // row, and stamps only move forward, so every instance refuses it too; unless a fresher stamp has landed since
      // this read (another instance's use), and then the row is kept.
      await this.tx.write((em) => em.delete(Session, { id: session.id, lastSeenAt: LessThanOrEqual(idleCutoff) }));
      throw ApiError.unauthorised(
        `Session ended after ${this.config.sessionIdleMinutes} minutes without use: sign in again`,
      );
    }
    const idleDeadline = new Date(session.lastSeenAt.getTime() + this.config.sessionIdleMinutes * 60_000);
    return {
      principal: {
        kind: 'user',
        id: session.user.id,
        name: session.user.name,
        isAdmin: this.administrators.isAdministrator(session.user.name),
        sessionId: session.id,
      },
      expiresAt: idleDeadline < session.expiresAt ? idleDeadline : session.expiresAt,
    };
  }

  /** Signs the principal out (POST /logout): ends its session, at once on this instance, within a second on the others. */
  async end(principal: Principal): Promise<void> {
    await this.tx.run(async (em) => {
      if (principal.sessionId) {
        await em.delete(Session, { id: principal.sessionId });
      }
      await this.audit.record(em, {
        actor: principal,
        action: 'iam:Logout',
        target: auditTarget('user', principal.name),
      });
    });
  }

  /** Ends every session of the signed-in user. */
  async endAll(principal: Principal): Promise<void> {
    await this.tx.run(async (em) => {
      const ended = await em.delete(Session, { userId: principal.id });
      await this.audit.record(em, {
        actor: principal,
        action: 'iam:EndUserSessions',
        target: auditTarget('user', principal.name),
        changes: { sessions: { before: ended.affected ?? null, after: 0 } },
      });
    });
  }

  /** A page of the caller's own live sessions, newest first; `current` marks the one this request came with. */
  listOwn(principal: Principal, query: SessionListQueryDto): Promise<SessionListDto> {
    return this.page(principal, principal.id, query);
  }

  /** Ends one of the caller's own sessions; 404 for an id that is not one of theirs (whoever's it is). */
  async endOwn(principal: Principal, id: string): Promise<void> {
    await this.tx.run(async (em) => {
      const { affected } = await em.delete(Session, { id, userId: principal.id });
      if (!affected) {
        throw sessionNotFound(); // rolled back: a 404 moves nothing, the authority version included
      }
      await this.audit.record(em, {
        actor: principal,
        action: 'iam:EndUserSessions',
        target: auditTarget('user', principal.name),
        changes: { session: { before: id, after: null } },
      });
    });
  }

  /**
   * A page of the live sessions of the user `name` (iam:ListUserSessions, checked by the route): an administrator's
   * only for administrators, anyone else's only for callers holding everything that user holds (where they sign in
   * from is theirs to show only to those who could act as them).
   */
  async listOf(principal: Principal, name: string, query: SessionListQueryDto): Promise<SessionListDto> {
    const user = await this.usersService.findEntityOrFail(name);
    await this.usersService.assertMayActOn(principal, user, 'iam:ListUserSessions');
    return this.page(principal, user.id, query);
  }

  /**
   * Ends the sessions of the user `name`, or the one session `id` of theirs (iam:EndUserSessions, checked by the
   * route; "only what you hold" here, under the user's row lock as for setPassword). 404 for an unknown user, or an
   * id that is not one of that user's sessions.
   */
  async endOf(principal: Principal, name: string, id?: string): Promise<void> {
    const user = await this.usersService.findEntityOrFail(name);
    // Checked before the transaction (a refusal costs no lock), and again under the lock: rights may have changed.
    await this.usersService.assertMayActOn(principal, user, 'iam:EndUserSessions');
    await this.tx.run(async (em) => {
      if (!(await em.findOne(User, { where: { id: user.id }, select: { id: true }, lock: this.tx.rowLock }))) {
        throw ApiError.notFound(`User "${name}" not found`);
      }
      await this.usersService.assertMayActOn(principal, user, 'iam:EndUserSessions', em);
      const { affected } = await em.delete(Session, id === undefined ? { userId: user.id } : { userId: user.id, id });
      if (id !== undefined && !affected) {
        throw sessionNotFound();
      }
      await this.audit.record(em, {
        actor: principal,
        action: 'iam:EndUserSessions',
        target: userTarget(user),
        changes:
          id === undefined
            ? { sessions: { before: affected ?? null, after: 0 } }
            : { session: { before: id, after: null } },
      });
    });
  }

  /**
   * A page of the user's live sessions (neither expired nor idle), newest first (created_at, then id, descending),
   * after the page token's key (keyset, as the other lists): limit + 1 rows in one statement, which reads only that
   * user's sessions (by their index), whatever the table's size.
   */
  private async page(viewer: Principal, userId: string, query: SessionListQueryDto): Promise<SessionListDto> {
    const limit = query.limit ?? DEFAULT_LIST_LIMIT;
    const now = new Date();
    const select = this.sessions
      .createQueryBuilder('s')
      .where('s.userId = :userId', { userId })
      .andWhere('s.expiresAt > :now', { now })
      .andWhere('s.lastSeenAt > :idleCutoff', { idleCutoff: this.idleCutoff(now) });
    if (query.page_token !== undefined) {
      const after = await this.readPageToken(userId, query.page_token);
      select.andWhere('(s.createdAt < :afterCreated OR (s.createdAt = :afterCreated AND s.id < :afterId))', {
        afterCreated: after.createdAt,
        afterId: after.id,
      });
    }
    const rows = await select
      .orderBy('s.createdAt', 'DESC')
      .addOrderBy('s.id', 'DESC')
      .limit(limit + 1)
      .getMany();
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    const nextPageToken =
      rows.length > limit
        ? await this.pages.issue('sessions', {}, JSON.stringify([userId, last.createdAt.toISOString(), last.id]))
        : undefined;
    return listBody(
      items.map((session) => toSessionDto(session, viewer.sessionId)),
      { rows: items, nextPageToken },
    );
  }

  /** The position a page token of the sessions of `userId` carries; a 400 naming `page_token` otherwise. */
  private async readPageToken(userId: string, token: string): Promise<{ createdAt: Date; id: string }> {
    const key: unknown = JSON.parse(await this.pages.read('sessions', {}, token));
    const [owner, createdAt, id] = Array.isArray(key) ? (key as unknown[]) : [];
    const at = typeof createdAt === 'string' ? new Date(createdAt) : new Date(Number.NaN);
    if (typeof owner !== 'string' || typeof id !== 'string' || Number.isNaN(at.getTime())) {
      throw ApiError.invalidField(
        'page_token',
        'invalid_value',
        'page_token has an unknown format; start again without it',
      );
    }
    if (owner !== userId) {
      throw ApiError.invalidField(
        'page_token',
        'invalid_value',
        "page_token was issued for another user's sessions; start again without it",
      );
    }
    return { createdAt: at, id };
  }

  /**
   * Sets a user's password. Ends all of that user's sessions, under the same lock as login() takes, so no
   * sign-in with the old password can add one after. Only administrators may for an administrator.
   */
  async setPassword(principal: Principal, name: string, password: string): Promise<void> {
    const user = await this.usersService.findEntityOrFail(name);
    // Checked before spending a hash on it, and again under the lock (the user may have gained rights meanwhile).
    await this.usersService.assertMayActOn(principal, user, 'iam:SetUserPassword');
    const hash = await this.hasher.hash(password);
    await this.tx.run(async (em) => {
      if (!(await em.findOne(User, { where: { id: user.id }, select: { id: true }, lock: this.tx.rowLock }))) {
        throw ApiError.notFound(`User "${name}" not found`);
      }
      await this.usersService.assertMayActOn(principal, user, 'iam:SetUserPassword', em);
      await em.update(User, { id: user.id }, { passwordHash: hash });
      await em.delete(Session, { userId: user.id });
      await this.audit.record(em, {
        actor: principal,
        action: 'iam:SetUserPassword',
        target: userTarget(user),
        changes: { password: secretChanged() },
      });
    });
  }

  /**
   * Changes the caller's own password after checking the current one; ends their other sessions. A wrong
   * current password counts like a wrong sign-in (client address and account); while the account is locked
   * the answer is the same as for a wrong password, without a check. Of concurrent changes from the same
   * password one wins; for the others it is no longer the current one.
   */
  async changeOwnPassword(
    principal: Principal,
    currentPassword: string,
    newPassword: string,
    clientAddress?: string,
  ): Promise<void> {
    const user = await this.users.findOne({
      where: { id: principal.id },
      select: { id: true, passwordHash: true, lockedUntil: true },
    });
    if (!user) {
      throw incorrectCurrentPassword();
    }
    const target = auditTarget('user', principal.name);
    const failed = (reason: string) =>
      this.audit.recordAlone({ actor: principal, action: 'iam:ChangePassword', target, outcome: 'failed', reason });
    if (isLocked(user, new Date())) {
      await this.hasher.verify(null, currentPassword); // as long as a real check (see login)
      await this.failures.recordFailure(clientAddress);
      await failed('locked');
      throw incorrectCurrentPassword();
    }
    if (!(await this.hasher.verify(user.passwordHash, currentPassword))) {
      await this.failures.recordFailure(clientAddress);
      await this.recordWrongPassword(user.id);
      await failed('invalid_credentials');
      throw incorrectCurrentPassword();
    }
    const hash = await this.hasher.hash(newPassword);
    const now = new Date();
    const changedMeanwhile = incorrectCurrentPassword();
    await this.tx
      .run(async (em) => {
        if (!(await this.lockUnchangedPassword(em, user.id, user.passwordHash, now))) {
          throw changedMeanwhile;
        }
        await em.update(User, { id: user.id }, { passwordHash: hash, failedLogins: 0, failedLoginsSince: null });
        await em.delete(
          Session,
          principal.sessionId ? { userId: user.id, id: Not(principal.sessionId) } : { userId: user.id },
        );
        await this.audit.record(em, {
          actor: principal,
          action: 'iam:ChangePassword',
          target,
          changes: { password: secretChanged() },
        });
      })
      .catch(async (error: unknown) => {
        if (error === changedMeanwhile) {
          await failed('invalid_credentials');
        }
        throw error;
      });
  }

  /**
   * Counts a wrong password against the account, in one UPDATE (so concurrent failures all count, on any
   * number of instances): failures older than IAM_LOCKOUT_MINUTES start the count afresh; the
   * IAM_LOCKOUT_THRESHOLD-th locks the account for IAM_LOCKOUT_MINUTES and clears the count. A single
   * auto-committed statement: it holds the user's row lock alone and only for itself (lock order: see
   * TransactionService).
   */
  private async recordWrongPassword(userId: string): Promise<void> {
    const now = new Date();
    const lockoutMs = this.config.lockoutMinutes * 60_000;
    const fresh = '(failed_logins_since IS NULL OR failed_logins_since <= :windowStart)';
    const count = `(CASE WHEN ${fresh} THEN 1 ELSE failed_logins + 1 END)`;
    const reached = `${count} >= :threshold`;
    await this.tx.write((em) =>
      em
        .createQueryBuilder()
        .update(User)
        .set({
          failedLogins: () => `CASE WHEN ${reached} THEN 0 ELSE ${count} END`,
          failedLoginsSince: () =>
            `CASE WHEN ${reached} THEN NULL WHEN ${fresh} THEN :now ELSE failed_logins_since END`,
          lockedUntil: () => `CASE WHEN ${reached} THEN :lockedUntil ELSE locked_until END`,
        })
        .where('id = :id', { id: userId })
        .setParameters({
          now,
          windowStart: new Date(now.getTime() - lockoutMs),
          lockedUntil: new Date(now.getTime() + lockoutMs),
          threshold: this.config.lockoutThreshold,
        })
        .execute(),
    );
  }

  /**
   * Locks the user's row (FOR UPDATE; lock order: see TransactionService) and tells whether its password
   * hash is still `checked`, the one verified before the transaction, and the account is not locked: argon2
   * is too slow to verify under a lock, so the check is made first and confirmed here.
   */
  private async lockUnchangedPassword(
    em: EntityManager,
    userId: string,
    checked: string | null,
    now: Date,
  ): Promise<boolean> {
    const current = await em.findOne(User, {
      where: { id: userId },
      select: { id: true, passwordHash: true, lockedUntil: true, active: true },
      lock: this.tx.rowLock,
    });
    return (
      current !== null &&
      checked !== null &&
      current.passwordHash === checked &&
      current.active &&
      !isLocked(current, now)
    );
  }
}
