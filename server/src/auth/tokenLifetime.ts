import type { RelaisClaims } from './claims.js';

/**
 * The longest a token may live (RELAIS_MAX_TOKEN_LIFETIME). Revocations are kept at least this
 * long, so a revoked token issued before its revocation can never outlive it.
 */
export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 24 * 3600;

/**
 * How long a token claims to live: `exp - iat`, or without `iat`, what is left of it (`exp - now`).
 * Whichever is larger counts, so an `iat` dated in the future buys no extra time.
 */
export function tokenLifetimeSeconds(claims: Pick<RelaisClaims, 'exp' | 'iat'>, nowSeconds: number): number {
  const remaining = claims.exp - nowSeconds;
  return claims.iat === undefined ? remaining : Math.max(claims.exp - claims.iat, remaining);
}

/** "24 h", "90 min", "3 days": durations in messages an operator reads. */
export function formatDuration(seconds: number): string {
  if (seconds >= 2 * 86_400 && seconds % 86_400 === 0) return `${seconds / 86_400} days`;
  if (seconds >= 3600 && seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds >= 3600) return `${(seconds / 3600).toFixed(1)} h`;
  if (seconds >= 60 && seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}
