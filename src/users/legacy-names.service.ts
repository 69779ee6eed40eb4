import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { nameProblem } from '../common/names.js';
import { SLUG_NAME_PATTERN } from '../common/validators.js';
import { IAM_DATA_SOURCE } from '../database/iam-data-source.js';
import { IAM_PROCESS_KIND, type IamProcessKind } from '../iam.options.js';

export type NamedKind = 'user' | 'group' | 'role' | 'service_account';

export interface LegacyName {
  kind: NamedKind;
  /** The name with every character outside printable ASCII written as \uXXXX, so that none hides in the log. */
  name: string;
  reason: string;
}

const TABLES: [NamedKind, string][] = [
  ['user', 'users'],
  ['group', 'groups'],
  ['role', 'roles'],
  ['service_account', 'service_accounts'],
];

/** A name as it can be read in a log line: non-ASCII and invisible characters as \uXXXX escapes. */
export const visibleName = (name: string): string =>
  name.replace(/[^\x21-\x7E]/gu, (char) => {
    const code = char.codePointAt(0)!.toString(16).toUpperCase();
    return code.length <= 4 ? `\\u${code.padStart(4, '0')}` : `\\u{${code}}`;
  });

/** Why a stored name would be refused by today's rules for its kind, or null. */
export function legacyReason(kind: NamedKind, name: string): string | null {
  if (kind === 'user') {
    return nameProblem(name)?.reason ?? null;
  }
  return SLUG_NAME_PATTERN.test(name) ? null : 'is not lower-case letters, digits and hyphens';
}

/**
 * Names stored before the current name rules (names.ts) that those rules would now refuse: `аlice` with a
 * Cyrillic а, `josé` in NFD, a name with an invisible character or a ":". They keep working (look-ups,
 * sign-in, deletes), and each start lists them in one warning, so that an operator can rename or delete them.
 */
@Injectable()
export class LegacyNamesService implements OnApplicationBootstrap {
  private readonly logger = new Logger(LegacyNamesService.name);

  constructor(
    @InjectDataSource(IAM_DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(IAM_PROCESS_KIND) private readonly processKind: IamProcessKind,
  ) {}

  /** The service's start-up warning; the admin CLI leaves it to the service. */
  async onApplicationBootstrap(): Promise<void> {
    if (this.processKind === 'cli') {
      return;
    }
    const legacy = await this.find();
    if (legacy.length > 0) {
      this.logger.warn(
        { legacyNames: legacy },
        `${legacy.length} stored name${legacy.length > 1 ? 's' : ''} would be refused by the current name rules ` +
          '(they keep working; rename or delete them): ' +
          legacy.map((entry) => `${entry.kind} "${entry.name}" (${entry.reason})`).join(', '),
      );
    }
  }

  async find(): Promise<LegacyName[]> {
    const found: LegacyName[] = [];
    for (const [kind, table] of TABLES) {
      const rows = await this.dataSource
        .createQueryBuilder()
        .select('t.name', 'name')
        .from(table, 't')
        .orderBy('t.name')
        .getRawMany<{ name: string }>();
      for (const { name } of rows) {
        const reason = legacyReason(kind, name);
        if (reason !== null) {
          found.push({ kind, name: visibleName(name), reason });
        }
      }
    }
    return found;
  }
}
