import type { types } from 'mediasoup';
import type { PipeAnswer, PipeEndpoint, PipeEvent } from '../http/internalProtocol.js';
import type { ProducerInfo } from '../signalling/catalog.js';

/** Where and how this node's pipe transports listen (RELAIS_CLUSTER_ADDRESS, RELAIS_PIPE_PORT_MIN/MAX). */
export interface PipeListen {
  ip: string;
  portMin: number;
  portMax: number;
}

/** The room's origin node, as seen from a receiving node: the internal calls it answers. */
export interface OriginLink {
  readonly nodeId: string;
  /** Lists the room's producers and subscribes this node to their changes. */
  watch(roomId: string): Promise<ProducerInfo[]>;
  pipe(roomId: string, producerId: string, transport: PipeEndpoint): Promise<PipeAnswer>;
  closePipe(roomId: string, producerId: string, transport: { ip: string; port: number }): Promise<void>;
  unwatch(roomId: string): Promise<void>;
}

/** How an origin tells the nodes receiving the room that a producer appeared or closed. */
export type PipeNotifier = (roomId: string, event: PipeEvent) => void;

export interface NodePipeOptions {
  listen: PipeListen;
  notify: PipeNotifier;
}

/** A pipe transport's own end, to send to the other node. */
export function endpointOf(transport: types.PipeTransport): PipeEndpoint {
  const { localAddress, localPort } = transport.tuple;
  const srtp = transport.srtpParameters;
  if (!srtp) throw new Error('a node pipe transport must have SRTP');
  return { ip: localAddress, port: localPort, srtpParameters: { ...srtp } };
}

/** Options of every node-to-node pipe transport. */
export function pipeTransportOptions(listen: PipeListen): types.PipeTransportOptions {
  return {
    listenInfo: { protocol: 'udp', ip: listen.ip, portRange: { min: listen.portMin, max: listen.portMax } },
    // The keys travel over the authenticated internal API; RTX lets video recover losses on the hop.
    enableSrtp: true,
    enableRtx: true,
  };
}
