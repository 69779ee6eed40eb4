import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { type ObjectLiteral, Repository, type SelectQueryBuilder } from 'typeorm';
import { escapeLike } from '../auth/policy-sql.js';
import { ApiError } from '../common/api-error.js';
import { DEFAULT_LIST_LIMIT, type ListQueryDto } from '../common/dto/list-query.dto.js';
import { IAM_DATA_SOURCE } from '../database/iam-data-source.js';
import { IamKey } from './entities/iam-key.entity.js';

/** The lists that page. A token from one is refused by the others. */
export type ListName = 'users' | 'groups' | 'roles' | 'service-accounts' | 'sessions' | 'audit-events';

/** The filters a list was asked for: a token is valid only with the same ones. */
export interface ListFilters {
  q?: string;
  group?: string;
  /** Any other filter of a list (the audit list's actor, target, …), by its query parameter's name. */
  [filter: string]: string | undefined;
}

/** A page asked for: how many items, after which sort key (null: from the start), with which filters. */
export interface PageRequest {
  list: ListName;
  limit: number;
  after: string | null;
  filters: ListFilters;
}

/** A page: its rows, and the token of the next page while more remain. */
export interface Page<T> {
  rows: T[];
  nextPageToken?: string;
}

/** A list's answer: the page's items, and the token of the next page while more remain. */
export function listBody<T>(items: T[], page: Page<unknown>): { items: T[]; next_page_token?: string } {
  return { items, ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}) };
}

/** `q` as a LIKE pattern (for `ESCAPE '\'`) over lower-cased text: a substring, `%`, `_` and `\` literal. */
export const containsPattern = (q: string) => `%${escapeLike(q.toLowerCase())}%`;

const TOKEN_VERSION = 1;
const KEY_NAME = 'page-token';

interface TokenPayload {
  /** Format version. */
  v: number;
  /** The list. */
  l: ListName;
  /** Fingerprint of the filters. */
  f: string;
  /** The sort key of the last item of the page: the next page starts after it. */
  k: string;
}

/** The filters' digest; with `q` and `group` alone, the same as before other filters existed. */
function fingerprint(filters: ListFilters): string {
  const { q, group, ...others } = filters;
  const rest = Object.entries(others)
    .filter(([, value]) => value !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : 1));
  return createHash('sha256')
    .update(JSON.stringify(rest.length > 0 ? [q ?? null, group ?? null, rest] : [q ?? null, group ?? null]))
    .digest('base64url')
    .slice(0, 16);
}

/** A newest-first key: the row's time and id (the id breaks ties between rows of one millisecond). */
export interface TimeKey {
  time: Date;
  id: string;
}

const TIME_KEY = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z) ([0-9a-f-]{36})$/;

const invalid = (why: string) =>
  ApiError.invalidField('page_token', 'invalid_value', `page_token ${why}; start again without it`);

/**
 * Page tokens: base64url of a small JSON (version, list, filters' fingerprint, last key) and its HMAC-SHA256. The key
 * lives in the database (table iam_keys), made at the first start of the first instance, so that every instance and
 * every restart accept each other's tokens. A token that was altered, cut short, or issued for another list or other
 * filters is a 400 naming `page_token`.
 */
@Injectable()
export class PageTokenService implements OnApplicationBootstrap {
  private key?: Promise<Buffer>;

  constructor(@InjectRepository(IamKey, IAM_DATA_SOURCE) private readonly keys: Repository<IamKey>) {}

  /** At start-up, so that no request (a refused one included) writes. */
  async onApplicationBootstrap(): Promise<void> {
    await this.signingKey();
  }

  /**
   * One page of `select` (the list's own conditions already added), in the order of `keyColumn`, which must be
   * unique and indexed: the rows after the page token's key, limit + 1 of them read by `read` in one statement (the
   * extra one says that more remain), and the token of the next page while more remain. `keyOf` is a row's key.
   */
  async page<E extends ObjectLiteral, T>(
    list: ListName,
    query: ListQueryDto & { group?: string },
    select: SelectQueryBuilder<E>,
    keyColumn: string,
    read: (select: SelectQueryBuilder<E>) => Promise<T[]>,
    keyOf: (row: T) => string,
  ): Promise<Page<T>> {
    const request = await this.start(list, query);
    if (request.after !== null) {
      select.andWhere(`${keyColumn} > :pageAfter`, { pageAfter: request.after });
    }
    return this.finish(request, await read(select.orderBy(keyColumn, 'ASC').limit(request.limit + 1)), keyOf);
  }

  /**
   * One page of `select` newest first: in descending order of (`timeColumn`, `idColumn`), which an index must hold, the
   * rows before the page token's key; limit + 1 of them read by `read`, as page() does. `filters` are the list's own
   * (a token is valid only with the same ones); `keyOf` is a row's time and id.
   */
  async pageNewestFirst<E extends ObjectLiteral, T>(
    list: ListName,
    query: Pick<ListQueryDto, 'limit' | 'page_token'>,
    filters: ListFilters,
    select: SelectQueryBuilder<E>,
    [timeColumn, idColumn]: [string, string],
    read: (select: SelectQueryBuilder<E>) => Promise<T[]>,
    keyOf: (row: T) => TimeKey,
  ): Promise<Page<T>> {
    const request = await this.start(list, query, filters);
    if (request.after !== null) {
      const key = TIME_KEY.exec(request.after);
      if (!key) {
        throw invalid('has an unknown format');
      }
      // `time <= key` first: a range of the index on both databases; the rest only sorts out that one millisecond.
      select.andWhere(`${timeColumn} <= :pageTime AND (${timeColumn} < :pageTime OR ${idColumn} < :pageId)`, {
        pageTime: new Date(key[1]),
        pageId: key[2],
      });
    }
    const rows = await read(
      select
        .orderBy(timeColumn, 'DESC')
        .addOrderBy(idColumn, 'DESC')
        .limit(request.limit + 1),
    );
    return this.finish(request, rows, (row) => {
      const { time, id } = keyOf(row);
      return `${time.toISOString()} ${id}`;
    });
  }

  /** The page a list query asks for (its page_token read and checked). */
  private async start(
    list: ListName,
    query: Pick<ListQueryDto, 'limit' | 'page_token'> & { q?: string; group?: string },
    filters: ListFilters = { q: query.q, group: query.group },
  ): Promise<PageRequest> {
    return {
      list,
      limit: query.limit ?? DEFAULT_LIST_LIMIT,
      after: query.page_token === undefined ? null : await this.read(list, filters, query.page_token),
      filters,
    };
  }

  /**
   * The page from `rows`, read as `limit + 1` rows in key order: the extra row, when there is one, says that more
   * remain, and the token then points after the page's last row.
   */
  private async finish<T>(request: PageRequest, rows: T[], keyOf: (row: T) => string): Promise<Page<T>> {
    if (rows.length <= request.limit) {
      return { rows };
    }
    const page = rows.slice(0, request.limit);
    return { rows: page, nextPageToken: await this.issue(request.list, request.filters, keyOf(page[page.length - 1])) };
  }

  async issue(list: ListName, filters: ListFilters, lastKey: string): Promise<string> {
    const payload: TokenPayload = { v: TOKEN_VERSION, l: list, f: fingerprint(filters), k: lastKey };
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return `${body}.${await this.sign(body)}`;
  }

  /** The last key a token carries, or a 400 naming `page_token`. */
  async read(list: ListName, filters: ListFilters, token: string): Promise<string> {
    const [body, signature, ...rest] = token.split('.');
    if (rest.length > 0 || !body || !signature) {
      throw invalid('is malformed');
    }
    const expected = Buffer.from(await this.sign(body));
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw invalid('is not one this service issued (altered or cut short)');
    }
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as TokenPayload;
    if (payload.v !== TOKEN_VERSION || typeof payload.k !== 'string') {
      throw invalid('has an unknown format');
    }
    if (payload.l !== list) {
      throw invalid(`was issued for another list (${payload.l})`);
    }
    if (payload.f !== fingerprint(filters)) {
      throw invalid('was issued for other filters (q, group): send the same ones with every page');
    }
    return payload.k;
  }

  private async sign(body: string): Promise<string> {
    return createHmac('sha256', await this.signingKey())
      .update(body)
      .digest('base64url');
  }

  /** The key row, inserted if absent (by whichever instance comes first), then read; retried after a failure. */
  private signingKey(): Promise<Buffer> {
    this.key ??= (async () => {
      await this.keys
        .createQueryBuilder()
        .insert()
        .values({ name: KEY_NAME, value: randomBytes(32).toString('base64url'), createdAt: new Date() })
        .orIgnore()
        .execute();
      const row = await this.keys.findOneOrFail({ where: { name: KEY_NAME }, select: { name: true, value: true } });
      return Buffer.from(row.value, 'base64url');
    })().catch((error: unknown) => {
      this.key = undefined;
      throw error;
    });
    return this.key;
  }
}
