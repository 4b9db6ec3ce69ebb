import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import { conflict, forbidden, invalid, notFound } from '../domain/errors.js';
import type { MediaSource } from '../domain/roles.js';
import type { Logger } from '../observability/logger.js';
import type {
  Dictionary,
  ProducerInfo,
  RequestResults,
  TransportOptions,
  ValidPayload,
} from '../signalling/catalog.js';
import type { NodeRef, PipeAnswer, PipeEndpoint } from '../http/internalProtocol.js';
import { MEDIA_CODECS } from './mediaCodecs.js';
import { concerns, newOpeningId, onWatched, stopsFollowing } from './meshFollow.js';
import type { NodePipeOptions, PeerLink } from './nodePipeTypes.js';
import { type Direction, PeerMedia, type PeerProducer, type PeerTransport } from './PeerMedia.js';
import { PipeOrigin } from './PipeOrigin.js';
import { PipeReceiver } from './PipeReceiver.js';
import { placeReceiver } from './receiverPlacement.js';
import type { PooledWorker, WorkerPool } from './WorkerPool.js';

export interface RoomMediaOptions {
  /** A receive transport goes to a further worker's router once every router of the room carries this many consumers. */
  consumersPerRouter: number;
  /** Largest number of routers (workers) a room may spread over. */
  maxRouters: number;
  /** Shortest time between two keyframe requests relayed to a video sender, per stream (0: all relayed). */
  keyFrameRequestDelayMs: number;
  /** Node-to-node pipes (a cluster secret is configured); without them the room lives on this node only. */
  pipes?: NodePipeOptions;
}

/** What a receiver is told about a new consumer (plain data, straight to the wire). */
export type ConsumerDescription = RequestResults['consume'];
export interface LayersRequest {
  spatialLayer: number;
  temporalLayer?: number | undefined;
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
  producer: PeerProducer;
  peerId: string;
  source: MediaSource;
  /** Piped in from another node (same id there), through this receiver. */
  remote?: PipeReceiver;
}

/** What happened in the room's media, for the signalling layer to tell the right people. */
type Events = {
  /** A producer is gone (closed by its owner, taken back, or its owner left): tell everyone. */
  producerClosed: [producerId: string];
  /** A participant's consumer closed because its producer did. */
  consumerClosed: [peerId: string, consumerId: string];
  activeSpeaker: [peerId: string | null];
  /** A worker carrying the room died: its media is gone, participants must rejoin. */
  mediaLost: [];
  /** Another node on which the room is open has a new producer: offer it to everyone here. */
  remoteProducerAdded: [producer: ProducerInfo];
  /** A producer of another node was paused or resumed there. */
  remoteProducerPaused: [producerId: string, paused: boolean];
};

/**
 * The media plane of one room. Speakers' producers live on the origin router; receive
 * transports are spread over the room's routers (one per worker), and a producer is piped
 * once into each router where someone consumes it. Callers name what they want done and get
 * plain data back; mediasoup objects never leave this folder.
 */
export class RoomMedia extends EventEmitter<Events> {
  private readonly routers = new Map<number, RoomRouter>();
  private readonly peers = new Map<string, PeerMedia>();
  private readonly producerRecords = new Map<string, ProducerRecord>();
  private closed = false;
  /** A router being opened on a further worker: concurrent placements wait for it. */
  private growing: Promise<RoomRouter> | undefined;
  /** Receivers are being placed over the routers' threshold (every router full, no worker left): warned once per episode. */
  private overflowing = false;
  private speaker: string | null = null;
  /** This opening of the room: other nodes name it, so a late message about an earlier opening is ignored. */
  readonly instance = newOpeningId();
  /** The sending side of pipes to other nodes (when pipes are configured). */
  private readonly pipeOrigin: PipeOrigin | undefined;
  /** The receiving side: one per other node on which the room is open, by node id. */
  private readonly receivers = new Map<string, PipeReceiver>();
  /** Consumers (and consume requests in flight) per piped-in producer: at 0 the pipe closes. */
  private readonly remoteUse = new Map<string, number>();
  /** Piped-in producers closed because nobody here uses them: not a `producerClosed` for clients. */
  private readonly released = new Set<string>();

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
    if (options.pipes)
      this.pipeOrigin = new PipeOrigin(roomId, this.instance, origin.router, options.pipes, logger, (amount) =>
        pool.addLoad(origin.slot, amount),
      );
    observer.on('dominantspeaker', ({ producer }) => {
      const record = this.producerRecords.get(producer.id);
      if (record && record.peerId !== this.speaker) {
        this.speaker = record.peerId;
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

  /** What the room's routers can carry, for the client's device to load. */
  get rtpCapabilities(): Dictionary {
    return { ...this.origin.router.rtpCapabilities };
  }

  /** The participant the observer last named dominant speaker, for late joiners. */
  get activeSpeaker(): string | null {
    return this.speaker;
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
      producers: this.producerRecords.size,
      consumers,
      routers: this.routers.size,
    };
  }

  /** `rtpCapabilities` were checked for shape by the catalog; mediasoup checks their contents when used. */
  addPeer(peerId: string, rtpCapabilities: Dictionary): void {
    if (this.peers.has(peerId)) throw conflict('You have already joined the media session.');
    if (!this.origin.router.rtpCapabilities.codecs?.length) throw invalid('The router has no codecs.');
    this.peers.set(peerId, new PeerMedia(peerId, rtpCapabilities as unknown as types.RtpCapabilities));
  }

  /** Everything being sent in the room. */
  producers(): ProducerInfo[] {
    return [
      ...this.localProducers(),
      ...[...this.receivers.values()].flatMap((receiver) => receiver.offeredProducers()),
    ];
  }

  private localProducers(): ProducerInfo[] {
    return [...this.producerRecords.values()]
      .filter((record) => !record.remote)
      .map(({ producer, peerId, source }) => ({
        producerId: producer.id,
        participantId: peerId,
        kind: producer.kind,
        source,
        paused: producer.paused,
      }));
  }

  /** The mediasoup producers themselves, for benchmarks and tests measuring what the server holds. */
  producerList(): ProducerRecord[] {
    return [...this.producerRecords.values()];
  }

  async createTransport(peerId: string, direction: Direction): Promise<TransportOptions> {
    const peer = this.peer(peerId);
    if (peer.transportFor(direction) || peer.creating.has(direction))
      throw conflict(`You already have a ${direction} transport.`);
    peer.creating.add(direction);
    let target: RoomRouter | undefined;
    let transport: PeerTransport;
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
    return {
      id: transport.id,
      iceParameters: { ...transport.iceParameters },
      iceCandidates: transport.iceCandidates.map((candidate) => ({ ...candidate })),
      dtlsParameters: { ...transport.dtlsParameters },
    };
  }

  async connectTransport(peerId: string, transportId: string, dtlsParameters: Dictionary): Promise<void> {
    await this.transport(peerId, transportId).connect({
      dtlsParameters: dtlsParameters as unknown as types.DtlsParameters,
    });
  }

  async restartIce(peerId: string, transportId: string): Promise<Dictionary> {
    return { ...(await this.transport(peerId, transportId).restartIce()) };
  }

  async produce(peerId: string, request: ValidPayload<'produce'>): Promise<ProducerInfo> {
    const { transportId, kind, source } = request;
    const peer = this.peer(peerId);
    const transport = this.transport(peerId, transportId);
    if (transport.appData.direction !== 'send') throw invalid('Media can only be sent on a send transport.');
    if ((source === 'mic') !== (kind === 'audio')) throw invalid(`A ${source} source cannot carry ${kind}.`);
    if (peer.producerFor(source)) throw conflict(`You are already sending your ${source}.`);
    const producer = await transport.produce({
      kind,
      rtpParameters: request.rtpParameters as unknown as types.RtpParameters,
      // Requests from this node's routers and from other nodes' pipes all meet here, at the origin.
      ...(kind === 'video' ? { keyFrameRequestDelay: this.options.keyFrameRequestDelayMs } : {}),
      appData: { source, peerId },
    });
    peer.producers.set(producer.id, producer);
    this.producerRecords.set(producer.id, { producer, peerId, source });
    const slot = this.origin.slot;
    this.pool.addLoad(slot, 1);
    producer.observer.once('close', () => {
      peer.producers.delete(producer.id);
      this.producerRecords.delete(producer.id);
      this.pool.addLoad(slot, -1);
      for (const entry of this.routers.values()) entry.pipes.delete(producer.id);
      if (!this.closed) {
        this.pipeOrigin?.producerClosed(producer.id);
        this.emit('producerClosed', producer.id);
      }
    });
    // Whoever pauses it (its owner, a moderator's mute), nodes receiving the room are told.
    producer.observer.on('pause', () => this.pipeOrigin?.producerPaused(producer.id, true));
    producer.observer.on('resume', () => this.pipeOrigin?.producerPaused(producer.id, false));
    if (kind === 'audio') await this.observer.addProducer({ producerId: producer.id }).catch(() => undefined);
    const info: ProducerInfo = {
      producerId: producer.id,
      participantId: peerId,
      kind,
      source,
      paused: producer.paused,
    };
    this.pipeOrigin?.producerAdded(info);
    return info;
  }

  async setProducerPaused(peerId: string, producerId: string, paused: boolean): Promise<void> {
    const producer = this.ownProducer(peerId, producerId);
    if (paused) await producer.pause();
    else await producer.resume();
  }

  /** Pauses the participant's microphone; returns its producer id if it was sending, else undefined. */
  async muteMicrophone(peerId: string): Promise<string | undefined> {
    const mic = this.peers.get(peerId)?.producerFor('mic');
    if (!mic || mic.paused) return undefined;
    await mic.pause();
    return mic.id;
  }

  closeProducer(peerId: string, producerId: string): void {
    this.ownProducer(peerId, producerId).close();
  }

  /** Closes what the participant sends and may no longer send; returns the closed producers' ids. */
  closeProducersNotAllowed(peerId: string, allowed: (source: MediaSource) => boolean): string[] {
    const closed: string[] = [];
    for (const producer of [...(this.peers.get(peerId)?.producers.values() ?? [])]) {
      if (allowed(producer.appData.source)) continue;
      producer.close();
      closed.push(producer.id);
    }
    return closed;
  }

  async consume(peerId: string, producerId: string): Promise<ConsumerDescription> {
    if (!this.offeredBy(producerId)) return this.consumeNow(peerId, producerId);
    // A producer of another node: counted while in use here, so its pipe closes when unused.
    this.useRemote(producerId, 1);
    try {
      return await this.consumeNow(peerId, producerId);
    } finally {
      this.useRemote(producerId, -1);
    }
  }

  private async consumeNow(peerId: string, producerId: string): Promise<ConsumerDescription> {
    const peer = this.peer(peerId);
    const offeredBy = this.producerRecords.has(producerId) ? undefined : this.offeredBy(producerId);
    const record =
      this.producerRecords.get(producerId) ?? (offeredBy ? await this.pipeIn(offeredBy, producerId) : undefined);
    if (!record) throw notFound(`No producer ${producerId} in this room.`);
    if (record.peerId === peerId) throw invalid('You cannot consume your own media.');
    const recv = peer.transportFor('recv');
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
    this.pool.addLoad(entry.slot, 1);
    if (record.remote) this.useRemote(producerId, 1);
    consumer.observer.once('close', () => {
      peer.consumers.delete(consumer.id);
      entry.consumers -= 1;
      this.pool.addLoad(entry.slot, -1);
      if (record.remote) this.useRemote(producerId, -1);
    });
    consumer.on('producerclose', () => {
      consumer.close();
      this.emit('consumerClosed', peerId, consumer.id);
    });
    return {
      consumerId: consumer.id,
      producerId,
      participantId: record.peerId,
      kind: consumer.kind,
      source: record.source,
      rtpParameters: { ...consumer.rtpParameters },
      producerPaused: consumer.producerPaused,
    };
  }

  async resumeConsumer(peerId: string, consumerId: string): Promise<void> {
    await this.ownConsumer(peerId, consumerId).resume();
  }

  closeConsumer(peerId: string, consumerId: string): void {
    this.ownConsumer(peerId, consumerId).close();
  }

  /** Which simulcast/SVC layers the participant wants to receive of this consumer. */
  async setConsumerLayers(peerId: string, consumerId: string, layers: LayersRequest): Promise<void> {
    const consumer = this.ownConsumer(peerId, consumerId);
    if (consumer.type !== 'simulcast' && consumer.type !== 'svc')
      throw invalid('This media has no layers to choose from.');
    await consumer.setPreferredLayers({
      spatialLayer: layers.spatialLayer,
      ...(layers.temporalLayer !== undefined ? { temporalLayer: layers.temporalLayer } : {}),
    });
  }

  /** A participant's consumer, for this class and for tests inspecting what the server holds. */
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
    if (this.speaker === peerId) {
      this.speaker = null;
      this.emit('activeSpeaker', null);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const peer of this.peers.values()) peer.close();
    this.peers.clear();
    this.pipeOrigin?.close();
    for (const receiver of this.receivers.values()) receiver.close(true);
    this.receivers.clear();
    for (const entry of this.routers.values()) entry.router.close();
    this.routers.clear();
    this.pool.off('workerDied', this.onWorkerDied);
    this.removeAllListeners();
    this.options.pipes?.closed(this.roomId, this.instance);
  }

  /**
   * Receives the room from another node on which it is open: lists its producers (offered to
   * participants here like local ones) and subscribes to their changes. Idempotent: one
   * receiver per node, however many times it is asked.
   */
  async followNode(link: PeerLink): Promise<void> {
    const listen = this.options.pipes?.listen;
    if (!listen) throw new Error('node pipes are not configured (RELAIS_CLUSTER_SECRET)');
    if (this.closed) return;
    const existing = this.receivers.get(link.nodeId);
    if (existing) {
      await existing.started;
      return;
    }
    const receiver = new PipeReceiver(this.roomId, this.instance, this.origin.router, listen, link, this.logger);
    this.receivers.set(link.nodeId, receiver);
    let added: ProducerInfo[];
    try {
      added = await receiver.started;
    } catch (error) {
      // Forgotten, so that the node's own watch (when it can be reached) makes this one follow it again.
      this.dropReceiver(receiver, false);
      throw error;
    }
    if (this.closed || this.receivers.get(link.nodeId) !== receiver) return;
    for (const producer of added) this.emit('remoteProducerAdded', producer);
    this.logger.info({ node: link.nodeId, producers: added.length }, 'room follows another node');
  }

  /**
   * The room's opening `instance` on the link's node watches this one: follow it too, unless
   * this room already follows that very opening (a receiver made before it opened, or of an
   * earlier opening, is replaced). So two nodes opening at once, or one after the other, end up
   * with exactly one receiver each way.
   */
  async followBack(link: PeerLink, instance: string): Promise<void> {
    for (;;) {
      if (this.closed) return;
      const current = this.receivers.get(link.nodeId);
      const step = onWatched(current, instance);
      if (step === 'keep') return;
      if (step === 'follow' || !current) return this.followNode(link);
      // What the receiver follows is known once the node answers.
      if (step === 'wait') await current.started.catch(() => undefined);
      else this.dropReceiver(current, false);
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The other nodes this room receives from, and the opening of the room there each receiver follows. */
  followedNodes(): { node: string; instance: string | undefined }[] {
    return [...this.receivers.values()].map((receiver) => ({ node: receiver.nodeId, instance: receiver.theirs }));
  }

  /** The other nodes that receive this room from here, and their opening of it. */
  watchingNodes(): { node: string; instance: string }[] {
    return this.pipeOrigin?.watching() ?? [];
  }

  /** Another node announced a producer. */
  remoteProducerAdded(nodeId: string, instance: string, producer: ProducerInfo): void {
    const receiver = this.receiverFor(nodeId, instance);
    if (receiver?.offer(producer)) this.emit('remoteProducerAdded', producer);
  }

  /** Another node paused or resumed a producer: the piped one follows, everyone here is told. */
  async remoteProducerPaused(nodeId: string, instance: string, producerId: string, paused: boolean): Promise<void> {
    const receiver = this.receiverFor(nodeId, instance);
    if (!receiver?.setPaused(producerId, paused)) return;
    const record = this.producerRecords.get(producerId);
    if (record?.remote) {
      if (paused) await record.producer.pause();
      else await record.producer.resume();
    }
    this.emit('remoteProducerPaused', producerId, paused);
  }

  /** Another node closed a producer: close its pipe here; everyone here is told. */
  remoteProducerClosed(nodeId: string, instance: string, producerId: string): void {
    const receiver = this.receiverFor(nodeId, instance);
    if (!receiver) return;
    const offered = receiver.offers(producerId);
    const piped = receiver.withdraw(producerId);
    if (!offered) return;
    const record = this.producerRecords.get(producerId);
    if (record?.remote) record.producer.close();
    else {
      // Not piped (or still being piped: close it once it arrives).
      void piped?.then((producer) => producer.close()).catch(() => undefined);
      this.emit('producerClosed', producerId);
    }
  }

  /** The receiver following the node's opening `instance`, if this room follows it. */
  private receiverFor(nodeId: string, instance: string): PipeReceiver | undefined {
    if (this.closed) return undefined;
    const receiver = this.receivers.get(nodeId);
    return receiver && concerns(receiver, instance) ? receiver : undefined;
  }

  /** The receiver whose node offers the producer. */
  private offeredBy(producerId: string): PipeReceiver | undefined {
    for (const receiver of this.receivers.values()) if (receiver.offers(producerId)) return receiver;
    return undefined;
  }

  /**
   * Stops following a node: its producers are gone for everyone here. Those piped close with the
   * receiver's transport (each says `producerClosed` as it closes); the others are said here.
   */
  private dropReceiver(receiver: PipeReceiver, tellPeer: boolean): void {
    if (this.receivers.get(receiver.nodeId) === receiver) this.receivers.delete(receiver.nodeId);
    const unpiped = receiver
      .offeredProducers()
      .filter((producer) => this.producerRecords.get(producer.producerId)?.remote !== receiver);
    receiver.close(tellPeer);
    if (this.closed) return;
    for (const producer of unpiped) this.emit('producerClosed', producer.producerId);
    this.logger.info({ node: receiver.nodeId }, 'room no longer follows a node');
  }

  /**
   * The room's opening `instance` on another node watches this room: its local producers, and
   * their changes from now on; undefined when a newer opening there already watches.
   */
  watchedBy(node: NodeRef, instance: string): ProducerInfo[] | undefined {
    if (this.pipeOrigin && !this.pipeOrigin.watch(node, instance)) return undefined;
    return this.localProducers();
  }

  /** Another node asks for one of this room's local producers over a pipe. */
  pipeTo(node: NodeRef, producerId: string, remote: PipeEndpoint): Promise<PipeAnswer> {
    const record = this.producerRecords.get(producerId);
    if (!this.pipeOrigin) throw conflict('Node pipes are not configured on this node.');
    if (!record || record.remote) throw notFound(`No producer ${producerId} in this room.`);
    const info = this.localProducers().find((p) => p.producerId === producerId);
    if (!info) throw notFound(`No producer ${producerId} in this room.`);
    return this.pipeOrigin.pipe(node, remote, record.producer, info);
  }

  closePipeTo(nodeId: string, producerId: string, remote: { ip: string; port: number }): void {
    this.pipeOrigin?.closePipe(nodeId, producerId, remote);
  }

  /**
   * The room's opening `instance` closed on another node: close its pipes from here, and stop
   * following it (unless this room follows a newer opening there).
   */
  unwatchedBy(nodeId: string, instance: string): void {
    this.pipeOrigin?.unwatch(nodeId, instance);
    const receiver = this.receivers.get(nodeId);
    if (receiver && stopsFollowing(receiver, instance)) this.dropReceiver(receiver, false);
  }

  /**
   * The node died (its registry entry expired): it will say nothing more. Its pipes from here
   * close, and its producers are gone for everyone here (a speaker there rejoins elsewhere).
   */
  nodeGone(nodeId: string): void {
    this.pipeOrigin?.forget(nodeId);
    const receiver = this.receivers.get(nodeId);
    if (receiver) this.dropReceiver(receiver, false);
  }

  /** Node-to-node pipes of this room: `out` to other nodes, `in` from them (summed over nodes). */
  pipeCounts(): { out: { transports: number; consumers: number }; in: { transports: number; producers: number } } {
    const incoming = { transports: 0, producers: 0 };
    for (const receiver of this.receivers.values()) {
      const c = receiver.counts();
      incoming.transports += c.transports;
      incoming.producers += c.producers;
    }
    return { out: this.pipeOrigin?.counts() ?? { transports: 0, consumers: 0 }, in: incoming };
  }

  private async pipeIn(receiver: PipeReceiver, producerId: string): Promise<ProducerRecord> {
    const producer = await receiver.pipeIn(producerId);
    const existing = this.producerRecords.get(producerId);
    if (existing) return existing;
    if (producer.closed || this.closed) throw notFound(`No producer ${producerId} in this room.`);
    const record: ProducerRecord = {
      producer,
      peerId: producer.appData.peerId,
      source: producer.appData.source,
      remote: receiver,
    };
    this.producerRecords.set(producerId, record);
    producer.observer.once('close', () => {
      if (this.producerRecords.get(producerId) === record) this.producerRecords.delete(producerId);
      for (const entry of this.routers.values()) entry.pipes.delete(producerId);
      const released = this.released.delete(producerId);
      receiver.pipeClosed(producerId);
      if (!released && !this.closed) {
        receiver.withdraw(producerId);
        this.emit('producerClosed', producerId);
      }
    });
    if (producer.kind === 'audio') await this.observer.addProducer({ producerId }).catch(() => undefined);
    return record;
  }

  /** Counts a use of a piped-in producer; when none is left, closes its pipe. */
  private useRemote(producerId: string, delta: number): void {
    const uses = (this.remoteUse.get(producerId) ?? 0) + delta;
    if (uses > 0) {
      this.remoteUse.set(producerId, uses);
      return;
    }
    this.remoteUse.delete(producerId);
    const record = this.producerRecords.get(producerId);
    if (!record?.remote || this.closed) return;
    this.released.add(producerId);
    record.remote.release(producerId, record.producer);
  }

  private peer(peerId: string): PeerMedia {
    const peer = this.peers.get(peerId);
    if (!peer) throw conflict('Join the room before using media.');
    return peer;
  }

  private transport(peerId: string, transportId: string): PeerTransport {
    const transport = this.peer(peerId).transport(transportId);
    if (!transport) throw notFound(`You have no transport ${transportId}.`);
    return transport;
  }

  private ownProducer(peerId: string, producerId: string): PeerProducer {
    const producer = this.peer(peerId).producers.get(producerId);
    if (!producer) throw notFound(`You have no producer ${producerId}.`);
    return producer;
  }

  /**
   * Reserves a place for a receive transport where `placeReceiver` says. Openings are
   * serialised: during a ramp many listeners arrive at once, and two concurrent openings would
   * put two routers on the same worker. The reservation is made in the same synchronous step
   * as the choice, so concurrent arrivals see each other.
   */
  private async placeReceiver(): Promise<RoomRouter> {
    while (this.growing) await this.growing.catch(() => undefined);
    const usable = [...this.routers.values()].filter((entry) => !entry.router.closed);
    const placement = placeReceiver({
      routers: usable.map((entry) => ({
        worker: entry.slot.index,
        consumers: entry.consumers,
        receivers: entry.receivers,
        origin: entry === this.origin,
      })),
      consumersPerRouter: this.options.consumersPerRouter,
      maxRouters: this.options.maxRouters,
      workers: this.pool.all().map((slot) => ({ index: slot.index, load: slot.load })),
    });
    let chosen: RoomRouter | undefined;
    const overflow = placement.kind === 'use' && placement.overflow;
    // Once per episode, not once per receiver: a 600-listener briefing would log hundreds of lines.
    if (overflow && !this.overflowing)
      this.logger.warn(
        { worker: placement.worker, routers: usable.length, consumersPerRouter: this.options.consumersPerRouter },
        'every router of the room is full; placing receivers over the threshold until one has room',
      );
    this.overflowing = overflow;
    if (placement.kind === 'use') {
      chosen = this.routers.get(placement.worker);
    } else if (placement.kind === 'open') {
      const slot = this.pool.at(placement.worker);
      if (slot) {
        this.growing = this.openRouter(slot);
        try {
          chosen = await this.growing;
        } finally {
          this.growing = undefined;
        }
      }
    }
    if (!chosen) throw conflict('This room has lost its media server; rejoin.');
    chosen.receivers += 1;
    return chosen;
  }

  private async openRouter(slot: PooledWorker): Promise<RoomRouter> {
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
        // Inside one node, over loopback; the fan-out's one stream, so the same buffers as the workers' sockets.
        .pipeToRouter({
          producerId,
          router: entry.router,
          listenInfo: { protocol: 'udp', ip: '127.0.0.1', ...this.pool.udpBuffers },
        })
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
