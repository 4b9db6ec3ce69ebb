import { notFound } from '../domain/errors.js';
import type { NodeRef, PipeAnswer, PipeEndpoint, PipeEvent, WatchAnswer } from '../http/internalProtocol.js';
import type { Logger } from '../observability/logger.js';
import type { NodePipeOptions, PeerLink, PipeListen } from './nodePipeTypes.js';
import type { RoomMedia } from './RoomMedia.js';
import type { RoomNodes } from './RoomNodes.js';

export interface NodePipesOptions {
  /** This node (its URL is known once its HTTP server listens). */
  self: () => NodeRef;
  listen: PipeListen;
  /** Which other nodes host each room. */
  roomNodes: RoomNodes;
  /** The internal API of another node. */
  linkTo(node: NodeRef): PeerLink;
  /** Sends a producer event to a watching node. */
  send(node: NodeRef, roomId: string, instance: string, event: PipeEvent): Promise<void>;
  logger: Logger;
}

/**
 * This node's part in the mesh that carries a room across the nodes hosting it: every node on
 * which a room is open receives the producers of every other one, and offers its own to them.
 * When a room opens here it is registered (`RoomNodes.opened`) and follows each peer; a peer
 * watching it is followed back; a peer whose room closed is let go. The internal API calls in here.
 */
export class NodePipes {
  /** Rooms open on this node with pipes, from the moment they start opening (peers may watch them before they are live). */
  private readonly rooms = new Map<string, RoomMedia>();
  /** Events to one node are sent one after the other, so it sees a producer added before it is closed. */
  private readonly sending = new Map<string, Promise<void>>();

  constructor(private readonly options: NodePipesOptions) {}

  get self(): NodeRef {
    return this.options.self();
  }

  /** What each room's media needs to pipe. */
  get mediaOptions(): NodePipeOptions {
    return {
      listen: this.options.listen,
      notify: (node, roomId, instance, event) => this.send(node, roomId, instance, event),
      closed: (roomId, instance) => this.roomClosed(roomId, instance),
    };
  }

  /**
   * A room opened here: registered first, so a peer opening at the same moment finds this node
   * (Redis orders the two registrations: at least one of the two sees the other, and its watch
   * makes the other follow back), then every peer is followed. A peer that cannot be reached
   * is logged and skipped: it follows this node back itself when it comes to watch it.
   */
  async roomOpened(media: RoomMedia): Promise<void> {
    this.rooms.set(media.roomId, media);
    await this.options.roomNodes.opened(media.roomId);
    const peers = (await this.options.roomNodes.peersOf(media.roomId)).filter((node) => node.id !== this.self.id);
    const results = await Promise.allSettled(peers.map((node) => media.followNode(this.options.linkTo(node))));
    results.forEach((result, i) => {
      if (result.status === 'rejected')
        this.options.logger.warn(
          { err: result.reason, room: media.roomId, node: peers[i]?.id },
          'could not follow a node hosting the room',
        );
    });
  }

  /** The room (this opening of it) closed here. */
  private roomClosed(roomId: string, instance: string): void {
    if (this.rooms.get(roomId)?.instance !== instance) return;
    this.rooms.delete(roomId);
    this.options.roomNodes
      .closed(roomId)
      .catch((error: unknown) =>
        this.options.logger.warn({ err: error, room: roomId }, 'could not unregister a room this node closed'),
      );
  }

  /** The room open here, if it is (or is opening). */
  private media(roomId: string): RoomMedia | undefined {
    const media = this.rooms.get(roomId);
    return media && !media.isClosed ? media : undefined;
  }

  /** A peer's opening `instance` of the room watches it here: it gets the local producers, and is followed back. */
  watch(roomId: string, node: NodeRef, instance: string): WatchAnswer {
    const media = this.media(roomId);
    if (!media) return { producers: [] };
    const producers = media.watchedBy(node, instance);
    if (!producers) return { producers: [], instance: media.instance };
    media
      .followBack(this.options.linkTo(node), instance)
      .catch((error: unknown) =>
        this.options.logger.warn({ err: error, room: roomId, node: node.id }, 'could not follow back a node'),
      );
    return { producers, instance: media.instance };
  }

  /** The room's opening `instance` closed on the node. */
  unwatch(roomId: string, nodeId: string, instance: string): void {
    this.media(roomId)?.unwatchedBy(nodeId, instance);
  }

  async pipe(roomId: string, node: NodeRef, producerId: string, transport: PipeEndpoint): Promise<PipeAnswer> {
    const media = this.media(roomId);
    if (!media) throw notFound(`Room ${roomId} is not live on this node.`);
    return media.pipeTo(node, producerId, transport);
  }

  closePipe(roomId: string, nodeId: string, producerId: string, transport: { ip: string; port: number }): void {
    this.media(roomId)?.closePipeTo(nodeId, producerId, transport);
  }

  /** A peer's news about its producers of a room this node follows. */
  event(roomId: string, nodeId: string, instance: string, event: PipeEvent): void {
    const media = this.media(roomId);
    if (!media) return;
    if (event.type === 'producerAdded') media.remoteProducerAdded(nodeId, instance, event.producer);
    else if (event.type === 'producerClosed') media.remoteProducerClosed(nodeId, instance, event.producerId);
    else
      media
        .remoteProducerPaused(nodeId, instance, event.producerId, event.paused)
        .catch((error: unknown) =>
          this.options.logger.warn({ err: error, room: roomId }, 'could not pause a piped producer'),
        );
  }

  /** A node died: every room open here stops following it and closes its pipes to it. */
  nodeGone(nodeId: string): void {
    for (const media of this.rooms.values()) if (!media.isClosed) media.nodeGone(nodeId);
  }

  /** Node-to-node pipes on this node, summed over rooms. */
  counts(rooms: RoomMedia[]): {
    out: { transports: number; consumers: number };
    in: { transports: number; producers: number };
  } {
    const total = { out: { transports: 0, consumers: 0 }, in: { transports: 0, producers: 0 } };
    for (const media of rooms) {
      const c = media.pipeCounts();
      total.out.transports += c.out.transports;
      total.out.consumers += c.out.consumers;
      total.in.transports += c.in.transports;
      total.in.producers += c.in.producers;
    }
    return total;
  }

  private send(node: NodeRef, roomId: string, instance: string, event: PipeEvent): void {
    const previous = this.sending.get(node.id) ?? Promise.resolve();
    const next = previous.then(() =>
      this.options.send(node, roomId, instance, event).catch((error: unknown) => {
        this.options.logger.warn(
          { err: error, room: roomId, node: node.id, event: event.type },
          'could not tell a node',
        );
      }),
    );
    this.sending.set(node.id, next);
    void next.then(() => {
      if (this.sending.get(node.id) === next) this.sending.delete(node.id);
    });
  }
}
