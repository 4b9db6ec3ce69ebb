import { generateProbatorRtpParameters } from 'mediasoup-client/ortc';
import type { RtpParameters } from 'mediasoup-client/types';
import type { MediaSection } from './sdp.js';

/** The part of a consumer's mediasoup RTP parameters the generator reads. */
export interface ConsumerRtpParameters {
  mid?: string;
  codecs: {
    mimeType: string;
    payloadType: number;
    clockRate: number;
    channels?: number;
    parameters?: Record<string, unknown>;
    rtcpFeedback?: { type: string; parameter?: string }[];
  }[];
  headerExtensions?: { uri: string; id: number }[];
  encodings: { ssrc: number; rtx?: { ssrc: number } }[];
  rtcp?: { cname?: string };
}

/** The m-section mediasoup-client would write for this consumer: its codecs, extensions and SSRCs. */
export function consumerSection(kind: 'audio' | 'video', p: ConsumerRtpParameters): MediaSection {
  const encoding = p.encodings[0];
  if (!encoding || p.codecs.length === 0) throw new Error('consumer without codec or SSRC');
  return {
    kind,
    mid: p.mid ?? '0',
    codecs: p.codecs.map((c) => ({
      payloadType: c.payloadType,
      rtpmap: `${c.mimeType.split('/')[1]}/${c.clockRate}${c.channels && c.channels > 1 ? `/${c.channels}` : ''}`,
      ...(c.parameters && Object.keys(c.parameters).length > 0 ? { parameters: c.parameters } : {}),
      ...(c.rtcpFeedback ? { rtcpFeedback: c.rtcpFeedback } : {}),
    })),
    headerExtensions: p.headerExtensions ?? [],
    ssrc: encoding.ssrc,
    ...(encoding.rtx ? { rtxSsrc: encoding.rtx.ssrc } : {}),
    ...(p.rtcp?.cname ? { cname: p.rtcp.cname } : {}),
  };
}

/** The id a consumer negotiated for header extension `uri`, if any. */
export function extensionId(p: { headerExtensions?: { uri: string; id: number }[] }, uri: string): number | undefined {
  return p.headerExtensions?.find((e) => e.uri === uri)?.id;
}

/**
 * mediasoup's bandwidth probes: RTP padding on SSRC 1234, which mediasoup-client (and so every
 * browser on relais) receives on an extra m-section, mid "probator", added once, after the first
 * video consumer; mediasoup-client's own function writes its parameters. Without that section the
 * peer drops the probes before reading their transport-wide sequence numbers, and mediasoup's
 * estimator counts every probe as a lost packet.
 */
export function addProbatorAfterFirstVideo(
  sections: MediaSection[],
  kind: 'audio' | 'video',
  consumer: ConsumerRtpParameters,
): void {
  if (kind !== 'video' || sections.some((s) => s.mid === 'probator')) return;
  const probator = generateProbatorRtpParameters(consumer as unknown as RtpParameters);
  sections.push(consumerSection('video', probator as unknown as ConsumerRtpParameters));
}
