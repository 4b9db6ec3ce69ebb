import type { Revocation } from '../auth/revocations.js';
import type { RelaisConfig } from '../config/config.js';
import type { RoomNodes } from '../media/RoomNodes.js';
import type { Logger } from '../observability/logger.js';
import type { SharedRoomState } from '../domain/sharedRoomState.js';
import { DeadNodeReaper } from './DeadNodeReaper.js';
import { InMemoryRoomState } from './InMemoryRoomState.js';
import { RedisRoomState } from './RedisRoomState.js';
import {
  InMemoryNodeRegistry,
  NODE_HEARTBEAT_MS,
  NODE_TTL_MS,
  type NodeInfo,
  type NodeRegistry,
} from './NodeRegistry.js';
import { RedisConnection } from './RedisConnection.js';
import { RedisNodeRegistry } from './RedisNodeRegistry.js';
import { RedisRevocationStore } from './RedisRevocationStore.js';
import { internalNodeRef, RedisRoomNodes } from './RedisRoomNodes.js';
import { LocalRevocationStore, type RevocationStore } from './RevocationStore.js';

export interface ClusterStoresOptions {
  config: RelaisConfig;
  logger: Logger;
  /** A revocation made on another node: end its sessions here. */
  onRemoteRevocation: (entry: Revocation) => void;
  /** Members of a dead node were removed from a room's shared state: tell the room. */
  onMembersGone: (roomId: string, memberIds: string[]) => void;
  /** Redis is reachable again after an outage: write this node's live sessions back. */
  onRedisBack: () => void;
  /** Nodes gone from the registry (dead): drop the links to them. */
  onNodesGone?: (nodeIds: string[]) => void;
  /** People waiting through a dead node were removed from a room's lobby: tell its moderators. */
  onLobbyGone?: (roomId: string) => void;
}

/**
 * The state a node shares with the others, behind one interface per store: in memory without
 * RELAIS_REDIS_URL (the embedded default), in Redis with it. It owns the Redis connections,
 * the subscription and the heartbeat timer, and `stop` closes them all.
 */
export class ClusterStores {
  readonly revocations: RevocationStore;
  readonly nodes: NodeRegistry;
  /** Every room's members and producers, as all nodes see them. */
  readonly roomState: SharedRoomState;
  /** Which nodes host each room (for node pipes); absent in the embedded default, where rooms have no peers. */
  readonly roomNodes: RoomNodes | undefined;
  /** Absent in the embedded default. */
  readonly redis: RedisConnection | undefined;
  private readonly logger: Logger;
  private readonly reaper: DeadNodeReaper | undefined;
  private stopFollowingReconnections: (() => void) | undefined;

  constructor(options: ClusterStoresOptions) {
    const { config } = options;
    this.logger = options.logger;
    const maxTokenLifetimeSeconds = config.jwt.maxTokenLifetimeSeconds;
    const settings = config.redis;
    if (!settings) {
      this.redis = undefined;
      this.revocations = new LocalRevocationStore({ maxTokenLifetimeSeconds });
      this.nodes = new InMemoryNodeRegistry();
      this.roomState = new InMemoryRoomState();
      this.roomNodes = undefined;
      return;
    }
    const redis = new RedisConnection(settings, this.logger, config.nodeId);
    this.redis = redis;
    this.revocations = new RedisRevocationStore({
      nodeId: config.nodeId,
      commands: redis.commands,
      subscriber: redis.subscriber,
      onReconnected: (listener) => redis.onReconnected(listener),
      maxTokenLifetimeSeconds,
      onRemoteRevocation: options.onRemoteRevocation,
      onError: (error, what) => this.logger.error({ err: error }, `Redis: failed ${what}`),
    });
    const roomState = new RedisRoomState(redis.commands);
    this.roomState = roomState;
    this.nodes = new RedisNodeRegistry(redis.commands, {
      // Logged at debug: the connection itself already says once that Redis is gone.
      onError: (error) => this.logger.debug({ err: error }, 'Redis: node heartbeat failed'),
    });
    this.reaper = new DeadNodeReaper({
      nodeId: config.nodeId,
      redis: redis.commands,
      nodes: this.nodes,
      keys: (roomId) => roomState.keys(roomId),
      gone: options.onMembersGone,
      ...(options.onNodesGone ? { nodesGone: options.onNodesGone } : {}),
      ...(options.onLobbyGone ? { lobbyGone: options.onLobbyGone } : {}),
      logger: this.logger,
      holdAfterStartMs: NODE_TTL_MS + NODE_HEARTBEAT_MS,
    });
    const reaper = this.reaper;
    this.stopFollowingReconnections = redis.onReconnected(() => {
      reaper.holdFor(NODE_TTL_MS + NODE_HEARTBEAT_MS);
      // Listed again at once, so that other nodes' commands find this one.
      void this.nodes.refresh().finally(options.onRedisBack);
    });
    const nodes = this.nodes;
    this.roomNodes = new RedisRoomNodes(redis.commands, {
      nodeId: config.nodeId,
      liveNodes: async () => (await nodes.list()).map(internalNodeRef),
    });
  }

  /** Connects and loads the revocations in force: before the node accepts its first client. */
  async connect(): Promise<void> {
    if (!this.redis) return;
    await this.redis.connect();
    try {
      await this.revocations.start();
    } catch (error) {
      await this.redis.close();
      throw error;
    }
  }

  /** Announces the node (once it listens: its URL is known). */
  async announce(describe: () => NodeInfo): Promise<void> {
    await this.nodes.start(describe);
    this.reaper?.start();
  }

  /** Redis reachable, or not configured. */
  get ready(): boolean {
    return this.redis ? this.redis.ready : true;
  }

  async stop(): Promise<void> {
    this.reaper?.stop();
    this.stopFollowingReconnections?.();
    await this.nodes
      .stop()
      .catch((error: unknown) => this.logger.warn({ err: error }, 'could not remove this node from the registry'));
    await this.revocations.close();
    await this.redis?.close();
  }
}
