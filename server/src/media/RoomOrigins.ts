import type { NodeRef } from '../http/internalProtocol.js';

/**
 * Where a room's speakers are: the node holding the room's origin router. The seam through
 * which a node learns it must receive a room from another node; a Redis-backed registry
 * replaces the static one when the cluster has shared state.
 */
export interface RoomOrigins {
  /** The origin node of the room, or undefined when this node is (or will be) its origin. */
  originOf(roomId: string): Promise<NodeRef | undefined>;
}

/** Origins set by configuration or by a test; rooms not listed are served locally. */
export class StaticRoomOrigins implements RoomOrigins {
  private readonly origins = new Map<string, NodeRef>();

  set(roomId: string, origin: NodeRef): void {
    this.origins.set(roomId, origin);
  }

  delete(roomId: string): void {
    this.origins.delete(roomId);
  }

  async originOf(roomId: string): Promise<NodeRef | undefined> {
    return this.origins.get(roomId);
  }
}
