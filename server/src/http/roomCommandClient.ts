import type { NodeRegistry } from '../cluster/NodeRegistry.js';
import { RelaisError } from '../domain/errors.js';
import type { InternalClient } from './internalClient.js';
import { type RoomCommand, roomCommandAnswer } from './roomCommandProtocol.js';

/** Sends room commands to the node a member is connected to. */
export interface RoomCommandSender {
  /** Resolves with how many sessions the command ended there. */
  send(nodeId: string, command: RoomCommand): Promise<number>;
}

/** Over the signed internal API, finding the node's URL in the registry. */
export class InternalRoomCommands implements RoomCommandSender {
  constructor(
    private readonly client: InternalClient,
    private readonly nodes: NodeRegistry,
  ) {}

  async send(nodeId: string, command: RoomCommand): Promise<number> {
    const node = (await this.nodes.list()).find((entry) => entry.id === nodeId);
    if (!node) throw new RelaisError('UNAVAILABLE', `Node ${nodeId} is not reachable right now.`);
    const answer = await this.client.post(
      { id: node.id, url: node.internalUrl },
      '/internal/rooms/command',
      command,
      roomCommandAnswer,
    );
    return answer?.ended ?? 0;
  }
}
