/**
 * How long to wait before trying again, after a network cut or while the server restarts:
 * doubling from `baseMs` up to `maxMs`, each delay drawn in [½, 1]× of that, so hundreds of
 * clients cut at the same moment do not all come back in the same instant.
 */
export interface Backoff {
  baseMs: number;
  maxMs: number;
}

/** An ICE restart is cheap (one request, no new transport): try again often. */
export const ICE_RESTART_BACKOFF: Backoff = { baseMs: 1_000, maxMs: 4_000 };

/**
 * Reconnecting the signalling (a lost socket, a restarting server): every client of the node
 * does it at once. Also Socket.IO's own reconnection settings, so both follow one policy.
 */
export const SERVER_RETRY_BACKOFF: Backoff = { baseMs: 1_000, maxMs: 5_000 };

/** Delay before retry number `attempt` (0 for the first). */
export function retryDelay(attempt: number, backoff: Backoff, random: () => number = Math.random): number {
  const ceiling = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling * (0.5 + random() * 0.5));
}
