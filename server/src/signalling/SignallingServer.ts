import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { Server, type ServerOptions } from 'socket.io';
import type { TokenVerifier } from '../auth/tokenVerifier.js';
import { conflict, RedirectError, type RedirectTarget, RelaisError } from '../domain/errors.js';
import type { JoinPlacement } from '../cluster/nodePlacement.js';
import type { RoomCommand } from '../http/roomCommandProtocol.js';
import { Room, type RoomOverview } from '../domain/Room.js';
import { RoomMedia, type RoomMediaOptions } from '../media/RoomMedia.js';
import type { WorkerPool } from '../media/WorkerPool.js';
import { audit, type Logger } from '../observability/logger.js';
import { turnCredentials } from '../turn/turnCredentials.js';
import type { RelaisMetrics } from '../observability/metrics.js';
import type {
  Ack,
  IncomingEvents,
  JoinResult,
  SessionEndReason,
  RequestName,
  ServerToClientEvents,
  ValidPayload,
  WireError,
} from './catalog.js';
import { moderatorsChannel } from './Audience.js';
import { ClientConnection, type RelaisSocket } from './ClientConnection.js';
import { LiveRoom, type RoomCluster, type RoomRules } from './LiveRoom.js';
import { LiveRooms } from './LiveRooms.js';
import { lobbyViews } from './RoomLobby.js';
import { isRequestName, validateRequest } from './validateRequest.js';

export interface SignallingOptions {
  verifier: TokenVerifier;
  pool: WorkerPool;
  logger: Logger;
  maxParticipantsPerRoom: number;
  media: RoomMediaOptions;
  metrics: RelaisMetrics;
  /** TURN servers handed to each participant with credentials of its own; none when absent. */
  turn?: { urls: string[]; secret: string; ttlSeconds: number };
  /** Called when a room's media opens, before anyone joins (the node registers it and follows the other nodes hosting it). */
  roomMediaOpened?: (media: RoomMedia) => Promise<void>;
  /** The shared room state, this node's id and the way to reach other nodes. */
  cluster: Omit<RoomCluster, 'maxParticipants'>;
  /** Socket.IO's adapter in a cluster (room broadcasts reach every node); in memory alone. */
  adapter?: ServerOptions['adapter'];
  /** Whether this node takes a newcomer, or which node should (full or draining). */
  placeJoin?: () => Promise<JoinPlacement>;
  /** Where rooms tell what happens in them, and the policy they start with. */
  rules: RoomRules;
}

/** Largest Socket.IO message accepted: RTP capabilities of a browser are ~10 KB. */
const MAX_MESSAGE_BYTES = 128 * 1024;

type Handler = (room: LiveRoom, connection: ClientConnection, payload: never) => unknown;

/** The requests a joined participant makes of its room. */
const HANDLERS: { [N in Exclude<RequestName, 'getRouterRtpCapabilities' | 'join' | 'leave'>]: Handler } = {
  createTransport: (room, c, p) => room.createTransport(c, p),
  connectTransport: (room, c, p) => room.connectTransport(c, p),
  restartIce: (room, c, p) => room.restartIce(c, p),
  produce: (room, c, p) => room.produce(c, p),
  closeProducer: (room, c, p) => room.closeProducer(c, p),
  pauseProducer: (room, c, p: { producerId: string }) => room.setProducerPaused(c, p.producerId, true),
  resumeProducer: (room, c, p: { producerId: string }) => room.setProducerPaused(c, p.producerId, false),
  consume: (room, c, p) => room.consume(c, p),
  resumeConsumer: (room, c, p) => room.resumeConsumer(c, p),
  closeConsumer: (room, c, p) => room.closeConsumer(c, p),
  setConsumerLayers: (room, c, p) => room.setConsumerLayers(c, p),
  chat: (room, c, p) => room.chat(c, p),
  setHand: (room, c, p) => room.setHand(c, p),
  muteParticipant: (room, c, p) => room.muteParticipant(c, p),
  removeParticipant: (room, c, p) => room.removeParticipant(c, p),
  grantFloor: (room, c, p) => room.grantFloor(c, p),
  revokeFloor: (room, c, p) => room.revokeFloor(c, p),
  exportAttendance: (room, c, p) => room.exportAttendance(c, p),
  setRoomPolicy: (room, c, p) => room.setRoomPolicy(c, p),
  muteAll: (room, c, p) => room.muteAll(c, p),
  lowerAllHands: (room, c) => room.lowerAllHands(c),
  endForAll: (room, c) => room.endForAll(c),
  setRole: (room, c, p) => room.setRole(c, p),
  setSpotlight: (room, c, p) => room.setSpotlight(c, p),
  decideLobby: (room, c, p) => room.decideLobby(c, p),
};

/**
 * Socket.IO signalling: authenticates in the handshake, validates every message against the
 * catalog, and answers each request with `{ ok, data }` or `{ ok: false, error: { code, message } }`.
 */
export class SignallingServer {
  readonly io: Server<IncomingEvents, ServerToClientEvents>;
  private readonly rooms: LiveRooms<LiveRoom>;
  /** Every authenticated connection, joined or not: what an operator's revocation must reach. */
  private readonly connected = new Set<ClientConnection>();

  constructor(
    httpServer: HttpServer | HttpsServer,
    private readonly options: SignallingOptions,
  ) {
    this.rooms = new LiveRooms((roomId, closed) => this.openRoom(roomId, closed));
    this.io = new Server(httpServer, {
      maxHttpBufferSize: MAX_MESSAGE_BYTES,
      serveClient: false,
      // Same-origin client only; the page and the socket come from this server.
      cors: { origin: false },
      pingInterval: 10_000,
      pingTimeout: 10_000,
      ...(options.adapter ? { adapter: options.adapter } : {}),
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
    return this.rooms.size;
  }

  participantCount(): number {
    let count = 0;
    for (const room of this.rooms.all()) count += room.members.size;
    return count;
  }

  /** Who is where, by role: for operators (no names, no ids). */
  roomOverview(): RoomOverview[] {
    return this.rooms.all().map((room) => room.members.overview());
  }

  room(roomId: string): LiveRoom | undefined {
    return this.rooms.get(roomId);
  }

  /** Every live room. */
  liveRooms(): LiveRoom[] {
    return this.rooms.all();
  }

  /**
   * Ends, from the server side, every connection whose token matches: the client is told why
   * (`sessionEnded`), leaves its room and is disconnected. Returns how many were ended.
   */
  endSessions(match: (claims: ClientConnection['claims']) => boolean, reason: SessionEndReason): number {
    let ended = 0;
    for (const connection of [...this.connected]) {
      if (connection.ended || !match(connection.claims)) continue;
      ended += 1;
      this.end(connection, reason);
    }
    return ended;
  }

  /** Every authenticated connection, joined or not, oldest first. */
  connections(): ClientConnection[] {
    return [...this.connected].filter((connection) => !connection.ended);
  }

  /** Joined or not: the room's `end` also covers a connection that never joined (its leave is a no-op). */
  end(connection: ClientConnection, reason: SessionEndReason, redirect?: RedirectTarget): void {
    const room = this.rooms.get(connection.roomId);
    if (room) {
      room.end(connection, reason, redirect);
      return;
    }
    connection.notify('sessionEnded', { reason, ...(redirect ? { redirect } : {}) });
    connection.dispose();
    connection.socket.disconnect(true);
  }

  /**
   * Members of a dead node were removed from the room's shared state: everyone in the room, on
   * every node, is told they left (sent once, by the node that removed them).
   */
  membersGone(roomId: string, memberIds: string[]): void {
    for (const participantId of memberIds) this.io.to(`room:${roomId}:full`).emit('participantLeft', { participantId });
    this.rooms.get(roomId)?.rosterChanged();
  }

  /**
   * People waiting through a dead node were removed from the room's lobby: the moderators, on
   * every node, get the list without them (sent once, by the node that removed them).
   */
  async lobbyGone(roomId: string): Promise<void> {
    const waiting = lobbyViews(await this.options.cluster.state.lobby(roomId));
    this.io.to(moderatorsChannel(roomId)).emit('lobbyChanged', { waiting });
  }

  /**
   * Redis is back after an outage (possibly restarted without its data): this node writes its
   * live members and producers again, and removes what it wrote for sessions that ended meanwhile.
   */
  async resync(): Promise<void> {
    const { state, nodeId } = this.options.cluster;
    for (const room of this.rooms.all()) await room.resync();
    for (const overview of await state.rooms()) {
      if (!overview.byNode[nodeId]) continue;
      const live = this.rooms.get(overview.id);
      for (const member of await state.members(overview.id))
        if (member.node === nodeId && !live?.members.has(member.id)) await state.leave(overview.id, member.id, nodeId);
    }
  }

  /** A command from another node about a room live here; returns how many sessions it ended. */
  async command(command: RoomCommand): Promise<number> {
    const room = this.rooms.get(command.roomId);
    if (command.action === 'closeRoom') return room ? room.endAll('room-closed') : 0;
    if (!room) throw new RelaisError('NOT_FOUND', `Room ${command.roomId} is not live on this node.`);
    return room.command(command);
  }

  async close(): Promise<void> {
    for (const room of this.rooms.all()) {
      for (const connection of room.all()) room.end(connection, 'server-shutdown');
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
    const claims = (socket.data as { claims: ClientConnection['claims'] }).claims;
    const logger = this.options.logger.child({ room: claims.room, participant: claims.sub, role: claims.role });
    const connection = new ClientConnection(socket, claims, logger);
    this.connected.add(connection);
    connection.armExpiry(() => {
      audit(logger, 'session.expired');
      this.end(connection, 'expired');
    });

    socket.onAny((event: string, ...args: unknown[]) => {
      const ack = typeof args[args.length - 1] === 'function' ? (args.pop() as (response: unknown) => void) : undefined;
      void this.dispatch(connection, event, args[0], ack);
    });
    socket.on('disconnect', (reason) => {
      this.connected.delete(connection);
      connection.dispose();
      const room = this.rooms.get(connection.roomId);
      room?.leave(connection, `disconnect: ${reason}`);
      room?.closeIfEmpty();
    });
  }

  private async dispatch(
    connection: ClientConnection,
    event: string,
    payload: unknown,
    ack: ((response: unknown) => void) | undefined,
  ): Promise<void> {
    let response: Ack<RequestName>;
    try {
      if (connection.ended) throw new RelaisError('UNAUTHORIZED', 'This session has ended.');
      if (!isRequestName(event)) throw new RelaisError('INVALID_REQUEST', `Unknown request "${event.slice(0, 50)}".`);
      if (!ack) throw new RelaisError('INVALID_REQUEST', `${event} must be sent with an acknowledgement callback.`);
      if (!connection.requests.take()) throw new RelaisError('RATE_LIMITED', 'Too many requests; slow down.');
      if (event === 'chat' && !connection.chats.take())
        throw new RelaisError('RATE_LIMITED', 'Too many chat messages; wait a moment.');
      const data = await this.handle(connection, event, payload);
      response = { ok: true, data } as Ack<RequestName>;
      if (event === 'join') this.options.metrics.joins.inc();
    } catch (error) {
      response = { ok: false, error: this.toWireError(error, connection, event) };
    }
    this.options.metrics.requests.inc({
      request: isRequestName(event) ? event : 'unknown',
      outcome: response.ok ? 'ok' : response.error.code,
    });
    ack?.(response);
    // Told to slow down and still sending: ClientConnection.rateLimitRefusals says how long we wait.
    if (!response.ok && response.error.code === 'RATE_LIMITED' && !connection.rateLimitRefusals.take()) {
      if (connection.ended) return;
      audit(connection.logger, 'session.rate-limited', { request: event.slice(0, 50) });
      this.end(connection, 'rate-limited');
    }
  }

  private async handle(connection: ClientConnection, name: RequestName, rawPayload: unknown): Promise<unknown> {
    const payload = validateRequest(name, rawPayload);
    if (name === 'leave') {
      this.rooms.get(connection.roomId)?.leave(connection, 'left');
      return {};
    }
    if ((name === 'getRouterRtpCapabilities' || name === 'join') && !connection.joined) await this.checkPlacement();
    if (name === 'getRouterRtpCapabilities') {
      const room = await this.rooms.getOrOpen(connection.roomId);
      return { rtpCapabilities: room.media.rtpCapabilities };
    }
    if (name === 'join') {
      const room = await this.rooms.getOrOpen(connection.roomId);
      const joined = await room.join(connection, (payload as ValidPayload<'join'>).rtpCapabilities);
      return { ...joined, iceServers: this.iceServersFor(connection) };
    }
    // A request sent right behind its join waits for the room that join is opening.
    const room = await this.rooms.whenOpen(connection.roomId);
    if (!room) throw conflict('Join the room first.');
    const result = await HANDLERS[name](room, connection, payload as never);
    // An ICE restart allocates on the TURN server again: it needs credentials that are still valid.
    if (name === 'restartIce') return { ...(result as object), iceServers: this.iceServersFor(connection) };
    return result;
  }

  /** A node full or draining sends newcomers to the node with the most room (the page moves there). */
  private async checkPlacement(): Promise<void> {
    const placement = await this.options.placeJoin?.();
    if (!placement || placement.decision === 'here') return;
    if (placement.decision === 'redirect') {
      const { node } = placement;
      throw new RedirectError(
        { url: node.publicUrl, node: node.id },
        `This server takes no new participants; join through ${node.publicUrl}.`,
      );
    }
    throw new RelaisError(
      'UNAVAILABLE',
      placement.why === 'draining'
        ? 'This server is shutting down and no other server can take you; try again shortly.'
        : 'Every server of this service is full; try again shortly.',
    );
  }

  /** Fresh TURN credentials at each join (a rejoin after a cut gets new ones), bounded by the token. */
  private iceServersFor(connection: ClientConnection): JoinResult['iceServers'] {
    const { turn } = this.options;
    if (!turn) return [];
    return [
      turnCredentials({
        secret: turn.secret,
        urls: turn.urls,
        participantId: connection.participantId,
        tokenExpiresAt: connection.claims.exp,
        maxLifetimeSeconds: turn.ttlSeconds,
      }),
    ];
  }

  /** A room opened by its first visitor: its media first, then its members. */
  private async openRoom(roomId: string, closed: () => void): Promise<LiveRoom> {
    const logger = this.options.logger.child({ room: roomId });
    const media = await RoomMedia.create(this.options.pool, roomId, this.options.media, logger);
    try {
      await this.options.roomMediaOpened?.(media);
    } catch (error) {
      media.close();
      logger.error({ err: error }, 'could not register the room or reach the nodes hosting it');
      throw new RelaisError('INTERNAL', 'This room is not reachable from this server right now.');
    }
    const members = new Room(roomId, { maxParticipants: this.options.maxParticipantsPerRoom });
    const cluster = { ...this.options.cluster, maxParticipants: this.options.maxParticipantsPerRoom };
    return new LiveRoom(this.io, members, media, cluster, this.options.rules, logger, () => {
      closed();
      logger.info('room closed');
    });
  }

  private toWireError(error: unknown, connection: ClientConnection, event: string): WireError {
    if (error instanceof RedirectError) return { code: error.code, message: error.message, redirect: error.target };
    if (error instanceof RelaisError) return { code: error.code, message: error.message };
    // mediasoup rejects malformed RTP/DTLS dictionaries with a TypeError: the client's fault.
    if (error instanceof TypeError) {
      connection.logger.debug({ event, err: error.message }, 'request refused by mediasoup validation');
      return { code: 'INVALID_REQUEST', message: `Invalid ${event} parameters: ${error.message}` };
    }
    connection.logger.error({ err: error, event }, 'request failed');
    return { code: 'INTERNAL', message: 'The server could not complete this request.' };
  }
}
