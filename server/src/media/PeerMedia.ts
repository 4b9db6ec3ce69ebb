import type { types } from 'mediasoup';
import type { MediaSource } from '../domain/roles.js';

/** The mediasoup objects one participant owns. Closing its transports closes the rest. */
export class PeerMedia {
  readonly transports = new Map<string, types.WebRtcTransport>();
  readonly producers = new Map<string, types.Producer>();
  readonly consumers = new Map<string, types.Consumer>();
  /** Worker index of the router that carries this peer's receive transport. */
  recvWorker: number | undefined;
  /** Transport directions being created (a second concurrent request is refused). */
  readonly creating = new Set<'send' | 'recv'>();

  constructor(
    readonly peerId: string,
    readonly rtpCapabilities: types.RtpCapabilities,
  ) {}

  transport(transportId: string): types.WebRtcTransport | undefined {
    return this.transports.get(transportId);
  }

  producerFor(source: MediaSource): types.Producer | undefined {
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
