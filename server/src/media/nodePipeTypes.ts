import type { types } from 'mediasoup';
import type { UdpBufferSizes } from './udpBuffers.js';
import type { NodeRef, PipeAnswer, PipeEndpoint, PipeEvent, WatchAnswer } from '../http/internalProtocol.js';

/** Where and how this node's pipe transports listen (RELAIS_CLUSTER_ADDRESS, RELAIS_PIPE_PORT_MIN/MAX). */
export interface PipeListen {
  ip: string;
  portMin: number;
  portMax: number;
  /** Socket buffer sizes (RELAIS_UDP_BUFFER_BYTES); the kernel's default when absent. */
  buffers?: UdpBufferSizes;
}

/** Another node on which a room is open, as seen from this one: the internal calls it answers. */
export interface PeerLink {
  readonly nodeId: string;
  /** Lists the room's producers there and subscribes this opening (`instance`) of the room to their changes. */
  watch(roomId: string, instance: string): Promise<WatchAnswer>;
  pipe(roomId: string, producerId: string, transport: PipeEndpoint): Promise<PipeAnswer>;
  closePipe(roomId: string, producerId: string, transport: { ip: string; port: number }): Promise<void>;
  /** This opening (`instance`) of the room closed here. */
  unwatch(roomId: string, instance: string): Promise<void>;
}

/** How a node tells a node watching the room (its opening `instance` here) that a producer appeared, paused or closed. */
export type PipeNotifier = (node: NodeRef, roomId: string, instance: string, event: PipeEvent) => void;

export interface NodePipeOptions {
  listen: PipeListen;
  notify: PipeNotifier;
  /** The room (this opening of it) closed on this node: other nodes must stop counting it. */
  closed: (roomId: string, instance: string) => void;
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
    listenInfo: {
      protocol: 'udp',
      ip: listen.ip,
      portRange: { min: listen.portMin, max: listen.portMax },
      ...listen.buffers,
    },
    // The keys travel over the authenticated internal API; RTX lets video recover losses on the hop.
    enableSrtp: true,
    enableRtx: true,
  };
}
