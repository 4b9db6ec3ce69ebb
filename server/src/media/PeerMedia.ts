import type { types } from 'mediasoup';
import type { MediaSource } from '../domain/roles.js';

export type Direction = 'send' | 'recv';
/** What each mediasoup object of a participant carries: typed, so nobody reads `appData` with a cast. */
export type TransportData = { direction: Direction; peerId: string };
export type ProducerData = { source: MediaSource; peerId: string };
export type PeerTransport = types.WebRtcTransport<TransportData>;
export type PeerProducer = types.Producer<ProducerData>;

/** The mediasoup objects one participant owns. Closing its transports closes the rest. */
export class PeerMedia {
  readonly transports = new Map<string, PeerTransport>();
  readonly producers = new Map<string, PeerProducer>();
  readonly consumers = new Map<string, types.Consumer>();
  /** Worker index of the router that carries this peer's receive transport. */
  recvWorker: number | undefined;
  /** Transport directions being created (a second concurrent request is refused). */
  readonly creating = new Set<Direction>();

  constructor(
    readonly peerId: string,
    readonly rtpCapabilities: types.RtpCapabilities,
  ) {}

  transport(transportId: string): PeerTransport | undefined {
    return this.transports.get(transportId);
  }

  transportFor(direction: Direction): PeerTransport | undefined {
    for (const transport of this.transports.values()) if (transport.appData.direction === direction) return transport;
    return undefined;
  }

  producerFor(source: MediaSource): PeerProducer | undefined {
    for (const producer of this.producers.values()) if (producer.appData.source === source) return producer;
    return undefined;
  }

  close(): void {
    for (const transport of this.transports.values()) transport.close();
    this.transports.clear();
    this.producers.clear();
    this.consumers.clear();
  }
}
