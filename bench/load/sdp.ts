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

export interface SectionCodec {
  payloadType: number;
  /** e.g. opus/48000/2, VP8/90000, rtx/90000 */
  rtpmap: string;
  parameters?: Record<string, unknown>;
  rtcpFeedback?: { type: string; parameter?: string }[];
}

/** One m-section: what mediasoup's RTP parameters for a producer or consumer say. */
export interface MediaSection {
  kind: 'audio' | 'video';
  mid: string;
  codecs: SectionCodec[];
  headerExtensions?: { id: number; uri: string }[];
  /** Present when the remote side sends (a consumer): the SSRC it sends on, and its RTX SSRC. */
  ssrc?: number;
  rtxSsrc?: number;
  cname?: string;
}

/** The Opus section of the lean generator (before issue 15): one codec, nothing else. */
export function opusSection(options: {
  mid: string;
  payloadType: number;
  ssrc?: number;
  cname?: string;
  parameters?: Record<string, unknown>;
}): MediaSection {
  return {
    kind: 'audio',
    mid: options.mid,
    codecs: [
      {
        payloadType: options.payloadType,
        rtpmap: 'opus/48000/2',
        ...(options.parameters ? { parameters: options.parameters } : {}),
      },
    ],
    ...(options.ssrc !== undefined ? { ssrc: options.ssrc } : {}),
    ...(options.cname ? { cname: options.cname } : {}),
  };
}

/** The lines of one m-section, as mediasoup-client's RemoteSdp writes them for the browser. */
function sectionLines(transport: TransportInfo, section: MediaSection, kind: 'offer' | 'answer'): string[] {
  const udp = transport.iceCandidates.filter((c) => c.protocol === 'udp');
  const fmtp = (parameters: Record<string, unknown> | undefined): string =>
    Object.entries(parameters ?? {})
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(';');
  const cname = section.cname ?? 'relais';
  return [
    `m=${section.kind} 7 UDP/TLS/RTP/SAVPF ${section.codecs.map((c) => c.payloadType).join(' ')}`,
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
    ...(section.headerExtensions ?? []).map((e) => `a=extmap:${e.id} ${e.uri}`),
    ...section.codecs.flatMap((c) => [
      `a=rtpmap:${c.payloadType} ${c.rtpmap}`,
      ...(fmtp(c.parameters) ? [`a=fmtp:${c.payloadType} ${fmtp(c.parameters)}`] : []),
      ...(c.rtcpFeedback ?? []).map(
        (f) => `a=rtcp-fb:${c.payloadType} ${f.type}${f.parameter ? ` ${f.parameter}` : ''}`,
      ),
    ]),
    ...(section.ssrc !== undefined && section.rtxSsrc !== undefined
      ? [`a=ssrc-group:FID ${section.ssrc} ${section.rtxSsrc}`]
      : []),
    ...(section.ssrc !== undefined ? [`a=ssrc:${section.ssrc} cname:${cname}`] : []),
    ...(section.rtxSsrc !== undefined ? [`a=ssrc:${section.rtxSsrc} cname:${cname}`] : []),
  ];
}

/** SDP of mediasoup's side: an offer for a receive transport, an answer for a send transport. */
export function remoteSdp(
  options: TransportOptions,
  sections: MediaSection | MediaSection[],
  kind: 'offer' | 'answer',
): string {
  // The catalog carries these as mediasoup dictionaries; mediasoup-client reads the same fields.
  const transport = options as unknown as TransportInfo;
  const list = Array.isArray(sections) ? sections : [sections];
  const fingerprint =
    transport.dtlsParameters.fingerprints.find((f) => f.algorithm === 'sha-256') ??
    transport.dtlsParameters.fingerprints[0];
  if (!fingerprint) throw new Error('transport has no DTLS fingerprint');
  const lines = [
    'v=0',
    `o=mediasoup ${Date.now()} 1 IN IP4 0.0.0.0`,
    's=-',
    't=0 0',
    'a=ice-lite',
    `a=group:BUNDLE ${list.map((s) => s.mid).join(' ')}`,
    'a=msid-semantic: WMS *',
    `a=fingerprint:${fingerprint.algorithm} ${fingerprint.value}`,
    ...list.flatMap((section) => sectionLines(transport, section, kind)),
  ];
  return `${lines.join('\r\n')}\r\n`;
}

/** The sha-256 fingerprint of our DTLS certificate, from our local SDP. */
export function localFingerprint(sdp: string): string {
  const match = /a=fingerprint:sha-256 ([0-9A-Fa-f:]+)/.exec(sdp);
  if (!match?.[1]) throw new Error('local SDP has no sha-256 fingerprint');
  return match[1];
}
