import { Injectable } from '@nestjs/common';
import { changesOf } from '../audit/audit-event.js';
import { AuditService } from '../audit/audit.service.js';
import type { Principal } from '../auth/principal.js';
import { TransactionService } from '../database/transaction.service.js';
import type { UserDto } from '../users/dto/user-response.dto.js';
import { User } from '../users/entities/user.entity.js';
import { userKeyOf, UsersService, userTarget } from '../users/users.service.js';
import { ApiError } from '../common/api-error.js';
import type { UpdateProfileDto } from './dto/update-profile.dto.js';
import { Profile } from './entities/profile.entity.js';

const cleared = (value: string | null) => (value === '' ? null : value);

@Injectable()
export class ProfilesService {
  constructor(
    private readonly users: UsersService,
    private readonly tx: TransactionService,
    private readonly audit: AuditService,
  ) {}

  async update(principal: Principal, name: string, dto: UpdateProfileDto): Promise<UserDto> {
    await this.tx.runKeepingAuthority(async (em) => {
      const user = await em.findOne(User, { where: { nameKey: await userKeyOf(em, name) }, lock: this.tx.rowLock });
      if (!user) {
        throw ApiError.notFound(`User "${name}" not found`);
      }
      // The e-mail address is how a person is reached (and, with single sign-on, recognised): no takeover.
      await this.users.assertMayActOn(principal, user, 'iam:UpdateUserProfile', em);
      const profile =
        (await em.findOne(Profile, { where: { userId: user.id } })) ??
        em.create(Profile, { userId: user.id, fullName: null, emailAddress: null });
      const before = { full_name: profile.fullName, email_address: profile.emailAddress };
      if (dto.full_name !== undefined) {
        profile.fullName = cleared(dto.full_name);
      }
      if (dto.email_address !== undefined) {
        profile.emailAddress = cleared(dto.email_address);
      }
      await em.save(Profile, profile);
      await this.audit.record(em, {
        actor: principal,
        action: 'iam:UpdateUserProfile',
        target: userTarget(user),
        changes: changesOf(before, { full_name: profile.fullName, email_address: profile.emailAddress }),
      });
    });
    return this.users.get(name);
  }
}
