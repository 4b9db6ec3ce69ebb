import jwt from 'jsonwebtoken';
import type { RefusalReason } from '../domain/sessionEnd.js';
import { claimsSchema, type RelaisClaims } from './claims.js';
import { noRevocations, type RevocationList } from './revocations.js';
import { DEFAULT_MAX_TOKEN_LIFETIME_SECONDS, formatDuration, tokenLifetimeSeconds } from './tokenLifetime.js';
import { TokenRefused } from './tokenRefused.js';

export interface VerifierKey {
  algorithm: 'HS256' | 'RS256' | 'ES256';
  /** HS256 shared secret, or the PEM public key for RS256/ES256. */
  key: string;
  issuer?: string;
  audience?: string;
  /** RELAIS_MAX_TOKEN_LIFETIME: a token living longer is refused (default 24 h). */
  maxLifetimeSeconds?: number;
}

/** What `safeVerify` answers: the claims, or why the token is refused. */
export type Verification = { ok: true; claims: RelaisClaims } | { ok: false; reason: RefusalReason; message: string };

/** Longer than any real JWT: refused before parsing. */
const MAX_TOKEN_CHARACTERS = 8192;

/** Three base64url parts with a JSON header: anything else is not a token at all (e.g. a cut link). */
function looksLikeJwt(token: string): boolean {
  try {
    return jwt.decode(token, { complete: true }) !== null;
  } catch {
    return false;
  }
}

/**
 * Verifies a relais access token. The algorithm is pinned by configuration, so `alg: none`
 * and algorithm-confusion tokens are refused by jsonwebtoken before any claim is read.
 * Every refusal is a `TokenRefused` carrying a stable reason.
 */
export class TokenVerifier {
  readonly maxLifetimeSeconds: number;

  constructor(
    private readonly config: VerifierKey,
    private readonly revocations: RevocationList = noRevocations,
  ) {
    this.maxLifetimeSeconds = config.maxLifetimeSeconds ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS;
    // A revocation forgotten before the token it names has expired would bring that token back.
    if (revocations.retentionMs < this.maxLifetimeSeconds * 1000) {
      throw new Error(
        `revocations are kept ${formatDuration(revocations.retentionMs / 1000)}, ` +
          `less than the maximum token lifetime (${formatDuration(this.maxLifetimeSeconds)})`,
      );
    }
  }

  /** The claims of a valid token; throws `TokenRefused` otherwise. */
  verify(token: unknown, now: number = Date.now()): RelaisClaims {
    if (typeof token !== 'string' || token.length === 0) {
      throw new TokenRefused('token-missing', 'An access token is required.');
    }
    if (token.length > MAX_TOKEN_CHARACTERS || !looksLikeJwt(token)) {
      throw new TokenRefused('token-missing', 'The access token is not a JWT: open the whole link you were given.');
    }
    const nowSeconds = Math.floor(now / 1000);
    let decoded: unknown;
    try {
      decoded = jwt.verify(token, this.config.key, {
        algorithms: [this.config.algorithm],
        clockTimestamp: nowSeconds,
        ...(this.config.issuer ? { issuer: this.config.issuer } : {}),
        ...(this.config.audience ? { audience: this.config.audience } : {}),
      });
    } catch (error) {
      if (error instanceof jwt.TokenExpiredError) throw new TokenRefused('expired', 'The access token has expired.');
      const detail = error instanceof Error ? error.message : 'invalid token';
      throw new TokenRefused('token-invalid', `The access token is not valid (${detail}).`);
    }
    const parsed = claimsSchema.safeParse(decoded);
    if (!parsed.success) {
      const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.') || 'claims'))].join(', ');
      throw new TokenRefused('token-invalid', `The access token lacks valid claims: ${fields}.`);
    }
    const lifetime = tokenLifetimeSeconds(parsed.data, nowSeconds);
    if (lifetime > this.maxLifetimeSeconds) {
      throw new TokenRefused(
        'lifetime-too-long',
        `The access token is valid for ${formatDuration(lifetime)}; this server accepts tokens valid for at most ` +
          `${formatDuration(this.maxLifetimeSeconds)} (RELAIS_MAX_TOKEN_LIFETIME). Ask for a shorter-lived token.`,
      );
    }
    if (this.revocations.isRevoked(parsed.data, now)) {
      throw new TokenRefused('revoked', 'The access token has been revoked.');
    }
    return parsed.data;
  }

  /** `verify` without the throw, for callers that branch on the reason (the handshake). */
  safeVerify(token: unknown, now: number = Date.now()): Verification {
    try {
      return { ok: true, claims: this.verify(token, now) };
    } catch (error) {
      if (error instanceof TokenRefused) return { ok: false, reason: error.reason, message: error.message };
      throw error;
    }
  }
}
