import { notFound } from '../domain/errors.js';
import type { NodeRef, PipeAnswer, PipeEndpoint, PipeEvent } from '../http/internalProtocol.js';
import type { Logger } from '../observability/logger.js';
import type { ProducerInfo } from '../signalling/catalog.js';
import type { NodePipeOptions, OriginLink, PipeListen } from './nodePipeTypes.js';
import type { RoomMedia } from './RoomMedia.js';
import type { RoomOrigins } from './RoomOrigins.js';

export interface NodePipesOptions {
  /** This node (its URL is known once its HTTP server listens). */
  self: () => NodeRef;
  listen: PipeListen;
  origins: RoomOrigins;
  /** The internal API of a room's origin node. */
  linkTo(origin: NodeRef): OriginLink;
  /** Sends a producer event to a watching node. */
  send(node: NodeRef, roomId: string, event: PipeEvent): Promise<void>;
  /** The media of a room live on this node. */
  media(roomId: string): RoomMedia | undefined;
  logger: Logger;
}

/**
 * This node's part in carrying rooms across nodes: as a room's origin, which nodes watch the
 * room (told when producers come and go) and the pipes it serves them; as a receiving node,
 * following a room's origin when the room opens here. The internal API calls in here.
 */
export class NodePipes {
  /** Room → nodes receiving it from here. Kept while the room is not open here yet, too. */
  private readonly watchers = new Map<string, Map<string, NodeRef>>();
  /** Events to one node are sent one after the other, so it sees a producer added before it is closed. */
  private readonly sending = new Map<string, Promise<void>>();
  /** Rooms this node receives from an origin, from the moment they start opening (events may come before they are live). */
  private readonly following = new Map<string, RoomMedia>();

  constructor(private readonly options: NodePipesOptions) {}

  get self(): NodeRef {
    return this.options.self();
  }

  /** What each room's media needs to pipe. */
  get mediaOptions(): NodePipeOptions {
    return { listen: this.options.listen, notify: (roomId, event) => this.notify(roomId, event) };
  }

  /** A room opened here: if its origin is another node, receive it from there. */
  async roomOpened(media: RoomMedia): Promise<void> {
    const origin = await this.options.origins.originOf(media.roomId);
    if (!origin || origin.id === this.self.id) return;
    for (const [roomId, followed] of this.following) if (followed.isClosed) this.following.delete(roomId);
    this.following.set(media.roomId, media);
    await media.followOrigin(this.options.linkTo(origin));
    this.options.logger.info({ room: media.roomId, origin: origin.id }, 'room follows its origin node');
  }

  watch(roomId: string, node: NodeRef): ProducerInfo[] {
    let nodes = this.watchers.get(roomId);
    if (!nodes) {
      nodes = new Map();
      this.watchers.set(roomId, nodes);
    }
    nodes.set(node.id, node);
    return this.options.media(roomId)?.localProducerList() ?? [];
  }

  unwatch(roomId: string, nodeId: string): void {
    const nodes = this.watchers.get(roomId);
    nodes?.delete(nodeId);
    if (nodes?.size === 0) this.watchers.delete(roomId);
    this.options.media(roomId)?.unwatchedBy(nodeId);
  }

  async pipe(roomId: string, node: NodeRef, producerId: string, transport: PipeEndpoint): Promise<PipeAnswer> {
    const media = this.options.media(roomId);
    if (!media) throw notFound(`Room ${roomId} is not live on this node.`);
    return media.pipeTo(node, producerId, transport);
  }

  closePipe(roomId: string, nodeId: string, producerId: string, transport: { ip: string; port: number }): void {
    this.options.media(roomId)?.closePipeTo(nodeId, producerId, transport);
  }

  /** An origin node's news about a room this node receives from it. */
  event(roomId: string, nodeId: string, event: PipeEvent): void {
    const media = this.following.get(roomId);
    if (!media || media.isClosed || media.originNode !== nodeId) return;
    if (event.type === 'producerAdded') media.remoteProducerAdded(event.producer);
    else if (event.type === 'producerClosed') media.remoteProducerClosed(event.producerId);
    else
      media
        .remoteProducerPaused(event.producerId, event.paused)
        .catch((error: unknown) =>
          this.options.logger.warn({ err: error, room: roomId }, 'could not pause a piped producer'),
        );
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

  private notify(roomId: string, event: PipeEvent): void {
    for (const node of this.watchers.get(roomId)?.values() ?? []) {
      const previous = this.sending.get(node.id) ?? Promise.resolve();
      const next = previous.then(() =>
        this.options.send(node, roomId, event).catch((error: unknown) => {
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
}
