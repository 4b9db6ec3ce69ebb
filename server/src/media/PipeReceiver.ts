import type { types } from 'mediasoup';
import { notFound } from '../domain/errors.js';
import type { Logger } from '../observability/logger.js';
import type { ProducerInfo } from '../signalling/catalog.js';
import { endpointOf, type PeerLink, type PipeListen, pipeTransportOptions } from './nodePipeTypes.js';
import type { ProducerData } from './PeerMedia.js';

export type PipedProducer = types.Producer<ProducerData>;

/**
 * The receiving side of node-to-node pipes for one room and one other node on which it is open
 * (the "peer"): the producers the peer offers, one PipeTransport to the peer on this node's
 * origin router, and each producer piped in once (same id as on the peer). Owns the transport
 * and the piped producers; the peer is asked for one pipe per producer, one request at a time.
 */
export class PipeReceiver {
  /** The peer's opening of the room this receiver follows: undefined until it answers, or if the room is not open there. */
  theirs: string | undefined;
  /** Resolves with the producers first listed once the peer answered the watch. */
  readonly started: Promise<ProducerInfo[]>;
  /** The watch was answered (or failed). */
  settled = false;
  private readonly offered = new Map<string, ProducerInfo>();
  private readonly piped = new Map<string, Promise<PipedProducer>>();
  private transport: types.PipeTransport | undefined;
  /** The peer's end our transport is connected to. */
  private connectedTo: { ip: string; port: number } | undefined;
  /** The peer sees this node's requests in the order they were made (an unwatch after the watch). */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Producers the peer closed while its list was on its way here. */
  private readonly closedWhileStarting = new Set<string>();
  private starting = false;

  constructor(
    private readonly roomId: string,
    /** This node's opening of the room. */
    private readonly instance: string,
    private readonly router: types.Router,
    private readonly listen: PipeListen,
    readonly link: PeerLink,
    private readonly logger: Logger,
  ) {
    this.started = this.start();
    this.started.catch(() => undefined);
  }

  get nodeId(): string {
    return this.link.nodeId;
  }

  /** Watches the peer; resolves with the producers its list added (events may have announced others first). */
  private async start(): Promise<ProducerInfo[]> {
    this.starting = true;
    try {
      const answer = await this.serially(() => this.link.watch(this.roomId, this.instance));
      if (this.closed) return [];
      this.theirs = answer.instance;
      const added: ProducerInfo[] = [];
      for (const producer of answer.producers)
        if (!this.closedWhileStarting.has(producer.producerId) && !this.offered.has(producer.producerId)) {
          this.offered.set(producer.producerId, producer);
          added.push(producer);
        }
      return added;
    } finally {
      this.starting = false;
      this.settled = true;
      this.closedWhileStarting.clear();
    }
  }

  offers(producerId: string): boolean {
    return this.offered.has(producerId);
  }

  offeredProducers(): ProducerInfo[] {
    return [...this.offered.values()];
  }

  /** A producer the peer announced; false when it was already known. */
  offer(producer: ProducerInfo): boolean {
    if (this.offered.has(producer.producerId)) return false;
    this.offered.set(producer.producerId, producer);
    return true;
  }

  /** The peer paused or resumed the producer; false when it is not offered here. */
  setPaused(producerId: string, paused: boolean): boolean {
    const producer = this.offered.get(producerId);
    if (!producer) return false;
    this.offered.set(producerId, { ...producer, paused });
    return true;
  }

  /** The peer closed the producer: forget it; the caller closes what was piped. */
  withdraw(producerId: string): Promise<PipedProducer> | undefined {
    if (this.starting) this.closedWhileStarting.add(producerId);
    this.offered.delete(producerId);
    const piped = this.piped.get(producerId);
    this.piped.delete(producerId);
    return piped;
  }

  /** The producer piped in from the peer, piped on first use. */
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
   * A piped producer closed (released, or closed on the peer): ask the peer to close its
   * consumer, and close the transport when nothing is left on it (the peer does likewise).
   */
  pipeClosed(producerId: string): void {
    this.piped.delete(producerId);
    const transport = this.transport;
    if (this.closed || !transport) return;
    const remote = { ip: transport.tuple.localAddress, port: transport.tuple.localPort };
    void this.serially(() => this.link.closePipe(this.roomId, producerId, remote)).catch((error: unknown) =>
      this.logger.warn({ err: error, producer: producerId }, 'could not tell a node to close a pipe'),
    );
    if (this.piped.size === 0) this.closeTransport();
  }

  private closeTransport(): void {
    if (!this.transport) return;
    this.transport.close();
    this.transport = undefined;
    this.connectedTo = undefined;
    this.logger.info({ node: this.link.nodeId }, 'pipe transport from a node closed');
  }

  counts(): { transports: number; producers: number } {
    return { transports: this.transport ? 1 : 0, producers: this.piped.size };
  }

  /**
   * Closes the transport (and with it the piped producers). `tellPeer` when the room closed
   * here: the peer then forgets this node; not when the peer's room closed or reopened, since
   * what it would undo there is already gone (and a newer opening must not be undone).
   */
  close(tellPeer: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.transport?.close();
    this.transport = undefined;
    this.connectedTo = undefined;
    this.piped.clear();
    this.offered.clear();
    if (!tellPeer) return;
    // After the watch, if it is still on its way: the peer must not see them the other way round.
    void this.serially(() => this.link.unwatch(this.roomId, this.instance)).catch((error: unknown) =>
      this.logger.warn({ err: error, node: this.link.nodeId }, 'could not tell a node this one left the room'),
    );
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
      this.logger.info({ node: this.link.nodeId, local: transport.tuple.localPort }, 'pipe transport opened');
    }
    try {
      const answer = await this.link.pipe(this.roomId, producerId, endpointOf(transport));
      const peer = { ip: answer.transport.ip, port: answer.transport.port };
      if (fresh) {
        await transport.connect({ ...peer, srtpParameters: answer.transport.srtpParameters });
        this.connectedTo = peer;
      } else if (this.connectedTo?.ip !== peer.ip || this.connectedTo.port !== peer.port) {
        // The peer opened a new end (its room reopened): ours is connected to a dead one.
        if (attempt > 1) throw new Error('the node answered from a different pipe end twice');
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
