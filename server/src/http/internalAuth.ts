import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** Requests older or newer than this (clock skew included) are refused: a captured request replays for this long at most. */
export const INTERNAL_REQUEST_WINDOW_MS = 30_000;

export const TIMESTAMP_HEADER = 'x-relais-timestamp';
export const SIGNATURE_HEADER = 'x-relais-signature';

/**
 * The key node-to-node requests are signed with, derived from RELAIS_CLUSTER_SECRET so the
 * secret itself is never used directly (and a future second use of it gets its own label).
 */
export function internalKey(clusterSecret: string): Buffer {
  return createHmac('sha256', clusterSecret).update('relais internal api v1', 'utf8').digest();
}

function payload(timestamp: string, method: string, path: string, body: string): string {
  const bodyHash = createHash('sha256').update(body, 'utf8').digest('hex');
  return `${timestamp}\n${method.toUpperCase()}\n${path}\n${bodyHash}`;
}

/** HMAC-SHA256 (hex) of a request: its time, method, path (with query) and body. */
export function signRequest(key: Buffer, timestamp: string, method: string, path: string, body: string): string {
  return createHmac('sha256', key)
    .update(payload(timestamp, method, path, body), 'utf8')
    .digest('hex');
}

export interface SignedRequest {
  timestamp: string | undefined;
  signature: string | undefined;
  method: string;
  path: string;
  body: string;
}

/** True when the request carries a valid signature made within the window around `now`. */
export function verifyRequest(key: Buffer, request: SignedRequest, now = Date.now()): boolean {
  const { timestamp, signature } = request;
  if (!timestamp || !signature || !/^\d{1,16}$/.test(timestamp) || !/^[0-9a-f]{64}$/.test(signature)) return false;
  if (Math.abs(now - Number(timestamp)) > INTERNAL_REQUEST_WINDOW_MS) return false;
  const expected = Buffer.from(signRequest(key, timestamp, request.method, request.path, request.body), 'hex');
  // Both are 32 bytes (the pattern above): the comparison's time says nothing about the key.
  return timingSafeEqual(expected, Buffer.from(signature, 'hex'));
}
