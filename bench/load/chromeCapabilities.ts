/**
 * What Chrome offers, so the generator's peers cost the SFU what a browser costs it. Taken
 * from Debian's Chromium 156 (`createOffer` with a recvonly audio and a recvonly video
 * transceiver); test/integration/chromeCapabilities.test.ts captures a live offer and checks
 * these lists against it. Only the codecs relais's router has (Opus, VP8 + RTX) are kept.
 */
import type { Dictionary, RequestPayload } from '../../server/src/signalling/catalog.js';

export const EXT = {
  audioLevel: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  absSendTime: 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  transportCc: 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  mid: 'urn:ietf:params:rtp-hdrext:sdes:mid',
  rid: 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id',
  repairedRid: 'urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id',
} as const;

export interface RtcpFeedback {
  type: string;
  parameter?: string;
}

/** Chrome's audio m-section: header extensions, Opus's rtcp-fb and fmtp. */
export const CHROME_AUDIO = {
  headerExtensions: [EXT.audioLevel, EXT.absSendTime, EXT.transportCc, EXT.mid],
  opusFeedback: [{ type: 'transport-cc' }] as RtcpFeedback[],
  opusFmtp: { minptime: 10, useinbandfec: 1 } as Record<string, number>,
};

/** Chrome's video m-section: header extensions and VP8's rtcp-fb (RTX is offered too). */
export const CHROME_VIDEO = {
  headerExtensions: [
    'urn:ietf:params:rtp-hdrext:toffset',
    EXT.absSendTime,
    'urn:3gpp:video-orientation',
    EXT.transportCc,
    'http://www.webrtc.org/experiments/rtp-hdrext/playout-delay',
    'http://www.webrtc.org/experiments/rtp-hdrext/video-content-type',
    'http://www.webrtc.org/experiments/rtp-hdrext/video-timing',
    'http://www.webrtc.org/experiments/rtp-hdrext/color-space',
    EXT.mid,
    EXT.rid,
    EXT.repairedRid,
  ],
  vp8Feedback: [
    { type: 'goog-remb' },
    { type: 'transport-cc' },
    { type: 'ccm', parameter: 'fir' },
    { type: 'nack' },
    { type: 'nack', parameter: 'pli' },
  ] as RtcpFeedback[],
};

type RouterCodec = {
  kind: 'audio' | 'video';
  mimeType: string;
  preferredPayloadType?: number;
  clockRate: number;
  channels?: number;
  parameters?: Record<string, unknown>;
  rtcpFeedback?: RtcpFeedback[];
};
type RouterExtension = { kind: 'audio' | 'video'; uri: string; preferredId: number; direction?: string };

const sameFeedback = (a: RtcpFeedback, b: RtcpFeedback): boolean =>
  a.type === b.type && (a.parameter ?? '') === (b.parameter ?? '');

/**
 * The receive capabilities mediasoup-client would send from Chrome: the router's codecs that
 * Chrome has, each with the rtcp-fb both sides know, and the router's header extensions Chrome
 * offers for that kind. `kinds` limits them (an audio-only listener sends audio only).
 */
export function chromeRtpCapabilities(
  routerCaps: Dictionary,
  kinds: ('audio' | 'video')[] = ['audio', 'video'],
): RequestPayload<'join'>['rtpCapabilities'] {
  // The catalog carries the router's capabilities as a mediasoup dictionary.
  const codecs = (routerCaps.codecs ?? []) as RouterCodec[];
  const extensions = (routerCaps.headerExtensions ?? []) as RouterExtension[];
  const chromeFeedback = (c: RouterCodec): RtcpFeedback[] | undefined => {
    const mime = c.mimeType.toLowerCase();
    if (mime === 'audio/opus') return CHROME_AUDIO.opusFeedback;
    if (mime === 'video/vp8') return CHROME_VIDEO.vp8Feedback;
    if (mime === 'video/rtx') return [];
    return undefined;
  };
  const kept = codecs.flatMap((c) => {
    const feedback = chromeFeedback(c);
    if (!feedback || !kinds.includes(c.kind)) return [];
    const rtcpFeedback = (c.rtcpFeedback ?? []).filter((f) => feedback.some((g) => sameFeedback(f, g)));
    return [{ ...c, rtcpFeedback }];
  });
  if (!kept.some((c) => c.mimeType.toLowerCase() === 'audio/opus')) throw new Error('the router offers no Opus');
  const headerExtensions = extensions.filter(
    (e) =>
      kinds.includes(e.kind) &&
      (e.kind === 'audio' ? CHROME_AUDIO.headerExtensions : CHROME_VIDEO.headerExtensions).includes(e.uri as never),
  );
  return { codecs: kept, headerExtensions };
}

/** The lean capabilities the generator offered before issue 15: Opus, no extensions, no feedback. */
export function leanRtpCapabilities(routerCaps: Dictionary): RequestPayload<'join'>['rtpCapabilities'] {
  const codecs = (routerCaps.codecs ?? []) as RouterCodec[];
  const opus = codecs.find((c) => c.mimeType.toLowerCase() === 'audio/opus');
  if (!opus) throw new Error('the router offers no Opus');
  return { codecs: [{ ...opus, rtcpFeedback: [] }], headerExtensions: [] };
}

/** A one-line summary of capabilities for a result file: extension URIs and each codec's rtcp-fb. */
export function describeCapabilities(caps: RequestPayload<'join'>['rtpCapabilities']): {
  headerExtensions: string[];
  codecs: string[];
} {
  const c = caps as unknown as { codecs: RouterCodec[]; headerExtensions: RouterExtension[] };
  return {
    headerExtensions: c.headerExtensions.map((e) => `${e.kind}:${e.uri}`),
    codecs: c.codecs.map(
      (codec) =>
        `${codec.mimeType} [${(codec.rtcpFeedback ?? []).map((f) => `${f.type}${f.parameter ? ` ${f.parameter}` : ''}`).join(', ')}]`,
    ),
  };
}
