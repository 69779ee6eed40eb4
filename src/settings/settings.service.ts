import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { auditTarget, changesOf } from '../audit/audit-event.js';
import { AuditService } from '../audit/audit.service.js';
import type { Principal } from '../auth/principal.js';
import { TransactionService } from '../database/transaction.service.js';
import type { SettingsDto, UpdateSettingsDto } from './dto/settings.dto.js';
import { UserSettings } from './entities/user-settings.entity.js';
import { canonicalLanguageTag, canonicalTimeZone } from './settings.validators.js';
import { IAM_DATA_SOURCE } from '../database/iam-data-source.js';

export const DEFAULT_SETTINGS: SettingsDto = { theme: 'system', timezone: 'UTC', language: 'en', week_start: 'monday' };

function toSettingsDto(row: UserSettings | null): SettingsDto {
  if (!row) {
    return { ...DEFAULT_SETTINGS };
  }
  return { theme: row.theme, timezone: row.timezone, language: row.language, week_start: row.weekStart };
}

@Injectable()
export class SettingsService {
  constructor(
    @InjectRepository(UserSettings, IAM_DATA_SOURCE) private readonly settings: Repository<UserSettings>,
    private readonly tx: TransactionService,
    private readonly audit: AuditService,
  ) {}

  async get(userId: string): Promise<SettingsDto> {
    return toSettingsDto(await this.settings.findOne({ where: { userId } }));
  }

  /** Changes the signed-in user's settings. */
  async update(principal: Principal, dto: UpdateSettingsDto): Promise<SettingsDto> {
    const userId = principal.id;
    return this.tx.runKeepingAuthority(async (em) => {
      const current = toSettingsDto(await em.findOne(UserSettings, { where: { userId }, lock: this.tx.rowLock }));
      const next: SettingsDto = {
        theme: dto.theme ?? current.theme,
        timezone: dto.timezone !== undefined ? (canonicalTimeZone(dto.timezone) ?? dto.timezone) : current.timezone,
        language: dto.language !== undefined ? (canonicalLanguageTag(dto.language) ?? dto.language) : current.language,
        week_start: dto.week_start ?? current.week_start,
      };
      await em.upsert(
        UserSettings,
        { userId, theme: next.theme, timezone: next.timezone, language: next.language, weekStart: next.week_start },
        ['userId'],
      );
      await this.audit.record(em, {
        actor: principal,
        action: 'iam:UpdateUserSettings',
        target: auditTarget('user', principal.name),
        changes: changesOf({ ...current }, { ...next }),
      });
      return next;
    });
  }
}
