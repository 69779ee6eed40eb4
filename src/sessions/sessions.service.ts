import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { type EntityManager, LessThan, Not, Repository } from 'typeorm';
import { AdministratorsService } from '../auth/administrators.service.js';
import { PasswordHasher } from '../auth/password-hasher.js';
import type { Authenticated } from '../auth/principal-cache.js';
import type { Principal } from '../auth/principal.js';
import { digestsEqual, generateSecret, hashSecret } from '../auth/tokens.js';
import { ApiError } from '../common/api-error.js';
import type { AuthConfig } from '../config/auth.config.js';
import { IAM_AUTH_CONFIG, IAM_PROCESS_KIND, type IamProcessKind } from '../iam.options.js';
import { TransactionService } from '../database/transaction.service.js';
import { CredentialFailuresService } from '../rate-limit/credential-failures.service.js';
import type { UserDto } from '../users/dto/user-response.dto.js';
import { User } from '../users/entities/user.entity.js';
import { userKeyOf, UsersService } from '../users/users.service.js';
import { Session } from './entities/session.entity.js';
import { IAM_DATA_SOURCE } from '../database/iam-data-source.js';

/** A session id as we issue it: 32 random bytes, base64url. Anything else is rejected unseen. */
const SESSION_ID_FORMAT = /^[A-Za-z0-9_-]{43}$/;

/** The one answer to an unknown name, a wrong password, no password, or a password changed meanwhile. */
const invalidLogin = () => ApiError.unauthorised('Invalid username or password');

/** The answer to a current_password that is wrong, or no longer current. */
const incorrectCurrentPassword = () =>
  ApiError.invalidField('current_password', 'incorrect', 'current_password is not correct');

/** Whether sign-in and password change are refused for now (IAM_LOCKOUT_THRESHOLD wrong passwords). */
const isLocked = (user: Pick<User, 'lockedUntil'>, now: Date) => user.lockedUntil !== null && user.lockedUntil > now;

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
    private readonly usersService: UsersService,
    private readonly administrators: AdministratorsService,
    private readonly hasher: PasswordHasher,
    private readonly tx: TransactionService,
    private readonly failures: CredentialFailuresService,
    @Inject(IAM_PROCESS_KIND) private readonly processKind: IamProcessKind,
  ) {}

  /** Expired sessions are refused anyway; this keeps the table from growing without bound (a service's chore). */
  async onApplicationBootstrap(): Promise<void> {
    if (this.processKind === 'cli') {
      return;
    }
    await this.tx.write((em) => em.delete(Session, { expiresAt: LessThan(new Date()) }));
  }

  /**
   * Checks name and password; the same 401 for an unknown name, a wrong password, no password, a locked
   * account or a password changed meanwhile. A locked account is refused without checking the password (but
   * after as long as a check takes, so that the answer's timing does not tell the lock either). Every
   * failure counts against the client address, a wrong password against the account too (lockout); a
   * success forgets the account's failures. The session is made only if the password checked is still the
   * user's: one set while it was being checked ends every session, and this one must not slip in after.
   * The session the caller presented (`presented`, its cookie), whoever's it is, ends with the new one's
   * start: a sign-in never leaves a session behind.
   */
  async login(username: string, password: string, clientAddress?: string, presented?: string): Promise<NewSession> {
    await this.failures.assertNotBlocked(clientAddress);
    const user = await this.users.findOne({
      where: { nameKey: await userKeyOf(this.users.manager, username) },
      select: { id: true, name: true, passwordHash: true, lockedUntil: true },
    });
    if (user && isLocked(user, new Date())) {
      // A check of nothing, which takes as long as a real one: a locked account must not answer faster.
      await this.hasher.verify(null, password);
      await this.failures.recordFailure(clientAddress);
      throw invalidLogin();
    }
    const ok = await this.hasher.verify(user?.passwordHash, password);
    if (!user || !ok) {
      await this.failures.recordFailure(clientAddress);
      if (user) {
        await this.recordWrongPassword(user.id);
      }
      throw invalidLogin();
    }
    const sessionId = generateSecret();
    const now = new Date();
    const expiresAt = new Date(now.getTime() + this.config.sessionTtlMinutes * 60_000);
    await this.tx.run(async (em) => {
      if (!(await this.lockUnchangedPassword(em, user.id, user.passwordHash, now))) {
        throw invalidLogin();
      }
      await em.delete(Session, { userId: user.id, expiresAt: LessThan(now) });
      if (presented !== undefined && SESSION_ID_FORMAT.test(presented)) {
        await em.delete(Session, { tokenHash: hashSecret(presented) });
      }
      await em.insert(Session, {
        id: randomUUID(),
        userId: user.id,
        tokenHash: hashSecret(sessionId),
        createdAt: now,
        expiresAt,
      });
      await em.update(User, { id: user.id }, { lastSeenAt: now, failedLogins: 0, failedLoginsSince: null });
    });
    return { sessionId, expiresAt, user: await this.usersService.getById(user.id) };
  }

  /** The principal behind a session cookie, and the session's expiry; 401 when unknown, ended or expired. */
  async authenticate(sessionId: string): Promise<Authenticated> {
    if (!SESSION_ID_FORMAT.test(sessionId)) {
      throw ApiError.unauthorised('Invalid session');
    }
    const digest = hashSecret(sessionId);
    const session = await this.sessions.findOne({
      where: { tokenHash: digest },
      select: { id: true, userId: true, tokenHash: true, expiresAt: true, user: { id: true, name: true } },
      relations: { user: true },
    });
    if (!session || !digestsEqual(session.tokenHash, digest)) {
      throw ApiError.unauthorised('Invalid or ended session: sign in again');
    }
    const now = new Date();
    if (session.expiresAt <= now) {
      // Refused by its expiry everywhere already (PrincipalCache included): removing it changes no one's authority.
      await this.tx.write((em) => em.delete(Session, { id: session.id }));
      throw ApiError.unauthorised('Session expired: sign in again');
    }
    return {
      principal: {
        kind: 'user',
        id: session.user.id,
        name: session.user.name,
        isAdmin: this.administrators.isAdministrator(session.user.name),
        sessionId: session.id,
      },
      expiresAt: session.expiresAt,
    };
  }

  async end(sessionId: string): Promise<void> {
    await this.tx.run((em) => em.delete(Session, { id: sessionId }));
  }

  async endAll(userId: string): Promise<void> {
    await this.tx.run((em) => em.delete(Session, { userId }));
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
    if (isLocked(user, new Date())) {
      await this.hasher.verify(null, currentPassword); // as long as a real check (see login)
      await this.failures.recordFailure(clientAddress);
      throw incorrectCurrentPassword();
    }
    if (!(await this.hasher.verify(user.passwordHash, currentPassword))) {
      await this.failures.recordFailure(clientAddress);
      await this.recordWrongPassword(user.id);
      throw incorrectCurrentPassword();
    }
    const hash = await this.hasher.hash(newPassword);
    const now = new Date();
    await this.tx.run(async (em) => {
      if (!(await this.lockUnchangedPassword(em, user.id, user.passwordHash, now))) {
        throw incorrectCurrentPassword();
      }
      await em.update(User, { id: user.id }, { passwordHash: hash, failedLogins: 0, failedLoginsSince: null });
      await em.delete(
        Session,
        principal.sessionId ? { userId: user.id, id: Not(principal.sessionId) } : { userId: user.id },
      );
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
      select: { id: true, passwordHash: true, lockedUntil: true },
      lock: this.tx.rowLock,
    });
    return current !== null && checked !== null && current.passwordHash === checked && !isLocked(current, now);
  }
}
