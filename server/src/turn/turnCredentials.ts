/**
 * Short-lived TURN credentials in coturn's shared-secret ("TURN REST API") scheme: coturn,
 * started with `use-auth-secret` and the same `static-auth-secret`, recomputes the password
 * from the username and refuses it once the time written in the username has passed. relais
 * never talks to coturn; the secret is all they share.
 */
import { createHmac } from 'node:crypto';

/** An RTCIceServer as the browser takes it (only TURN servers: relais never hands out STUN). */
export interface TurnIceServer {
  urls: string[];
  username: string;
  credential: string;
}

export interface TurnCredentialRequest {
  /** coturn's `static-auth-secret`. */
  secret: string;
  /** TURN URLs (`turn:` / `turns:`) given to the browser as one ICE server. */
  urls: string[];
  participantId: string;
  /** Unix time (seconds) the participant's token expires: the credentials never outlive it. */
  tokenExpiresAt: number;
  /** Longest the credentials may be valid, in seconds (RELAIS_TURN_TTL). */
  maxLifetimeSeconds: number;
  /** Now, in milliseconds (tests pass a fixed time). */
  now?: number;
}

/** username = `<expiry unix time>:<participant id>`, credential = base64(HMAC-SHA1(secret, username)). */
export function turnCredentials(request: TurnCredentialRequest): TurnIceServer {
  const now = Math.floor((request.now ?? Date.now()) / 1000);
  const expiresAt = Math.min(now + request.maxLifetimeSeconds, request.tokenExpiresAt);
  const username = `${expiresAt}:${request.participantId}`;
  return { urls: [...request.urls], username, credential: turnPassword(request.secret, username) };
}

/** The password coturn expects for `username` under `secret`. */
export function turnPassword(secret: string, username: string): string {
  return createHmac('sha1', secret).update(username).digest('base64');
}
