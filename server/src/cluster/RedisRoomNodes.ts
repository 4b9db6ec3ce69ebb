import type { NodeRef } from '../http/internalProtocol.js';
import type { RoomNodes } from '../media/RoomNodes.js';
import type { RegisteredNode } from './NodeRegistry.js';
import type { RedisClient } from './RedisConnection.js';

export interface RedisRoomNodesOptions {
  /** This node's id: what it adds to and removes from a room's set. */
  nodeId: string;
  /** The live nodes of the cluster, as other nodes call them (from the node registry). */
  liveNodes: () => Promise<NodeRef[]>;
  /** Prefix of every key written. */
  keyPrefix?: string;
}

/**
 * The set of nodes hosting a room. The braces make the room id the key's Redis Cluster hash
 * tag, so every key of one room (the room state's too) lives on one shard.
 */
export function roomNodesKey(roomId: string, prefix = 'relais:'): string {
  return `${prefix}room:{${roomId}}:nodes`;
}

/**
 * Which nodes host each room, in Redis: a set of node ids per room, added to when the room opens
 * on a node and removed from when it closes there (SREM of the last member deletes the key).
 * URLs come from the node registry, and only live nodes count: the id of a node that died with
 * the room open is ignored until the DeadNodeReaper removes it from the set.
 */
export class RedisRoomNodes implements RoomNodes {
  private readonly prefix: string;

  constructor(
    private readonly redis: RedisClient,
    private readonly options: RedisRoomNodesOptions,
  ) {
    this.prefix = options.keyPrefix ?? 'relais:';
  }

  async opened(roomId: string): Promise<void> {
    await this.redis.sAdd(roomNodesKey(roomId, this.prefix), this.options.nodeId);
  }

  async closed(roomId: string): Promise<void> {
    await this.redis.sRem(roomNodesKey(roomId, this.prefix), this.options.nodeId);
  }

  async peersOf(roomId: string): Promise<NodeRef[]> {
    const [ids, live] = await Promise.all([
      this.redis.sMembers(roomNodesKey(roomId, this.prefix)),
      this.options.liveNodes(),
    ]);
    const hosting = new Set(ids);
    return live.filter((node) => node.id !== this.options.nodeId && hosting.has(node.id));
  }
}

/** A registered node as other nodes call it: its internal API (cluster address, bound port). */
export function internalNodeRef(entry: RegisteredNode): NodeRef {
  return { id: entry.id, url: entry.internalUrl };
}
