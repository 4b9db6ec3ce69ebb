import type { types } from 'mediasoup';
import { conflict, notFound } from '../domain/errors.js';
import type { NodeRef, PipeAnswer, PipeEndpoint } from '../http/internalProtocol.js';
import type { Logger } from '../observability/logger.js';
import type { ProducerInfo } from '../signalling/catalog.js';
import { endpointOf, type NodePipeOptions, pipeTransportOptions } from './nodePipeTypes.js';

/** One receiving node's pipe of this room: one transport, one consumer per piped producer. */
interface Link {
  node: NodeRef;
  transport: types.PipeTransport;
  /** The receiving node's end this transport is connected to. */
  remote: { ip: string; port: number };
  consumers: Map<string, types.Consumer>;
}

/**
 * The origin side of node-to-node pipes for one room: each receiving node gets one
 * PipeTransport on the room's origin router, and each producer it asks for is consumed once
 * on it, however many listeners that node serves. Owns those transports and consumers.
 */
export class PipeOrigin {
  private readonly links = new Map<string, Link>();
  /** Requests of one node are handled one after the other: one transport per node, never two. */
  private readonly queues = new Map<string, Promise<unknown>>();
  private closed = false;

  constructor(
    private readonly roomId: string,
    private readonly router: types.Router,
    private readonly options: NodePipeOptions,
    private readonly logger: Logger,
    /** A pipe consumer forwards like a listener's: it counts in the worker's load. */
    private readonly addLoad: (amount: number) => void,
  ) {}

  /** The node no longer receives the room: close its pipes. */
  unwatch(nodeId: string): void {
    this.closeLink(nodeId);
  }

  producerAdded(producer: ProducerInfo): void {
    this.options.notify(this.roomId, { type: 'producerAdded', producer });
  }

  /** Pipe consumers follow their producer's pause by themselves; the watching nodes' participants must be told. */
  producerPaused(producerId: string, paused: boolean): void {
    this.options.notify(this.roomId, { type: 'producerPaused', producerId, paused });
  }

  /** The producer's pipe consumers close themselves (producerclose); the watching nodes are told. */
  producerClosed(producerId: string): void {
    this.options.notify(this.roomId, { type: 'producerClosed', producerId });
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
   * at the receiving node's request only, so both ends stay in step.
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
    for (const nodeId of [...this.links.keys()]) this.closeLink(nodeId);
  }

  private async pipeNow(
    node: NodeRef,
    remote: PipeEndpoint,
    producer: types.Producer,
    info: ProducerInfo,
  ): Promise<PipeAnswer> {
    if (this.closed) throw conflict('The room has closed on its origin node.');
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
