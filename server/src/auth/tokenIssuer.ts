import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { parseDuration } from '../config/config.js';
import type { Grants, Role } from '../domain/roles.js';
import type { RoomPolicy } from '../domain/roomPolicy.js';
import { DEFAULT_MAX_TOKEN_LIFETIME_SECONDS, formatDuration } from './tokenLifetime.js';

export interface TokenRequest {
  room: string;
  name: string;
  role: Role;
  /** Stable user id; a fresh one when omitted. */
  sub?: string;
  ttlSeconds: number;
  grants?: Grants;
  /** For a moderator: the room's policy if they are its first moderator. */
  policy?: RoomPolicy;
  /** Enters a lobby room without waiting. */
  preadmitted?: boolean;
}

export interface IssuerKey {
  algorithm: 'HS256' | 'RS256' | 'ES256';
  /** HS256 shared secret, or the PEM private key for RS256/ES256. */
  key: string;
  issuer?: string;
  audience?: string;
}

/** Mints tokens for operators, the demo links and tests. Real deployments sign with their own IdP. */
export function issueToken(key: IssuerKey, request: TokenRequest): string {
  const payload = {
    name: request.name,
    room: request.room,
    role: request.role,
    ...(request.grants ? { grants: request.grants } : {}),
    ...(request.policy ? { policy: request.policy } : {}),
    ...(request.preadmitted ? { preadmitted: true } : {}),
  };
  return jwt.sign(payload, key.key, {
    algorithm: key.algorithm,
    subject: request.sub ?? randomUUID(),
    expiresIn: request.ttlSeconds,
    jwtid: randomUUID(),
    ...(key.issuer ? { issuer: key.issuer } : {}),
    ...(key.audience ? { audience: key.audience } : {}),
  });
}

/**
 * An operator's TTL ("90s", "30m", "2h", "1d" or seconds), refused above the longest lifetime
 * the server accepts: such a token would be refused at every connection.
 */
export function parseTtl(text: string, maxSeconds: number = DEFAULT_MAX_TOKEN_LIFETIME_SECONDS): number {
  const seconds = parseDuration(text);
  if (seconds <= 0) throw new Error(`duration "${text}" must be at least 1s`);
  if (seconds > maxSeconds) {
    throw new Error(
      `duration "${text}" is longer than the ${formatDuration(maxSeconds)} the server accepts ` +
        '(RELAIS_MAX_TOKEN_LIFETIME); such a token would be refused',
    );
  }
  return seconds;
}
