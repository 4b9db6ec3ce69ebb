/**
 * Why a session ends or a connection is refused: stable codes the client branches on and
 * translates with its own words. The server's message text is for people and logs only.
 */
export const SESSION_END_REASONS = [
  'removed',
  'expired',
  'revoked',
  'room-closed',
  'replaced',
  'server-shutdown',
  'media-lost',
  'rate-limited',
  /** The node is draining: the session continues on the node named beside it. */
  'node-draining',
  /** A moderator refused you entry from the lobby. */
  'refused',
  /** A moderator ended the meeting for everyone. */
  'ended-for-all',
] as const;
export type SessionEndReason = (typeof SESSION_END_REASONS)[number];

/** Why the handshake refused a connection (in the refusal's `data.reason`). */
export const REFUSAL_REASONS = [
  /** No token, or not a JWT. */
  'token-missing',
  /** Bad signature, algorithm, issuer, audience or claims. */
  'token-invalid',
  'expired',
  'revoked',
  /** `exp` further ahead than the server accepts (RELAIS_MAX_TOKEN_LIFETIME). */
  'lifetime-too-long',
  'rate-limited',
  'server-shutdown',
] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];
