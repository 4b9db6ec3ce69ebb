import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Grants, Role } from '../domain/roles.js';

export interface TokenRequest {
  room: string;
  name: string;
  role: Role;
  /** Stable user id; a fresh one when omitted. */
  sub?: string;
  ttlSeconds: number;
  grants?: Grants;
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

/** Parses "90s", "30m", "2h", "1d" or a number of seconds. */
export function parseTtl(text: string): number {
  const match = /^(\d+)\s*([smhd]?)$/.exec(text.trim());
  if (!match) throw new Error(`invalid duration "${text}" (use e.g. 90s, 30m, 2h, 1d)`);
  const value = Number(match[1]);
  const unit = match[2] || 's';
  const seconds = value * ({ s: 1, m: 60, h: 3600, d: 86400 } as const)[unit as 's' | 'm' | 'h' | 'd'];
  if (seconds <= 0 || seconds > 30 * 86400) throw new Error(`duration "${text}" must be between 1s and 30d`);
  return seconds;
}
