import { RelaisError } from '../domain/errors.js';
import type { RelaisClaims } from './claims.js';
import { DEFAULT_MAX_TOKEN_LIFETIME_SECONDS } from './tokenLifetime.js';

/** What a revocation names: one token (its `jti`), or every token of a person (`sub`) issued so far. */
export type RevocationTarget = { jti: string } | { sub: string };

export interface Revocation {
  target: RevocationTarget;
  /** ms since the epoch. */
  revokedAt: number;
  /** The entry is dropped then: no token it could match is still valid. */
  forgetAt: number;
  reason?: string;
}

/** Token ids and people an operator has revoked, asked on every connection. */
export interface RevocationList {
  isRevoked(claims: Pick<RelaisClaims, 'sub' | 'jti' | 'iat'>, now?: number): boolean;
  /** How long a revocation is kept (ms): the verifier refuses to accept tokens living longer. */
  readonly retentionMs: number;
}

export const noRevocations: RevocationList = { isRevoked: () => false, retentionMs: Number.POSITIVE_INFINITY };
/** Bounds memory against a runaway script on the admin side. */
export const MAX_REVOCATIONS = 100_000;

/**
 * In-memory revocations of one server. Revoking a person (`sub`) refuses the tokens issued up to
 * that second (by `iat`; tokens without `iat` too), so a fresh token can be issued to them
 * afterwards, e.g. once a lost laptop is replaced. Entries are kept for the maximum token
 * lifetime (RELAIS_MAX_TOKEN_LIFETIME), which the verifier enforces: by then every token issued
 * before the revocation has expired anyway.
 */
export class InMemoryRevocations implements RevocationList {
  readonly retentionMs: number;
  private readonly byJti = new Map<string, Revocation>();
  private readonly bySub = new Map<string, Revocation>();

  constructor(options: { maxTokenLifetimeSeconds?: number } = {}) {
    this.retentionMs = (options.maxTokenLifetimeSeconds ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS) * 1000;
  }

  isRevoked(claims: Pick<RelaisClaims, 'sub' | 'jti' | 'iat'>, now: number = Date.now()): boolean {
    this.forgetExpired(now);
    if (claims.jti !== undefined && this.byJti.has(claims.jti)) return true;
    const person = this.bySub.get(claims.sub);
    return person !== undefined && InMemoryRevocations.matches(person, claims);
  }

  revoke(target: RevocationTarget, options: { reason?: string; now?: number } = {}): Revocation {
    const now = options.now ?? Date.now();
    this.forgetExpired(now);
    const [map, key] = 'jti' in target ? [this.byJti, target.jti] : [this.bySub, target.sub];
    if (!map.has(key) && this.size >= MAX_REVOCATIONS) {
      throw new RelaisError('CONFLICT', `At most ${MAX_REVOCATIONS} revocations are kept at once.`);
    }
    const entry: Revocation = {
      target,
      revokedAt: now,
      forgetAt: now + this.retentionMs,
      ...(options.reason ? { reason: options.reason } : {}),
    };
    // Re-inserted at the end, so each map stays ordered by forgetAt (see forgetExpired).
    map.delete(key);
    map.set(key, entry);
    return entry;
  }

  /**
   * Takes in a revocation made elsewhere (another node, or one stored before a restart), as it
   * was made. False when it is already known, or already past its `forgetAt`.
   */
  restore(entry: Revocation, now: number = Date.now()): boolean {
    this.forgetExpired(now);
    if (entry.forgetAt <= now) return false;
    const [map, key] = 'jti' in entry.target ? [this.byJti, entry.target.jti] : [this.bySub, entry.target.sub];
    const known = map.get(key);
    if (known && known.revokedAt >= entry.revokedAt) return false;
    if (!known && this.size >= MAX_REVOCATIONS) {
      throw new RelaisError('CONFLICT', `At most ${MAX_REVOCATIONS} revocations are kept at once.`);
    }
    // Out of forgetAt order it would be kept a little longer than needed, never forgotten early.
    map.delete(key);
    map.set(key, entry);
    return true;
  }

  /** Does this revocation apply to a session holding these claims? */
  static matches(entry: Revocation, claims: Pick<RelaisClaims, 'sub' | 'jti' | 'iat'>): boolean {
    if ('jti' in entry.target) return claims.jti === entry.target.jti;
    // iat has a one-second granularity: a token issued in the revocation's own second is refused.
    return (
      claims.sub === entry.target.sub && (claims.iat === undefined || claims.iat <= Math.floor(entry.revokedAt / 1000))
    );
  }

  list(now: number = Date.now()): Revocation[] {
    this.forgetExpired(now);
    return [...this.byJti.values(), ...this.bySub.values()].sort((a, b) => a.revokedAt - b.revokedAt);
  }

  get size(): number {
    return this.byJti.size + this.bySub.size;
  }

  /** Maps iterate in insertion order, which is forgetAt order: stop at the first live entry. */
  private forgetExpired(now: number): void {
    for (const map of [this.byJti, this.bySub]) {
      for (const [key, entry] of map) {
        if (entry.forgetAt > now) break;
        map.delete(key);
      }
    }
  }
}
