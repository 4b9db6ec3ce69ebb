import type { types } from 'mediasoup';
import { notFound } from '../domain/errors.js';
import type { Logger } from '../observability/logger.js';
import type { ProducerInfo } from '../signalling/catalog.js';
import { endpointOf, type OriginLink, type PipeListen, pipeTransportOptions } from './nodePipeTypes.js';
import type { ProducerData } from './PeerMedia.js';

export type PipedProducer = types.Producer<ProducerData>;

/**
 * The receiving side of node-to-node pipes for one room whose speakers are on another node:
 * the producers the origin offers, one PipeTransport to the origin on this node's origin
 * router, and each producer piped in once (same id as on the origin). Owns the transport and
 * the piped producers; the origin is asked for one pipe per producer, one request at a time.
 */
export class PipeReceiver {
  private readonly offered = new Map<string, ProducerInfo>();
  private readonly piped = new Map<string, Promise<PipedProducer>>();
  private transport: types.PipeTransport | undefined;
  /** The origin's end our transport is connected to. */
  private connectedTo: { ip: string; port: number } | undefined;
  /** The origin sees this node's requests in the order they were made. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Producers the origin closed while its list was on its way here. */
  private readonly closedWhileStarting = new Set<string>();
  private starting = false;

  constructor(
    private readonly roomId: string,
    private readonly router: types.Router,
    private readonly listen: PipeListen,
    readonly link: OriginLink,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<ProducerInfo[]> {
    this.starting = true;
    try {
      const producers = await this.serially(() => this.link.watch(this.roomId));
      for (const producer of producers)
        if (!this.closedWhileStarting.has(producer.producerId) && !this.offered.has(producer.producerId))
          this.offered.set(producer.producerId, producer);
      return this.offeredProducers();
    } finally {
      this.starting = false;
      this.closedWhileStarting.clear();
    }
  }

  offers(producerId: string): boolean {
    return this.offered.has(producerId);
  }

  offeredProducers(): ProducerInfo[] {
    return [...this.offered.values()];
  }

  /** A producer the origin announced; false when it was already known. */
  offer(producer: ProducerInfo): boolean {
    if (this.offered.has(producer.producerId)) return false;
    this.offered.set(producer.producerId, producer);
    return true;
  }

  /** The origin paused or resumed the producer; false when it is not offered here. */
  setPaused(producerId: string, paused: boolean): boolean {
    const producer = this.offered.get(producerId);
    if (!producer) return false;
    this.offered.set(producerId, { ...producer, paused });
    return true;
  }

  /** The origin closed the producer: forget it; the caller closes what was piped. */
  withdraw(producerId: string): Promise<PipedProducer> | undefined {
    if (this.starting) this.closedWhileStarting.add(producerId);
    this.offered.delete(producerId);
    const piped = this.piped.get(producerId);
    this.piped.delete(producerId);
    return piped;
  }

  /** The producer piped in from the origin, piped on first use. */
  pipeIn(producerId: string): Promise<PipedProducer> {
    let piped = this.piped.get(producerId);
    if (!piped) {
      piped = this.serially(() => this.pipeNow(producerId));
      this.piped.set(producerId, piped);
      piped.catch(() => {
        if (this.piped.get(producerId) === piped) this.piped.delete(producerId);
      });
    }
    return piped;
  }

  /** Nobody on this node consumes the producer any more: close it here (its close calls `pipeClosed`). */
  release(producerId: string, producer: PipedProducer): void {
    if (this.piped.has(producerId)) this.piped.delete(producerId);
    producer.close();
  }

  /**
   * A piped producer closed (released, or closed on the origin): ask the origin to close its
   * consumer, and close the transport when nothing is left on it (the origin does likewise).
   */
  pipeClosed(producerId: string): void {
    this.piped.delete(producerId);
    const transport = this.transport;
    if (this.closed || !transport) return;
    const remote = { ip: transport.tuple.localAddress, port: transport.tuple.localPort };
    void this.serially(() => this.link.closePipe(this.roomId, producerId, remote)).catch((error: unknown) =>
      this.logger.warn({ err: error, producer: producerId }, 'could not tell the origin to close a pipe'),
    );
    if (this.piped.size === 0) this.closeTransport();
  }

  private closeTransport(): void {
    if (!this.transport) return;
    this.transport.close();
    this.transport = undefined;
    this.connectedTo = undefined;
    this.logger.info({ origin: this.link.nodeId }, 'pipe transport from the origin closed');
  }

  counts(): { transports: number; producers: number } {
    return { transports: this.transport ? 1 : 0, producers: this.piped.size };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.transport?.close();
    this.transport = undefined;
    this.connectedTo = undefined;
    this.piped.clear();
    this.offered.clear();
    void this.link
      .unwatch(this.roomId)
      .catch((error: unknown) => this.logger.warn({ err: error }, 'could not tell the origin this node left the room'));
  }

  private serially<T>(step: () => Promise<T>): Promise<T> {
    const next = this.queue.catch(() => undefined).then(step);
    this.queue = next;
    return next;
  }

  private async pipeNow(producerId: string, attempt = 1): Promise<PipedProducer> {
    if (this.closed) throw notFound('This room has closed.');
    const info = this.offered.get(producerId);
    if (!info) throw notFound(`No producer ${producerId} in this room.`);
    let transport = this.transport;
    const fresh = !transport;
    if (!transport) {
      transport = await this.router.createPipeTransport(pipeTransportOptions(this.listen));
      this.transport = transport;
      this.logger.info({ origin: this.link.nodeId, local: transport.tuple.localPort }, 'pipe transport opened');
    }
    try {
      const answer = await this.link.pipe(this.roomId, producerId, endpointOf(transport));
      const origin = { ip: answer.transport.ip, port: answer.transport.port };
      if (fresh) {
        await transport.connect({ ...origin, srtpParameters: answer.transport.srtpParameters });
        this.connectedTo = origin;
      } else if (this.connectedTo?.ip !== origin.ip || this.connectedTo.port !== origin.port) {
        // The origin opened a new end (its room reopened): ours is connected to a dead one.
        if (attempt > 1) throw new Error('the origin answered from a different pipe end twice');
        this.closeTransport();
        return await this.pipeNow(producerId, attempt + 1);
      }
      if (this.closed || transport.closed) throw notFound('This room has closed.');
      const { producer } = answer;
      return await transport.produce({
        id: producerId,
        kind: producer.kind,
        rtpParameters: producer.rtpParameters as unknown as types.RtpParameters,
        paused: producer.paused,
        appData: { source: producer.source, peerId: producer.participantId },
      });
    } catch (error) {
      if (fresh && this.transport === transport && this.piped.size <= 1) this.closeTransport();
      throw error;
    }
  }
}
