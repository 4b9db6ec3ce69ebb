import type { NodeRegistry } from '../cluster/NodeRegistry.js';
import { RelaisError } from '../domain/errors.js';
import type { InternalClient } from './internalClient.js';
import { drainAnswer, type RoomCommand, roomCommandAnswer } from './roomCommandProtocol.js';

/** Sends room commands to the node a member is connected to. */
export interface RoomCommandSender {
  /** Resolves with how many sessions the command ended there. */
  send(nodeId: string, command: RoomCommand): Promise<number>;
  /** Asks the node to drain; resolves with its sessions at that moment. */
  drain(nodeId: string): Promise<number>;
}

/** Over the signed internal API, finding the node's URL in the registry. */
export class InternalRoomCommands implements RoomCommandSender {
  constructor(
    private readonly client: InternalClient,
    private readonly nodes: NodeRegistry,
  ) {}

  async send(nodeId: string, command: RoomCommand): Promise<number> {
    const node = await this.node(nodeId);
    const answer = await this.client.post(node, '/internal/rooms/command', command, roomCommandAnswer);
    return answer?.ended ?? 0;
  }

  async drain(nodeId: string): Promise<number> {
    const answer = await this.client.post(await this.node(nodeId), '/internal/drain', {}, drainAnswer);
    return answer?.sessions ?? 0;
  }

  private async node(nodeId: string): Promise<{ id: string; url: string }> {
    const node = (await this.nodes.list()).find((entry) => entry.id === nodeId);
    if (!node) throw new RelaisError('NOT_FOUND', `No live node ${nodeId} in this cluster.`);
    return { id: node.id, url: node.internalUrl };
  }
}
