import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { InMemoryRevocations } from './auth/revocations.js';
import type { IssuerKey } from './auth/tokenIssuer.js';
import { TokenVerifier } from './auth/tokenVerifier.js';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { ClusterStores } from './cluster/ClusterStores.js';
import type { NodeInfo } from './cluster/NodeRegistry.js';
import { type JoinPlacement, placeJoin, planMoves } from './cluster/nodePlacement.js';
import type { RevocationStore } from './cluster/RevocationStore.js';
import type { RelaisConfig } from './config/config.js';
import { createAdminApi } from './http/adminApi.js';
import { createHttpApp } from './http/createHttpApp.js';
import { internalKey } from './http/internalAuth.js';
import { createInternalApi } from './http/internalApi.js';
import { InternalClient } from './http/internalClient.js';
import { InternalRoomCommands, type RoomCommandSender } from './http/roomCommandClient.js';
import { NodePipes } from './media/NodePipes.js';
import { type RoomNodes, StaticRoomNodes } from './media/RoomNodes.js';
import { WorkerPool } from './media/WorkerPool.js';
import { RelaisError } from './domain/errors.js';
import { audit, type Logger } from './observability/logger.js';
import { RelaisMetrics } from './observability/metrics.js';
import { SignallingServer } from './signalling/SignallingServer.js';
import { SILENT_EVENTS, webhookEvents } from './signalling/RoomEventSink.js';
import { WebhookDispatcher } from './webhooks/WebhookDispatcher.js';
import { attendanceOf } from './domain/attendanceOf.js';

export interface RelaisServerOptions {
  config: RelaisConfig;
  logger: Logger;
  /** Which other nodes host each room; by default Redis in a cluster, else a static table (`staticRoomNodes`). */
  roomNodes?: RoomNodes;
  /** Called once a drain has moved everyone it could (main.ts then stops the process). */
  onDrained?: () => void;
}

/**
 * Wires the adapters around the domain from a validated configuration. `main.ts` runs it;
 * integration tests start it in-process on free ports.
 */
export class RelaisServer {
  readonly pool: WorkerPool;
  readonly httpServer: http.Server | https.Server;
  readonly signalling: SignallingServer;
  readonly metrics: RelaisMetrics;
  /** Tokens and people revoked through the admin API (on any node); the mirror is asked at every connection. */
  readonly revocations: RevocationStore;
  /** Shared state: in memory alone, in Redis in a cluster. Owns the Redis connections. */
  readonly cluster: ClusterStores;
  /** The key tokens for this server are signed with, when this server knows it (HS256 or dev). */
  readonly issuerKey: IssuerKey | undefined;
  /** True when no key was configured and a throw-away one was generated (development only). */
  readonly usesThrowawayKey: boolean;
  /** The static table of rooms' peers used without Redis when no `roomNodes` was given (tests add peers here). */
  readonly staticRoomNodes = new StaticRoomNodes();
  /** Node-to-node pipes, when RELAIS_CLUSTER_SECRET is set. */
  readonly nodePipes: NodePipes | undefined;
  /** Moderation and closing across nodes, with Redis and RELAIS_CLUSTER_SECRET. */
  private readonly roomCommands: RoomCommandSender | undefined;
  /** Signed room events to operators' receivers, when RELAIS_WEBHOOK_URLS is set; flushed at stop. */
  private readonly webhooks: WebhookDispatcher | undefined;
  private started = false;
  private draining = false;
  private drainRun: Promise<void> | undefined;

  constructor(private readonly options: RelaisServerOptions) {
    const { config, logger } = options;
    const { jwt } = config;
    this.metrics = new RelaisMetrics({ redis: config.redis !== undefined });
    this.cluster = new ClusterStores({
      config,
      logger: logger.child({ component: 'cluster' }),
      onRemoteRevocation: (entry) => {
        const sessionsEnded = this.signalling.endSessions(
          (claims) => InMemoryRevocations.matches(entry, claims),
          'revoked',
        );
        // The node it was posted to wrote `token.revoked` for its own sessions; this one, for these.
        if (sessionsEnded > 0) audit(logger, 'token.revoked.elsewhere', { ...entry.target, sessionsEnded });
      },
      onMembersGone: (roomId, memberIds) => this.signalling.membersGone(roomId, memberIds),
      onLobbyGone: (roomId) => {
        this.signalling
          .lobbyGone(roomId)
          .catch((error: unknown) => logger.warn({ err: error, room: roomId }, 'could not tell the lobby changed'));
      },
      onNodesGone: (nodeIds) => {
        logger.warn({ nodes: nodeIds }, 'nodes gone from the registry: their pipes are dropped');
        for (const nodeId of nodeIds) this.nodePipes?.nodeGone(nodeId);
      },
      onRedisBack: () => {
        if (!this.started) return;
        this.signalling
          .resync()
          .then(() => logger.info('room state written back to Redis'))
          .catch((error: unknown) => logger.warn({ err: error }, 'could not write the room state back to Redis'));
      },
    });
    this.revocations = this.cluster.revocations;
    let verifierKey: string;
    if (jwt.publicKeyFile) {
      verifierKey = readFileSync(jwt.publicKeyFile, 'utf8');
    } else if (jwt.secret) {
      verifierKey = jwt.secret;
    } else if (config.env === 'development') {
      verifierKey = randomBytes(32).toString('base64url');
    } else {
      throw new Error('no token key configured');
    }
    this.usesThrowawayKey = !jwt.publicKeyFile && !jwt.secret;
    const claimsCheck = {
      ...(jwt.issuer ? { issuer: jwt.issuer } : {}),
      ...(jwt.audience ? { audience: jwt.audience } : {}),
    };
    this.issuerKey = jwt.algorithm === 'HS256' ? { algorithm: 'HS256', key: verifierKey, ...claimsCheck } : undefined;
    const verifier = new TokenVerifier(
      { algorithm: jwt.algorithm, key: verifierKey, ...claimsCheck, maxLifetimeSeconds: jwt.maxTokenLifetimeSeconds },
      this.revocations.mirror,
    );

    this.pool = new WorkerPool({
      workers: config.media.workers,
      listenIp: config.media.listenIp,
      portBase: config.media.portBase,
      ...(config.media.announcedAddress ? { announcedAddress: config.media.announcedAddress } : {}),
      ...(config.media.workerBin ? { workerBin: config.media.workerBin } : {}),
      udpBufferBytes: config.media.udpBufferBytes,
      logger: logger.child({ component: 'media' }),
    });
    this.pool.on('workerDied', () => this.metrics.workerDeaths.inc());
    this.webhooks = config.webhooks
      ? new WebhookDispatcher({ ...config.webhooks, logger, metrics: this.metrics.webhooks })
      : undefined;
    const admin = createAdminApi(
      config.admin.key,
      {
        revocations: this.revocations,
        endRevokedSessions: (entry) =>
          this.signalling.endSessions((claims) => InMemoryRevocations.matches(entry, claims), 'revoked'),
        rooms: () => this.cluster.roomState.rooms(),
        closeRoom: (roomId) => this.closeRoom(roomId),
        attendance: (roomId) => this.attendance(roomId),
        nodes: () => this.cluster.nodes.list(),
        drainNode: (nodeId) => this.drainNode(nodeId),
      },
      logger.child({ component: 'admin' }),
    );
    const key = config.cluster.secret ? internalKey(config.cluster.secret) : undefined;
    const internalClient = key ? new InternalClient(key, () => this.node) : undefined;
    this.roomCommands =
      internalClient && this.cluster.redis ? new InternalRoomCommands(internalClient, this.cluster.nodes) : undefined;
    if (internalClient) {
      const client = internalClient;
      this.nodePipes = new NodePipes({
        self: () => this.node,
        listen: {
          ip: config.cluster.address,
          portMin: config.cluster.pipePorts.min,
          portMax: config.cluster.pipePorts.max,
          buffers: this.pool.udpBuffers,
        },
        roomNodes: options.roomNodes ?? this.cluster.roomNodes ?? this.staticRoomNodes,
        linkTo: (node) => client.linkTo(node),
        send: (node, roomId, instance, event) => client.notify(node, roomId, instance, event),
        logger: logger.child({ component: 'pipes' }),
      });
    }
    const nodePipes = this.nodePipes;
    const internal = createInternalApi(
      key,
      {
        watch: (roomId, node, instance) => this.requirePipes().watch(roomId, node, instance),
        unwatch: (roomId, nodeId, instance) => this.requirePipes().unwatch(roomId, nodeId, instance),
        pipe: (roomId, node, producerId, transport) => this.requirePipes().pipe(roomId, node, producerId, transport),
        closePipe: (roomId, nodeId, producerId, transport) =>
          this.requirePipes().closePipe(roomId, nodeId, producerId, transport),
        event: (roomId, nodeId, instance, event) => this.requirePipes().event(roomId, nodeId, instance, event),
        roomCommand: (command) => this.signalling.command(command),
        drain: () => {
          void this.drain();
          return this.signalling.connections().length;
        },
      },
      logger.child({ component: 'internal' }),
    );
    const app = createHttpApp(
      {
        ready: () => this.started && this.pool.ready && this.cluster.ready,
        details: () => ({
          workers: this.pool.size,
          rooms: this.signalling.roomCount(),
          ...(this.cluster.redis ? { redis: this.cluster.redis.ready ? 'connected' : 'unreachable' } : {}),
          ...this.notReadyReason(),
        }),
      },
      this.metrics,
      () => {
        this.metrics.rooms.set(this.signalling.roomCount());
        this.metrics.participants.set(this.signalling.participantCount());
        this.metrics.workers.set(this.pool.size);
        const pipes = this.pipeCounts();
        this.metrics.pipes.set({ direction: 'out' }, pipes.out.consumers);
        this.metrics.pipes.set({ direction: 'in' }, pipes.in.producers);
        this.metrics.pipeTransports.set({ direction: 'out' }, pipes.out.transports);
        this.metrics.pipeTransports.set({ direction: 'in' }, pipes.in.transports);
        for (const [kind, count] of Object.entries(this.pool.objects.counts))
          this.metrics.mediaObjects.set({ kind }, count);
        this.metrics.redisConnected?.set(this.cluster.redis?.ready ? 1 : 0);
      },
      admin,
      internal,
    );
    this.httpServer = config.http.tls
      ? https.createServer(
          { cert: readFileSync(config.http.tls.certFile), key: readFileSync(config.http.tls.keyFile) },
          app,
        )
      : http.createServer(app);
    this.signalling = new SignallingServer(this.httpServer, {
      verifier,
      pool: this.pool,
      logger: logger.child({ component: 'signalling' }),
      maxParticipantsPerRoom: config.rooms.maxParticipants,
      media: {
        consumersPerRouter: config.media.consumersPerRouter,
        maxRouters: config.media.workers,
        keyFrameRequestDelayMs: config.media.keyFrameRequestDelayMs,
        ...(nodePipes ? { pipes: nodePipes.mediaOptions } : {}),
      },
      metrics: this.metrics,
      ...(config.turn ? { turn: config.turn } : {}),
      ...(nodePipes ? { roomMediaOpened: (media) => nodePipes.roomOpened(media) } : {}),
      cluster: {
        state: this.cluster.roomState,
        nodeId: config.nodeId,
        ...(this.roomCommands ? { commands: this.roomCommands } : {}),
      },
      // Room broadcasts through Redis streams: they reach members on every node, and a Redis
      // reconnection loses none (the stream is read on from the last offset).
      ...(this.cluster.redis ? { adapter: createAdapter(this.cluster.redis.adapter, { blockTimeInMs: 1000 }) } : {}),
      placeJoin: () => this.placeJoin(),
      rules: {
        events: this.webhooks ? webhookEvents(this.webhooks, logger) : SILENT_EVENTS,
        defaultPolicy: config.rooms.policy,
        graceMs: config.rooms.graceSeconds * 1000,
      },
    });
  }

  async start(): Promise<void> {
    const { config, logger } = this.options;
    try {
      await this.pool.start();
      // Revocations loaded before the first handshake: a revoked token is never let in meanwhile.
      await this.cluster.connect();
      const { host, port } = config.http;
      await new Promise<void>((resolve, reject) => {
        this.httpServer.once('error', reject);
        this.httpServer.listen(port, host, () => {
          this.httpServer.off('error', reject);
          resolve();
        });
      });
      await this.cluster.announce(() => this.describe());
    } catch (error) {
      await this.stop().catch(() => undefined);
      throw error;
    }
    this.started = true;
    logger.info(
      { url: this.url, node: config.nodeId, redis: config.redis?.displayUrl ?? 'none (single node)' },
      'relais is listening',
    );
  }

  /** This node's entry in the registry, read at every heartbeat. */
  private describe(): NodeInfo {
    const { nodeId, cluster } = this.options.config;
    return {
      id: nodeId,
      publicUrl: this.url,
      clusterAddress: cluster.address,
      internalUrl: this.node.url,
      capacity: cluster.capacity,
      state: this.draining ? 'draining' : 'serving',
      load: {
        workers: this.pool.size,
        perWorker: this.pool.all().map((worker) => worker.load),
        rooms: this.signalling.roomCount(),
        participants: this.signalling.participantCount(),
      },
    };
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /**
   * Drains this node (SIGTERM, or POST /admin/nodes/<id>/drain): it takes no newcomer (joins are
   * redirected), tells its participants to continue on another node — each to the node with most
   * room, RELAIS_DRAIN_RATE a second so the others are not flooded — and resolves when nobody is
   * left, when no other node can take them, or at RELAIS_DRAIN_TIMEOUT. Calling it again joins
   * the drain under way.
   */
  drain(): Promise<void> {
    this.drainRun ??= this.drainNow().finally(() => this.options.onDrained?.());
    return this.drainRun;
  }

  private async drainNow(): Promise<void> {
    const { logger, config } = this.options;
    const { timeoutSeconds, ratePerSecond } = config.cluster.drain;
    this.draining = true;
    audit(logger, 'node.draining', { node: this.nodeId, sessions: this.signalling.connections().length });
    // Listed as draining at once: other nodes stop sending newcomers here.
    await this.cluster.nodes.refresh().catch(() => undefined);
    const deadline = Date.now() + timeoutSeconds * 1000;
    let moved = 0;
    while (Date.now() < deadline) {
      const left = this.signalling.connections();
      if (left.length === 0) break;
      const nodes = this.cluster.redis ? await this.cluster.nodes.list().catch(() => []) : [];
      const batch = left.slice(0, ratePerSecond);
      const plan = planMoves(this.describe(), nodes, batch.length);
      if (plan.every((target) => target === undefined)) {
        logger.warn({ sessions: left.length }, 'drain: no other node can take the participants left');
        break;
      }
      for (const [i, connection] of batch.entries()) {
        const target = plan[i];
        if (!target) continue;
        this.signalling.end(connection, 'node-draining', { url: target.publicUrl, node: target.id });
        moved += 1;
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    audit(logger, 'node.drained', { node: this.nodeId, moved, left: this.signalling.connections().length });
  }

  /** A newcomer is taken here unless this node is full or draining; then the registry decides. */
  private async placeJoin(): Promise<JoinPlacement> {
    const self = this.describe();
    const here = placeJoin(self, []);
    if (here.decision === 'here' || !this.cluster.redis) return here;
    return placeJoin(self, await this.cluster.nodes.list());
  }

  /** Drains this node, or asks another to drain; resolves with the node's sessions then. */
  private async drainNode(nodeId: string): Promise<{ node: string; sessions: number }> {
    if (nodeId === this.nodeId) {
      void this.drain();
      return { node: nodeId, sessions: this.signalling.connections().length };
    }
    if (!this.roomCommands) throw new RelaisError('NOT_FOUND', `No node ${nodeId} in this cluster.`);
    return { node: nodeId, sessions: await this.roomCommands.drain(nodeId) };
  }

  /** Ends a room on every node: here, then on each node where the shared state has members of it. */
  private async closeRoom(roomId: string): Promise<number> {
    let ended = this.signalling.endSessions((claims) => claims.room === roomId, 'room-closed');
    const nodes = new Set((await this.cluster.roomState.members(roomId)).map((member) => member.node));
    nodes.delete(this.nodeId);
    const commands = this.roomCommands;
    if (commands) {
      const counts = await Promise.all([...nodes].map((node) => commands.send(node, { action: 'closeRoom', roomId })));
      for (const count of counts) ended += count;
    }
    return ended;
  }

  /** The room's register as its entries stand, whichever nodes wrote them. */
  async attendance(roomId: string): Promise<ReturnType<typeof attendanceOf>> {
    const entries = await this.cluster.roomState.attendance(roomId);
    return attendanceOf(roomId, entries, (entry, error) =>
      this.options.logger.warn({ err: error, room: roomId, type: entry.type }, 'attendance entry skipped'),
    );
  }

  private notReadyReason(): { reason?: string } {
    if (!this.started) return { reason: 'starting or stopping' };
    if (!this.pool.ready) return { reason: 'a mediasoup worker is restarting' };
    if (!this.cluster.ready) return { reason: 'Redis is unreachable' };
    return {};
  }

  /** This node's id in the cluster (RELAIS_NODE_ID or a generated one). */
  get nodeId(): string {
    return this.options.config.nodeId;
  }

  /** The address clients use; with port 0 in tests, the port actually bound. */
  get url(): string {
    const address = this.httpServer.address() as AddressInfo | null;
    const { publicUrl, port } = this.options.config.http;
    if (!address || port !== 0) return publicUrl;
    const scheme = this.options.config.http.tls ? 'https' : 'http';
    return `${scheme}://${this.options.config.http.host}:${address.port}`;
  }

  /** This node as other nodes call it: its id and internal URL (cluster address, bound port). */
  get node(): { id: string; url: string } {
    const address = this.httpServer.address() as AddressInfo | null;
    const port = address?.port ?? this.options.config.http.port;
    const host = this.options.config.cluster.address;
    const scheme = this.options.config.http.tls ? 'https' : 'http';
    return { id: this.nodeId, url: `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}` };
  }

  /**
   * Node-to-node pipes on this node, summed over its rooms (or of one room): `out` served to
   * other nodes (transports, one consumer per piped producer), `in` received from other nodes.
   */
  pipeCounts(roomId?: string): {
    out: { transports: number; consumers: number };
    in: { transports: number; producers: number };
  } {
    const live = roomId === undefined ? this.signalling.liveRooms() : [this.signalling.room(roomId)];
    const rooms = live.flatMap((room) => (room ? [room.media] : []));
    return this.nodePipes
      ? this.nodePipes.counts(rooms)
      : { out: { transports: 0, consumers: 0 }, in: { transports: 0, producers: 0 } };
  }

  private requirePipes(): NodePipes {
    if (!this.nodePipes) throw new Error('node pipes are not configured');
    return this.nodePipes;
  }

  async stop(): Promise<void> {
    this.started = false;
    this.draining = true;
    await this.signalling.close();
    // The last leaves and room.finished events are queued by now: five seconds to deliver them.
    await this.webhooks?.close({ flushWithinMs: 5000 });
    if (this.httpServer.listening) await new Promise<void>((resolve) => this.httpServer.close(() => resolve()));
    await this.cluster.stop();
    await this.pool.close();
  }
}
