import jwt from 'jsonwebtoken';
import { RelaisError } from '../domain/errors.js';
import { claimsSchema, type RelaisClaims } from './claims.js';
import { noRevocations, type RevocationList } from './revocations.js';

export interface VerifierKey {
  algorithm: 'HS256' | 'RS256' | 'ES256';
  /** HS256 shared secret, or the PEM public key for RS256/ES256. */
  key: string;
  issuer?: string;
  audience?: string;
}

/**
 * Verifies a relais access token. The algorithm is pinned by configuration, so `alg: none`
 * and algorithm-confusion tokens are refused by jsonwebtoken before any claim is read.
 */
export class TokenVerifier {
  constructor(
    private readonly config: VerifierKey,
    private readonly revocations: RevocationList = noRevocations,
  ) {}

  verify(token: unknown, now: number = Date.now()): RelaisClaims {
    if (typeof token !== 'string' || token.length === 0 || token.length > 8192) {
      throw new RelaisError('UNAUTHORIZED', 'An access token is required.');
    }
    let decoded: unknown;
    try {
      decoded = jwt.verify(token, this.config.key, {
        algorithms: [this.config.algorithm],
        clockTimestamp: Math.floor(now / 1000),
        ...(this.config.issuer ? { issuer: this.config.issuer } : {}),
        ...(this.config.audience ? { audience: this.config.audience } : {}),
      });
    } catch (error) {
      if (error instanceof jwt.TokenExpiredError)
        throw new RelaisError('UNAUTHORIZED', 'The access token has expired.');
      const reason = error instanceof Error ? error.message : 'invalid token';
      throw new RelaisError('UNAUTHORIZED', `The access token is not valid (${reason}).`);
    }
    const parsed = claimsSchema.safeParse(decoded);
    if (!parsed.success) {
      const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.') || 'claims'))].join(', ');
      throw new RelaisError('UNAUTHORIZED', `The access token lacks valid claims: ${fields}.`);
    }
    if (this.revocations.isRevoked(parsed.data, now)) {
      throw new RelaisError('UNAUTHORIZED', 'The access token has been revoked.');
    }
    return parsed.data;
  }
}
