import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import { conflict, forbidden, invalid, notFound } from '../domain/errors.js';
import type { MediaSource } from '../domain/roles.js';
import type { Logger } from '../observability/logger.js';
import { MEDIA_CODECS } from './mediaCodecs.js';
import { PeerMedia } from './PeerMedia.js';
import type { PooledWorker, WorkerPool } from './WorkerPool.js';

export interface RoomMediaOptions {
  /** A receive transport goes to a further worker's router once every router of the room carries this many consumers. */
  consumersPerRouter: number;
  /** Largest number of routers (workers) a room may spread over. */
  maxRouters: number;
}

interface RoomRouter {
  slot: PooledWorker;
  router: types.Router;
  consumers: number;
  /** Receive transports placed here (counted from placement, before any consumer exists). */
  receivers: number;
  /** Producers of the origin router piped into this one, by producer id (the same id on both sides). */
  pipes: Map<string, Promise<void>>;
}

export interface ProducerRecord {
  producer: types.Producer;
  peerId: string;
  source: MediaSource;
}

type Events = {
  consumerClosed: [peerId: string, consumerId: string];
  activeSpeaker: [peerId: string | null];
  mediaLost: [];
};

/**
 * The media plane of one room. Speakers' producers live on the origin router; receive
 * transports are spread over the room's routers (one per worker), and a producer is piped
 * once into each router where someone consumes it.
 */
export class RoomMedia extends EventEmitter<Events> {
  private readonly routers = new Map<number, RoomRouter>();
  private readonly peers = new Map<string, PeerMedia>();
  private readonly producers = new Map<string, ProducerRecord>();
  private closed = false;
  /** A router being opened on a further worker: concurrent placements wait for it. */
  private growing: Promise<RoomRouter> | undefined;
  /** The participant the observer last named dominant speaker, for late joiners. */
  activeSpeaker: string | null = null;

  private constructor(
    readonly roomId: string,
    private readonly pool: WorkerPool,
    private readonly origin: RoomRouter,
    private readonly observer: types.ActiveSpeakerObserver,
    private readonly options: RoomMediaOptions,
    private readonly logger: Logger,
  ) {
    super();
    this.routers.set(origin.slot.index, origin);
    observer.on('dominantspeaker', ({ producer }) => {
      const record = this.producers.get(producer.id);
      if (record && record.peerId !== this.activeSpeaker) {
        this.activeSpeaker = record.peerId;
        this.emit('activeSpeaker', record.peerId);
      }
    });
    pool.on('workerDied', this.onWorkerDied);
  }

  private readonly onWorkerDied = (index: number): void => {
    if (this.routers.has(index) && !this.closed) {
      this.logger.error({ worker: index }, 'room lost a media worker');
      this.emit('mediaLost');
    }
  };

  static async create(pool: WorkerPool, roomId: string, options: RoomMediaOptions, logger: Logger): Promise<RoomMedia> {
    const slot = pool.leastLoaded();
    const router = await slot.worker.createRouter({ mediaCodecs: MEDIA_CODECS, appData: { roomId } });
    const observer = await router.createActiveSpeakerObserver({ interval: 300 });
    const origin: RoomRouter = { slot, router, consumers: 0, receivers: 0, pipes: new Map() };
    logger.debug({ worker: slot.index, router: router.id }, 'room origin router created');
    return new RoomMedia(roomId, pool, origin, observer, options, logger);
  }

  get rtpCapabilities(): types.RtpCapabilities {
    return this.origin.router.rtpCapabilities;
  }

  /** Worker index → consumers on the room's router there: where the room's listeners sit. */
  routerLoads(): Record<number, number> {
    const loads: Record<number, number> = {};
    for (const [index, entry] of this.routers) loads[index] = entry.consumers;
    return loads;
  }

  counts(): { peers: number; transports: number; producers: number; consumers: number; routers: number } {
    let transports = 0;
    let consumers = 0;
    for (const peer of this.peers.values()) {
      transports += peer.transports.size;
      consumers += peer.consumers.size;
    }
    return {
      peers: this.peers.size,
      transports,
      producers: this.producers.size,
      consumers,
      routers: this.routers.size,
    };
  }

  addPeer(peerId: string, rtpCapabilities: types.RtpCapabilities): void {
    if (this.peers.has(peerId)) throw conflict('You have already joined the media session.');
    if (!this.origin.router.rtpCapabilities.codecs?.length) throw invalid('The router has no codecs.');
    this.peers.set(peerId, new PeerMedia(peerId, rtpCapabilities));
  }

  hasPeer(peerId: string): boolean {
    return this.peers.has(peerId);
  }

  producerList(): ProducerRecord[] {
    return [...this.producers.values()];
  }

  async createTransport(peerId: string, direction: 'send' | 'recv'): Promise<types.WebRtcTransport> {
    const peer = this.peer(peerId);
    const already = [...peer.transports.values()].some((t) => t.appData.direction === direction);
    if (already || peer.creating.has(direction)) throw conflict(`You already have a ${direction} transport.`);
    peer.creating.add(direction);
    let target: RoomRouter | undefined;
    let transport: types.WebRtcTransport;
    try {
      if (direction === 'send') target = this.origin;
      else {
        target = await this.placeReceiver();
        peer.recvWorker = target.slot.index;
      }
      transport = await target.router.createWebRtcTransport({
        webRtcServer: target.slot.webRtcServer,
        enableUdp: true,
        enableTcp: true,
        preferUdp: true,
        initialAvailableOutgoingBitrate: 600_000,
        appData: { direction, peerId },
      });
      if (direction === 'send') await transport.setMaxIncomingBitrate(3_000_000);
    } catch (error) {
      if (direction === 'recv' && target) {
        target.receivers -= 1;
        peer.recvWorker = undefined;
      }
      throw error;
    } finally {
      peer.creating.delete(direction);
    }
    transport.on('dtlsstatechange', (state) => {
      if (state === 'failed' || state === 'closed')
        this.logger.warn({ peer: peerId, direction, state }, 'transport DTLS state');
    });
    peer.transports.set(transport.id, transport);
    return transport;
  }

  async connectTransport(peerId: string, transportId: string, dtlsParameters: types.DtlsParameters): Promise<void> {
    await this.transport(peerId, transportId).connect({ dtlsParameters });
  }

  async restartIce(peerId: string, transportId: string): Promise<types.IceParameters> {
    return this.transport(peerId, transportId).restartIce();
  }

  async produce(
    peerId: string,
    transportId: string,
    kind: types.MediaKind,
    rtpParameters: types.RtpParameters,
    source: MediaSource,
  ): Promise<types.Producer> {
    const peer = this.peer(peerId);
    const transport = this.transport(peerId, transportId);
    if (transport.appData.direction !== 'send') throw invalid('Media can only be sent on a send transport.');
    if ((source === 'mic') !== (kind === 'audio')) throw invalid(`A ${source} source cannot carry ${kind}.`);
    if (peer.producerFor(source)) throw conflict(`You are already sending your ${source}.`);
    const producer = await transport.produce({ kind, rtpParameters, appData: { source, peerId } });
    peer.producers.set(producer.id, producer);
    this.producers.set(producer.id, { producer, peerId, source });
    this.origin.slot.load += 1;
    producer.observer.once('close', () => {
      peer.producers.delete(producer.id);
      this.producers.delete(producer.id);
      this.origin.slot.load -= 1;
      for (const entry of this.routers.values()) entry.pipes.delete(producer.id);
    });
    if (kind === 'audio') await this.observer.addProducer({ producerId: producer.id }).catch(() => undefined);
    return producer;
  }

  ownProducer(peerId: string, producerId: string): types.Producer {
    const producer = this.peer(peerId).producers.get(producerId);
    if (!producer) throw notFound(`You have no producer ${producerId}.`);
    return producer;
  }

  producerRecord(producerId: string): ProducerRecord {
    const record = this.producers.get(producerId);
    if (!record) throw notFound(`No producer ${producerId} in this room.`);
    return record;
  }

  closePeerProducers(peerId: string, filter: (producer: types.Producer) => boolean = () => true): string[] {
    const closed: string[] = [];
    for (const producer of [...this.peer(peerId).producers.values()]) {
      if (filter(producer)) {
        producer.close();
        closed.push(producer.id);
      }
    }
    return closed;
  }

  async consume(peerId: string, producerId: string): Promise<{ consumer: types.Consumer; record: ProducerRecord }> {
    const peer = this.peer(peerId);
    const record = this.producerRecord(producerId);
    if (record.peerId === peerId) throw invalid('You cannot consume your own media.');
    const recv = [...peer.transports.values()].find((t) => t.appData.direction === 'recv');
    if (!recv || peer.recvWorker === undefined) throw conflict('Create a receive transport before consuming.');
    const entry = this.routers.get(peer.recvWorker);
    if (!entry) throw conflict('Your receive transport has lost its router; rejoin.');
    await this.ensurePiped(entry, producerId);
    if (!entry.router.canConsume({ producerId, rtpCapabilities: peer.rtpCapabilities })) {
      throw forbidden('Your browser cannot decode this media (no common codec).');
    }
    for (const existing of peer.consumers.values()) {
      if (existing.producerId === producerId) throw conflict(`You already consume ${producerId}.`);
    }
    const consumer = await recv.consume({
      producerId,
      rtpCapabilities: peer.rtpCapabilities,
      paused: true,
      // Start receivers of simulcast video on the lowest layer; the client asks for more.
      ...(record.producer.kind === 'video' ? { preferredLayers: { spatialLayer: 0, temporalLayer: 2 } } : {}),
      appData: { peerId },
    });
    peer.consumers.set(consumer.id, consumer);
    entry.consumers += 1;
    entry.slot.load += 1;
    consumer.observer.once('close', () => {
      peer.consumers.delete(consumer.id);
      entry.consumers -= 1;
      entry.slot.load -= 1;
    });
    consumer.on('producerclose', () => {
      consumer.close();
      this.emit('consumerClosed', peerId, consumer.id);
    });
    return { consumer, record };
  }

  ownConsumer(peerId: string, consumerId: string): types.Consumer {
    const consumer = this.peer(peerId).consumers.get(consumerId);
    if (!consumer) throw notFound(`You have no consumer ${consumerId}.`);
    return consumer;
  }

  removePeer(peerId: string): void {
    const peer = this.peers.get(peerId);
    if (!peer) return;
    peer.close();
    this.peers.delete(peerId);
    const entry = peer.recvWorker === undefined ? undefined : this.routers.get(peer.recvWorker);
    if (entry) entry.receivers -= 1;
    this.pruneIdleRouters();
    if (this.activeSpeaker === peerId) {
      this.activeSpeaker = null;
      this.emit('activeSpeaker', null);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const peer of this.peers.values()) peer.close();
    this.peers.clear();
    for (const entry of this.routers.values()) entry.router.close();
    this.routers.clear();
    this.pool.off('workerDied', this.onWorkerDied);
    this.removeAllListeners();
  }

  private peer(peerId: string): PeerMedia {
    const peer = this.peers.get(peerId);
    if (!peer) throw conflict('Join the room before using media.');
    return peer;
  }

  private transport(peerId: string, transportId: string): types.WebRtcTransport {
    const transport = this.peer(peerId).transport(transportId);
    if (!transport) throw notFound(`You have no transport ${transportId}.`);
    return transport;
  }

  /**
   * Reserves a place on the room router with the lightest load, opening one on a further
   * worker when all are full. Openings are serialised: during a ramp many listeners arrive at once, and two
   * concurrent openings would put two routers on the same worker.
   */
  private async placeReceiver(): Promise<RoomRouter> {
    while (this.growing) await this.growing.catch(() => undefined);
    const load = (entry: RoomRouter): number => Math.max(entry.consumers, entry.receivers);
    const entries = [...this.routers.values()].filter((entry) => !entry.router.closed);
    const lightest = entries.reduce((a, b) => (load(b) < load(a) ? b : a));
    const canGrow = this.routers.size < Math.min(this.options.maxRouters, this.pool.size);
    let chosen = lightest;
    if (load(lightest) >= this.options.consumersPerRouter && canGrow) {
      this.growing = this.openRouter();
      try {
        chosen = await this.growing;
      } finally {
        this.growing = undefined;
      }
    }
    // Counted in the same synchronous step as the choice: concurrent arrivals see each other.
    chosen.receivers += 1;
    return chosen;
  }

  private async openRouter(): Promise<RoomRouter> {
    const slot = this.pool.leastLoaded(new Set(this.routers.keys()));
    const router = await slot.worker.createRouter({ mediaCodecs: MEDIA_CODECS, appData: { roomId: this.roomId } });
    const entry: RoomRouter = { slot, router, consumers: 0, receivers: 0, pipes: new Map() };
    this.routers.set(slot.index, entry);
    this.logger.info({ worker: slot.index, routers: this.routers.size }, 'room spread to another worker');
    return entry;
  }

  private async ensurePiped(entry: RoomRouter, producerId: string): Promise<void> {
    if (entry === this.origin) return;
    let pipe = entry.pipes.get(producerId);
    if (!pipe) {
      pipe = this.origin.router
        .pipeToRouter({ producerId, router: entry.router })
        .then(() => undefined)
        .catch((error: unknown) => {
          entry.pipes.delete(producerId);
          throw error;
        });
      entry.pipes.set(producerId, pipe);
    }
    await pipe;
  }

  /** Close fan-out routers nobody receives on any more (the origin stays while the room lives). */
  private pruneIdleRouters(): void {
    for (const [index, entry] of this.routers) {
      if (entry === this.origin || this.growing) continue;
      if (entry.receivers <= 0) {
        entry.router.close();
        this.routers.delete(index);
      }
    }
  }
}
