/**
 * The remote half of an SDP exchange, written from what relais returns for a transport
 * (ICE-lite, DTLS role auto) and a consumer/producer. libdatachannel speaks SDP only, and
 * mediasoup none: this is the bridge, as mediasoup-client's RemoteSdp is in a browser.
 */

export interface IceCandidateInfo {
  foundation: string;
  priority: number;
  ip?: string;
  address?: string;
  port: number;
  protocol: 'udp' | 'tcp';
}

import type { TransportOptions } from '../../server/src/signalling/catalog.js';

/** The part of a transport's mediasoup ICE and DTLS parameters the SDP needs. */
interface TransportInfo {
  iceParameters: { usernameFragment: string; password: string };
  iceCandidates: IceCandidateInfo[];
  dtlsParameters: { fingerprints: { algorithm: string; value: string }[] };
}

export interface OpusSection {
  mid: string;
  payloadType: number;
  /** Present when the remote side sends (a consumer): the SSRC it sends on. */
  ssrc?: number;
  cname?: string;
  parameters?: Record<string, unknown>;
}

/** SDP of mediasoup's side: an offer for a receive transport, an answer for a send transport. */
export function remoteSdp(options: TransportOptions, section: OpusSection, kind: 'offer' | 'answer'): string {
  // The catalog carries these as mediasoup dictionaries; mediasoup-client reads the same fields.
  const transport = options as unknown as TransportInfo;
  const fingerprint =
    transport.dtlsParameters.fingerprints.find((f) => f.algorithm === 'sha-256') ??
    transport.dtlsParameters.fingerprints[0];
  if (!fingerprint) throw new Error('transport has no DTLS fingerprint');
  const udp = transport.iceCandidates.filter((c) => c.protocol === 'udp');
  const fmtp = Object.entries(section.parameters ?? {})
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(';');
  const lines = [
    'v=0',
    `o=mediasoup ${Date.now()} 1 IN IP4 0.0.0.0`,
    's=-',
    't=0 0',
    'a=ice-lite',
    `a=group:BUNDLE ${section.mid}`,
    'a=msid-semantic: WMS *',
    `a=fingerprint:${fingerprint.algorithm} ${fingerprint.value}`,
    `m=audio 7 UDP/TLS/RTP/SAVPF ${section.payloadType}`,
    'c=IN IP4 127.0.0.1',
    `a=mid:${section.mid}`,
    kind === 'offer' ? 'a=sendonly' : 'a=recvonly',
    `a=ice-ufrag:${transport.iceParameters.usernameFragment}`,
    `a=ice-pwd:${transport.iceParameters.password}`,
    ...udp.map((c) => `a=candidate:${c.foundation} 1 udp ${c.priority} ${c.address ?? c.ip} ${c.port} typ host`),
    'a=end-of-candidates',
    // An offer lets the answerer (us) take the DTLS client role; in an answer, the server is passive.
    kind === 'offer' ? 'a=setup:actpass' : 'a=setup:passive',
    'a=rtcp-mux',
    'a=rtcp-rsize',
    `a=rtpmap:${section.payloadType} opus/48000/2`,
    ...(fmtp ? [`a=fmtp:${section.payloadType} ${fmtp}`] : []),
    ...(section.ssrc !== undefined ? [`a=ssrc:${section.ssrc} cname:${section.cname ?? 'relais'}`] : []),
  ];
  return `${lines.join('\r\n')}\r\n`;
}

/** The sha-256 fingerprint of our DTLS certificate, from our local SDP. */
export function localFingerprint(sdp: string): string {
  const match = /a=fingerprint:sha-256 ([0-9A-Fa-f:]+)/.exec(sdp);
  if (!match?.[1]) throw new Error('local SDP has no sha-256 fingerprint');
  return match[1];
}
