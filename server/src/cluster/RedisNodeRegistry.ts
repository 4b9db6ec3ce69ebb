import { RelaisError } from '../domain/errors.js';
import {
  Heartbeat,
  NODE_HEARTBEAT_MS,
  NODE_TTL_MS,
  type NodeInfo,
  type NodeRegistry,
  type RegisteredNode,
  registeredNodeSchema,
} from './NodeRegistry.js';
import type { RedisClient } from './RedisConnection.js';

export interface RedisNodeRegistryOptions {
  /** Prefix of every key this registry writes. */
  keyPrefix?: string;
  heartbeatMs?: number;
  ttlMs?: number;
  onError: (error: unknown) => void;
}

/**
 * Nodes in Redis: one key per node (`<prefix>node:<id>`, JSON, expiring after `ttlMs` unless
 * refreshed) and an index sorted set of ids scored by expiry, so listing never scans the keyspace.
 * The key's TTL decides liveness; the index only says where to look and is trimmed as it is read.
 */
export class RedisNodeRegistry implements NodeRegistry {
  private heartbeat: Heartbeat | undefined;
  private nodeId: string | undefined;
  private readonly prefix: string;
  private readonly heartbeatMs: number;
  private readonly ttlMs: number;

  constructor(
    private readonly redis: RedisClient,
    private readonly options: RedisNodeRegistryOptions,
  ) {
    this.prefix = options.keyPrefix ?? 'relais:';
    this.heartbeatMs = options.heartbeatMs ?? NODE_HEARTBEAT_MS;
    this.ttlMs = options.ttlMs ?? NODE_TTL_MS;
  }

  private get indexKey(): string {
    return `${this.prefix}nodes`;
  }

  private nodeKey(id: string): string {
    return `${this.prefix}node:${id}`;
  }

  async start(describe: () => NodeInfo): Promise<void> {
    this.heartbeat = new Heartbeat(
      async () => {
        const info = describe();
        this.nodeId = info.id;
        const now = Date.now();
        const entry: RegisteredNode = { ...info, seenAt: now };
        await this.redis
          .multi()
          .set(this.nodeKey(info.id), JSON.stringify(entry), { expiration: { type: 'PX', value: this.ttlMs } })
          .zAdd(this.indexKey, { score: now + this.ttlMs, value: info.id })
          .exec();
      },
      this.heartbeatMs,
      this.options.onError,
    );
    await this.heartbeat.start();
  }

  async list(): Promise<RegisteredNode[]> {
    try {
      return await this.read();
    } catch (error) {
      this.options.onError(error);
      throw new RelaisError('INTERNAL', 'Redis is unreachable from this node: the list of nodes is unknown.');
    }
  }

  private async read(): Promise<RegisteredNode[]> {
    const now = Date.now();
    await this.redis.zRemRangeByScore(this.indexKey, '-inf', now);
    const ids = await this.redis.zRange(this.indexKey, 0, -1);
    if (ids.length === 0) return [];
    const values = await this.redis.mGet(ids.map((id) => this.nodeKey(id)));
    const nodes: RegisteredNode[] = [];
    for (const value of values) {
      if (value === null) continue;
      try {
        const parsed = registeredNodeSchema.safeParse(JSON.parse(value));
        if (parsed.success) nodes.push(parsed.data as RegisteredNode);
      } catch {
        // Written by something else under our prefix: not a node we can show.
      }
    }
    return nodes.sort((a, b) => a.id.localeCompare(b.id));
  }

  async refresh(): Promise<void> {
    await this.heartbeat?.now();
  }

  async stop(): Promise<void> {
    await this.heartbeat?.stop();
    this.heartbeat = undefined;
    if (this.nodeId === undefined || !this.redis.isReady) return;
    await this.redis.multi().del(this.nodeKey(this.nodeId)).zRem(this.indexKey, this.nodeId).exec();
  }
}
