import type { types } from 'mediasoup';
import { conflict, notFound } from '../domain/errors.js';
import type { NodeRef, PipeAnswer, PipeEndpoint, PipeEvent } from '../http/internalProtocol.js';
import type { Logger } from '../observability/logger.js';
import type { ProducerInfo } from '../signalling/catalog.js';
import { openedBefore } from './meshFollow.js';
import { endpointOf, type NodePipeOptions, pipeTransportOptions } from './nodePipeTypes.js';

/** A node following this room: which opening of the room there watches it. */
interface Watcher {
  node: NodeRef;
  instance: string;
}

/** One receiving node's pipe of this room: one transport, one consumer per piped producer. */
interface Link {
  node: NodeRef;
  transport: types.PipeTransport;
  /** The receiving node's end this transport is connected to. */
  remote: { ip: string; port: number };
  consumers: Map<string, types.Consumer>;
}

/**
 * The sending side of node-to-node pipes for one room: the nodes watching the room here (told
 * when this node's producers come and go), and for each one PipeTransport on the room's origin
 * router, on which each producer it asks for is consumed once, however many listeners that
 * node serves. Owns those transports and consumers.
 */
export class PipeOrigin {
  private readonly watchers = new Map<string, Watcher>();
  private readonly links = new Map<string, Link>();
  /** Requests of one node are handled one after the other: one transport per node, never two. */
  private readonly queues = new Map<string, Promise<unknown>>();
  private closed = false;

  constructor(
    private readonly roomId: string,
    /** This opening of the room, named in every event sent. */
    private readonly instance: string,
    private readonly router: types.Router,
    private readonly options: NodePipeOptions,
    private readonly logger: Logger,
    /** A pipe consumer forwards like a listener's: it counts in the worker's load. */
    private readonly addLoad: (amount: number) => void,
  ) {}

  /**
   * The room's opening `instance` on `node` watches it. A newer opening replaces an older one,
   * whose pipe (if any) is dead with it. False when a newer opening already watches.
   */
  watch(node: NodeRef, instance: string): boolean {
    const previous = this.watchers.get(node.id);
    // A watch of an earlier opening, overtaken on the way by the newer one's: ignored.
    if (previous && openedBefore(instance, previous.instance)) return false;
    if (previous && previous.instance !== instance) this.closeLink(node.id);
    this.watchers.set(node.id, { node, instance });
    return true;
  }

  /** The room's opening `instance` closed on the node: forget it and close its pipes. False if a newer opening watches. */
  unwatch(nodeId: string, instance: string): boolean {
    if (this.watchers.get(nodeId)?.instance !== instance) return false;
    this.watchers.delete(nodeId);
    this.closeLink(nodeId);
    return true;
  }

  /** The node died: whatever it watched, its pipes close. */
  forget(nodeId: string): void {
    this.watchers.delete(nodeId);
    this.closeLink(nodeId);
  }

  /** The nodes watching the room here, and their opening of it. */
  watching(): { node: string; instance: string }[] {
    return [...this.watchers.values()].map((watcher) => ({ node: watcher.node.id, instance: watcher.instance }));
  }

  producerAdded(producer: ProducerInfo): void {
    this.tell({ type: 'producerAdded', producer });
  }

  /** Pipe consumers follow their producer's pause by themselves; the watching nodes' participants must be told. */
  producerPaused(producerId: string, paused: boolean): void {
    this.tell({ type: 'producerPaused', producerId, paused });
  }

  /** The producer's pipe consumers close themselves (producerclose); the watching nodes are told. */
  producerClosed(producerId: string): void {
    this.tell({ type: 'producerClosed', producerId });
  }

  private tell(event: PipeEvent): void {
    if (this.closed) return;
    for (const watcher of this.watchers.values()) this.options.notify(watcher.node, this.roomId, this.instance, event);
  }

  pipe(node: NodeRef, remote: PipeEndpoint, producer: types.Producer, info: ProducerInfo): Promise<PipeAnswer> {
    const previous = this.queues.get(node.id) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.pipeNow(node, remote, producer, info));
    this.queues.set(node.id, next);
    void next
      .finally(() => {
        if (this.queues.get(node.id) === next) this.queues.delete(node.id);
      })
      .catch(() => undefined);
    return next;
  }

  /**
   * The receiving node has no consumer of the producer left (or the producer closed). The
   * transport closes when nothing is left on it, as the receiving node's end does: links close
   * at the receiving node's request (or when its room closes there) only, so both ends stay in step.
   */
  closePipe(nodeId: string, producerId: string, remote: { ip: string; port: number }): void {
    const link = this.links.get(nodeId);
    if (!link || link.remote.ip !== remote.ip || link.remote.port !== remote.port) return;
    link.consumers.get(producerId)?.close();
    if (link.consumers.size === 0) this.closeLink(nodeId);
  }

  counts(): { transports: number; consumers: number } {
    let consumers = 0;
    for (const link of this.links.values()) consumers += link.consumers.size;
    return { transports: this.links.size, consumers };
  }

  close(): void {
    this.closed = true;
    this.watchers.clear();
    for (const nodeId of [...this.links.keys()]) this.closeLink(nodeId);
  }

  private async pipeNow(
    node: NodeRef,
    remote: PipeEndpoint,
    producer: types.Producer,
    info: ProducerInfo,
  ): Promise<PipeAnswer> {
    if (this.closed) throw conflict('The room has closed on this node.');
    // A late request of a node that has left: a pipe opened for it would never be closed.
    if (!this.watchers.has(node.id)) throw conflict('Watch the room on this node before asking for pipes.');
    let link = this.links.get(node.id);
    if (link && (link.remote.ip !== remote.ip || link.remote.port !== remote.port)) {
      // The receiving node opened a new transport: its old one is gone, and so is ours.
      this.closeLink(node.id);
      link = undefined;
    }
    if (!link) link = await this.openLink(node, remote);
    if (producer.closed) throw notFound(`No producer ${producer.id} in this room.`);
    let consumer = link.consumers.get(producer.id);
    if (!consumer) {
      consumer = await link.transport.consume({ producerId: producer.id });
      const owner = link;
      const piped = consumer;
      owner.consumers.set(producer.id, piped);
      this.addLoad(1);
      piped.observer.once('close', () => {
        this.addLoad(-1);
        if (owner.consumers.get(producer.id) === piped) owner.consumers.delete(producer.id);
      });
      piped.on('producerclose', () => piped.close());
      this.logger.info({ node: node.id, producer: producer.id, kind: producer.kind }, 'producer piped to a node');
    }
    return {
      transport: endpointOf(link.transport),
      producer: { ...info, paused: consumer.producerPaused, rtpParameters: { ...consumer.rtpParameters } },
    };
  }

  private async openLink(node: NodeRef, remote: PipeEndpoint): Promise<Link> {
    const transport = await this.router.createPipeTransport(pipeTransportOptions(this.options.listen));
    try {
      await transport.connect({ ip: remote.ip, port: remote.port, srtpParameters: remote.srtpParameters });
    } catch (error) {
      transport.close();
      throw error;
    }
    const link: Link = { node, transport, remote: { ip: remote.ip, port: remote.port }, consumers: new Map() };
    this.links.set(node.id, link);
    this.logger.info({ node: node.id, local: transport.tuple.localPort }, 'pipe transport to a node opened');
    return link;
  }

  private closeLink(nodeId: string): void {
    const link = this.links.get(nodeId);
    if (!link) return;
    this.links.delete(nodeId);
    link.transport.close();
    link.consumers.clear();
    this.logger.info({ node: nodeId }, 'pipe transport to a node closed');
  }
}
