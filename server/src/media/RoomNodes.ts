import type { NodeRef } from '../http/internalProtocol.js';

/**
 * Which nodes host each room: the seam through which a node finds the other nodes on which a
 * room is open, to receive their producers and offer its own. In memory for a node alone (or
 * tests wiring nodes by hand); in Redis in a cluster (cluster/RedisRoomNodes.ts).
 */
export interface RoomNodes {
  /** This node hosts the room from now on. */
  opened(roomId: string): Promise<void>;
  /** This node no longer hosts the room. */
  closed(roomId: string): Promise<void>;
  /** The other live nodes hosting the room. */
  peersOf(roomId: string): Promise<NodeRef[]>;
}

/**
 * Peers set by hand (tests, or a fixed set of nodes); rooms without any are served by this node
 * alone. Tell each node about the others: a node only learns of a peer from the table or from
 * the peer's watch, and a watch that came before the room opened here is not remembered.
 */
export class StaticRoomNodes implements RoomNodes {
  private readonly peers = new Map<string, Map<string, NodeRef>>();
  private readonly hosted = new Set<string>();

  addPeer(roomId: string, node: NodeRef): void {
    let nodes = this.peers.get(roomId);
    if (!nodes) {
      nodes = new Map();
      this.peers.set(roomId, nodes);
    }
    nodes.set(node.id, node);
  }

  removePeer(roomId: string, nodeId: string): void {
    const nodes = this.peers.get(roomId);
    nodes?.delete(nodeId);
    if (nodes?.size === 0) this.peers.delete(roomId);
  }

  /** Rooms this node hosts, as it declared them. */
  hosts(roomId: string): boolean {
    return this.hosted.has(roomId);
  }

  async opened(roomId: string): Promise<void> {
    this.hosted.add(roomId);
  }

  async closed(roomId: string): Promise<void> {
    this.hosted.delete(roomId);
  }

  async peersOf(roomId: string): Promise<NodeRef[]> {
    return [...(this.peers.get(roomId)?.values() ?? [])];
  }
}
