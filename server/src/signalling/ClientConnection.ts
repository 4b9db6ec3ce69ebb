import type { Socket } from 'socket.io';
import type { RelaisClaims } from '../auth/claims.js';
import type { Logger } from '../observability/logger.js';
import type { IncomingEvents, Notifications, NotificationName, ServerToClientEvents } from './catalog.js';
import { TokenBucket } from './TokenBucket.js';

export type RelaisSocket = Socket<IncomingEvents, ServerToClientEvents>;

/**
 * One authenticated socket: who it is (from its verified token), whether it has joined its
 * room, and how fast it may send. It lives from the handshake to the disconnect.
 */
export class ClientConnection {
  readonly participantId: string;
  readonly roomId: string;
  joined = false;
  /** The shared state let them in: until then no request but `join` and `leave` is served. */
  admitted = false;
  /** In the room's lobby, waiting for a moderator. */
  waiting = false;
  ended = false;
  readonly requests = new TokenBucket(200, 50);
  readonly chats = new TokenBucket(5, 1);
  /**
   * Refusals with RATE_LIMITED a client may collect: 50, refilled at 5 a second, so about 50
   * refusals within 10 s. A browser that is told to slow down does; a client that keeps
   * sending is a runaway loop or a flood, and its connection is ended.
   */
  readonly rateLimitRefusals = new TokenBucket(50, 5);
  private expiryTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly socket: RelaisSocket,
    readonly claims: RelaisClaims,
    readonly logger: Logger,
  ) {
    this.participantId = claims.sub;
    this.roomId = claims.room;
  }

  notify<N extends NotificationName>(name: N, payload: Notifications[N]): void {
    // Socket.IO's typed emit cannot relate N to its parameter tuple; the catalog types both sides.
    (this.socket.emit as (event: string, data: unknown) => boolean)(name, payload);
  }

  /** Ends the connection when the token expires, not only at connect time. */
  armExpiry(onExpired: () => void, now: number = Date.now()): void {
    const delay = this.claims.exp * 1000 - now;
    const MAX_TIMER = 2 ** 31 - 1;
    this.expiryTimer = setTimeout(
      () => (delay > MAX_TIMER ? this.armExpiry(onExpired) : onExpired()),
      Math.max(0, Math.min(delay, MAX_TIMER)),
    );
    this.expiryTimer.unref();
  }

  dispose(): void {
    this.ended = true;
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
  }
}
