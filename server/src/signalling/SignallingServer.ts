import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { Server } from 'socket.io';
import type { types } from 'mediasoup';
import type { TokenVerifier } from '../auth/tokenVerifier.js';
import { RelaisError } from '../domain/errors.js';
import { RoomDirectory } from '../domain/RoomDirectory.js';
import { RoomMedia, type RoomMediaOptions } from '../media/RoomMedia.js';
import type { WorkerPool } from '../media/WorkerPool.js';
import { audit, type Logger } from '../observability/logger.js';
import type { RelaisMetrics } from '../observability/metrics.js';
import { ROLES, type Role } from '../domain/roles.js';
import type { Ack, IncomingEvents, Notifications, RequestName, ServerToClientEvents, WireError } from './catalog.js';
import { ClientSession, type RelaisSocket } from './ClientSession.js';
import { RoomSession } from './RoomSession.js';
import { isRequestName, validateRequest } from './validateRequest.js';

export interface SignallingOptions {
  verifier: TokenVerifier;
  pool: WorkerPool;
  logger: Logger;
  maxParticipantsPerRoom: number;
  media: RoomMediaOptions;
  metrics: RelaisMetrics;
}

/** Largest Socket.IO message accepted: RTP capabilities of a browser are ~10 KB. */
const MAX_MESSAGE_BYTES = 128 * 1024;

/** One open room as operators see it: counts only, no names or ids. */
export interface RoomOverview {
  id: string;
  participants: number;
  byRole: Record<Role, number>;
}

type Handler = (room: RoomSession, session: ClientSession, payload: never) => unknown;

const HANDLERS: { [N in Exclude<RequestName, 'getRouterRtpCapabilities' | 'join' | 'leave'>]: Handler } = {
  createTransport: (room, s, p) => room.createTransport(s, p),
  connectTransport: (room, s, p) => room.connectTransport(s, p),
  restartIce: (room, s, p) => room.restartIce(s, p),
  produce: (room, s, p) => room.produce(s, p),
  closeProducer: (room, s, p) => room.closeProducer(s, p),
  pauseProducer: (room, s, p: { producerId: string }) => room.setProducerPaused(s, p.producerId, true),
  resumeProducer: (room, s, p: { producerId: string }) => room.setProducerPaused(s, p.producerId, false),
  consume: (room, s, p) => room.consume(s, p),
  resumeConsumer: (room, s, p) => room.resumeConsumer(s, p),
  closeConsumer: (room, s, p) => room.closeConsumer(s, p),
  setConsumerLayers: (room, s, p) => room.setConsumerLayers(s, p),
  chat: (room, s, p) => room.chat(s, p),
  setHand: (room, s, p) => room.setHand(s, p),
  muteParticipant: (room, s, p) => room.muteParticipant(s, p),
  removeParticipant: (room, s, p) => room.removeParticipant(s, p),
  grantFloor: (room, s, p) => room.grantFloor(s, p),
  revokeFloor: (room, s, p) => room.revokeFloor(s, p),
};

/**
 * Socket.IO signalling: authenticates in the handshake, validates every message against the
 * catalog, and answers each request with `{ ok, data }` or `{ ok: false, error: { code, message } }`.
 */
export class SignallingServer {
  readonly io: Server<IncomingEvents, ServerToClientEvents>;
  private readonly directory: RoomDirectory;
  private readonly rooms = new Map<string, Promise<RoomSession>>();
  private readonly live = new Map<string, RoomSession>();
  /** Every connected socket's session, joined or not: what an operator's revocation must reach. */
  private readonly connected = new Set<ClientSession>();

  constructor(
    httpServer: HttpServer | HttpsServer,
    private readonly options: SignallingOptions,
  ) {
    this.directory = new RoomDirectory({ maxParticipants: options.maxParticipantsPerRoom });
    this.io = new Server(httpServer, {
      maxHttpBufferSize: MAX_MESSAGE_BYTES,
      serveClient: false,
      // Same-origin client only; the page and the socket come from this server.
      cors: { origin: false },
      pingInterval: 10_000,
      pingTimeout: 10_000,
    });
    this.io.use((socket, next) => this.authenticate(socket as RelaisSocket, next));
    // Every message written to a client, acknowledgements and notifications alike: the
    // figure that must stay flat per join in a large briefing.
    this.io.engine.on(
      'connection',
      (raw: { on(event: 'packetCreate', listener: (packet: { type: string }) => void): void }) => {
        raw.on('packetCreate', (packet) => {
          if (packet.type === 'message') options.metrics.messagesSent.inc();
        });
      },
    );
    this.io.on('connection', (socket) => this.onConnection(socket as RelaisSocket));
  }

  /** Rooms with someone in them, for health and metrics. */
  roomCount(): number {
    return this.live.size;
  }

  participantCount(): number {
    let count = 0;
    for (const room of this.live.values()) count += room.room.size;
    return count;
  }

  /** Who is where, by role: for operators (no names, no ids). */
  roomOverview(): RoomOverview[] {
    return [...this.live.values()].map((room) => {
      const byRole = Object.fromEntries(ROLES.map((role) => [role, 0])) as Record<Role, number>;
      for (const participant of room.room.all()) byRole[participant.role] += 1;
      return { id: room.id, participants: room.room.size, byRole };
    });
  }

  room(roomId: string): RoomSession | undefined {
    return this.live.get(roomId);
  }

  /**
   * Ends, from the server side, every connected session whose token matches: the client is told
   * why (`sessionEnded`), leaves its room and is disconnected. Returns how many were ended.
   */
  endSessions(
    match: (claims: ClientSession['claims']) => boolean,
    reason: Notifications['sessionEnded']['reason'],
  ): number {
    let ended = 0;
    for (const session of [...this.connected]) {
      if (session.ended || !match(session.claims)) continue;
      ended += 1;
      this.endSession(session, reason);
    }
    return ended;
  }

  /** Joined or not: the room's `end` also covers a session that never joined (its leave is a no-op). */
  private endSession(session: ClientSession, reason: Notifications['sessionEnded']['reason']): void {
    const room = this.live.get(session.roomId);
    if (room) return room.end(session, reason);
    session.notify('sessionEnded', { reason });
    session.dispose();
    session.socket.disconnect(true);
  }

  async close(): Promise<void> {
    for (const room of [...this.live.values()]) {
      for (const participant of room.room.all()) {
        const session = room.sessionOf(participant.id);
        if (session) room.end(session, 'server-shutdown');
      }
    }
    await this.io.close();
  }

  private authenticate(socket: RelaisSocket, next: (error?: Error) => void): void {
    let verification: ReturnType<TokenVerifier['safeVerify']>;
    try {
      verification = this.options.verifier.safeVerify(socket.handshake.auth?.token);
    } catch (error) {
      this.options.logger.error({ err: error }, 'token verification failed');
      verification = { ok: false, reason: 'token-invalid', message: 'Authentication failed.' };
    }
    if (verification.ok) {
      socket.data = { claims: verification.claims };
      next();
      return;
    }
    const { reason, message } = verification;
    audit(this.options.logger, 'auth.failed', { address: socket.handshake.address, reason: message, refusal: reason });
    this.options.metrics.authFailures.inc();
    // The client decides on `reason`; `message` is for people.
    const data: import('./catalog.js').HandshakeRefusal = { code: 'UNAUTHORIZED', message, reason };
    next(Object.assign(new Error(message), { data }));
  }

  private onConnection(socket: RelaisSocket): void {
    const claims = (socket.data as { claims: ClientSession['claims'] }).claims;
    const logger = this.options.logger.child({ room: claims.room, participant: claims.sub, role: claims.role });
    const session = new ClientSession(socket, claims, logger);
    this.connected.add(session);
    session.armExpiry(() => {
      audit(logger, 'session.expired', { room: claims.room, participant: claims.sub });
      this.endSession(session, 'expired');
    });

    socket.onAny((event: string, ...args: unknown[]) => {
      const ack = typeof args[args.length - 1] === 'function' ? (args.pop() as (response: unknown) => void) : undefined;
      void this.dispatch(session, event, args[0], ack);
    });
    socket.on('disconnect', (reason) => {
      this.connected.delete(session);
      session.dispose();
      const room = this.live.get(session.roomId);
      room?.leave(session, `disconnect: ${reason}`);
      room?.closeIfEmpty();
    });
  }

  private async dispatch(
    session: ClientSession,
    event: string,
    payload: unknown,
    ack: ((response: unknown) => void) | undefined,
  ): Promise<void> {
    let response: Ack<RequestName>;
    try {
      if (session.ended) throw new RelaisError('UNAUTHORIZED', 'This session has ended.');
      if (!isRequestName(event)) throw new RelaisError('INVALID_REQUEST', `Unknown request "${event.slice(0, 50)}".`);
      if (!ack) throw new RelaisError('INVALID_REQUEST', `${event} must be sent with an acknowledgement callback.`);
      if (!session.requests.take()) throw new RelaisError('RATE_LIMITED', 'Too many requests; slow down.');
      if (event === 'chat' && !session.chats.take())
        throw new RelaisError('RATE_LIMITED', 'Too many chat messages; wait a moment.');
      const data = await this.handle(session, event, payload);
      response = { ok: true, data } as Ack<RequestName>;
      if (event === 'join') this.options.metrics.joins.inc();
    } catch (error) {
      response = { ok: false, error: this.toWireError(error, session, event) };
    }
    this.options.metrics.requests.inc({
      request: isRequestName(event) ? event : 'unknown',
      outcome: response.ok ? 'ok' : response.error.code,
    });
    ack?.(response);
  }

  private async handle(session: ClientSession, name: RequestName, rawPayload: unknown): Promise<unknown> {
    const payload = validateRequest(name, rawPayload);
    if (name === 'leave') {
      this.live.get(session.roomId)?.leave(session, 'left');
      return {};
    }
    const room = await this.roomFor(session.roomId);
    if (name === 'getRouterRtpCapabilities') return { rtpCapabilities: { ...room.media.rtpCapabilities } };
    if (name === 'join') {
      const { rtpCapabilities } = payload as { rtpCapabilities: Record<string, unknown> };
      return room.join(session, rtpCapabilities as unknown as types.RtpCapabilities);
    }
    return HANDLERS[name](room, session, payload as never);
  }

  /** The room's live session, created on first use; concurrent first joins share one creation. */
  private roomFor(roomId: string): Promise<RoomSession> {
    let pending = this.rooms.get(roomId);
    if (!pending) {
      const logger = this.options.logger.child({ room: roomId });
      pending = RoomMedia.create(this.options.pool, roomId, this.options.media, logger).then((media) => {
        const room = this.directory.getOrCreate(roomId);
        const session = new RoomSession(this.io, room, media, logger, () => {
          this.rooms.delete(roomId);
          this.live.delete(roomId);
          this.directory.releaseIfEmpty(roomId);
          logger.info('room closed');
        });
        this.live.set(roomId, session);
        return session;
      });
      pending.catch(() => this.rooms.delete(roomId));
      this.rooms.set(roomId, pending);
    }
    return pending;
  }

  private toWireError(error: unknown, session: ClientSession, event: string): WireError {
    if (error instanceof RelaisError) return { code: error.code, message: error.message };
    // mediasoup rejects malformed RTP/DTLS dictionaries with a TypeError: the client's fault.
    if (error instanceof TypeError) {
      session.logger.debug({ event, err: error.message }, 'request refused by mediasoup validation');
      return { code: 'INVALID_REQUEST', message: `Invalid ${event} parameters: ${error.message}` };
    }
    session.logger.error({ err: error, event }, 'request failed');
    return { code: 'INTERNAL', message: 'The server could not complete this request.' };
  }
}
