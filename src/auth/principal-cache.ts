import { Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { hashSecret } from './tokens.js';
import { AuthorityVersionService } from '../database/authority-version.service.js';
import { AuthorizationService } from './authorization.service.js';
import { LastSeenService } from './last-seen.service.js';
import type { CompiledPolicy } from './policy.js';
import type { CredentialPrincipal, Principal } from './principal.js';

/**
 * What a credential check found: the principal, and until when the credential is good (null: no expiry). For a
 * session, the sooner of its expiry and its idle deadline (counted from its last stamp): a cached entry is never
 * used past either.
 */
export interface Authenticated {
  principal: CredentialPrincipal;
  expiresAt: Date | null;
}

interface Entry {
  principal: Readonly<CredentialPrincipal>;
  policy: CompiledPolicy;
  /** Epoch milliseconds; null when the credential does not expire. */
  expiresAt: number | null;
  generation: number;
}

/** Principals remembered per instance; the least recently used are dropped beyond this. */
const CACHED_PRINCIPALS = 10_000;

/**
 * A safety net for changes made outside the service (SQL typed by hand, a restored backup), which do not move the
 * authority version: nothing cached is used for longer than this.
 */
const MAX_ENTRY_AGE_MS = 60_000;

/**
 * Who holds a credential (a session cookie, a bearer token), with the policy of everything their groups' roles grant:
 * looked up once, then answered from memory while nothing that could change it has happened.
 *
 * An entry is good only for the authority generation it was loaded in (AuthorityVersionService): every write that
 * may change who may do what ends the generation on this instance at once, and on the others within a fraction of a
 * second; while the counter cannot be read, nothing is answered from memory. Expired sessions and tokens are refused
 * from memory too, and so is a session past its idle deadline as last read: it is looked up again, and then good
 * only if it was stamped as used meanwhile (LastSeenService). Only successful checks are remembered: a wrong
 * credential is looked up (and counted) every time.
 */
@Injectable()
export class PrincipalCache {
  private readonly entries = new LRUCache<string, Entry>({ max: CACHED_PRINCIPALS, ttl: MAX_ENTRY_AGE_MS });

  constructor(
    private readonly authority: AuthorityVersionService,
    private readonly authorization: AuthorizationService,
    private readonly lastSeen: LastSeenService,
  ) {}

  /**
   * The principal behind `secret` (of the credential kind `kind`), from memory or else from `authenticate`, which
   * throws when the credential is not good. Each call answers a new principal object, with its policy attached for
   * AuthorizationService.
   */
  async resolve(kind: string, secret: string, authenticate: () => Promise<Authenticated>): Promise<Principal> {
    const key = `${kind}:${hashSecret(secret)}`;
    const generation = await this.authority.confirmed();
    let entry = generation === null ? undefined : this.entries.get(key);
    if (!entry || entry.generation !== generation || (entry.expiresAt !== null && entry.expiresAt <= Date.now())) {
      this.entries.delete(key);
      const found = await authenticate();
      entry = {
        principal: Object.freeze({ ...found.principal }),
        policy: await this.authorization.loadPolicy(found.principal),
        expiresAt: found.expiresAt?.getTime() ?? null,
        generation: generation ?? Number.NaN,
      };
      if (generation !== null) {
        this.entries.set(key, entry);
      }
    }
    const principal: CredentialPrincipal = { ...entry.principal };
    this.authorization.adopt(principal, entry.policy);
    this.lastSeen.record(principal);
    return principal;
  }

  /** How many principals are remembered (for tests and diagnostics). */
  get size(): number {
    return this.entries.size;
  }
}
