import assert from 'node:assert/strict';
import type { types } from 'mediasoup';
import { CHROME_AUDIO, CHROME_VIDEO, chromeRtpCapabilities } from '../../bench/load/chromeCapabilities.js';
import { MEDIA_CODECS } from '../../server/src/media/mediaCodecs.js';
import { selectWorkerBinary } from '../../server/src/media/workerBinary.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';

/** One m-section of an SDP: its extension URIs, and per codec name its rtcp-fb and fmtp. */
function section(sdp: string, kind: 'audio' | 'video') {
  const part = sdp.split(/\r\n(?=m=)/).find((s) => s.startsWith(`m=${kind}`));
  if (!part) throw new Error(`no ${kind} section in the offer`);
  const lines = part.split('\r\n');
  const payloadTypes = new Map<string, string>();
  for (const l of lines) {
    const m = /^a=rtpmap:(\d+) ([^/]+)/.exec(l);
    if (m?.[1] && m[2] && !payloadTypes.has(m[2].toLowerCase())) payloadTypes.set(m[2].toLowerCase(), m[1]);
  }
  const of = (codec: string, attribute: 'rtcp-fb' | 'fmtp'): string[] => {
    const pt = payloadTypes.get(codec);
    return lines.flatMap((l) =>
      l.startsWith(`a=${attribute}:${pt} `) ? [l.slice(`a=${attribute}:${pt} `.length)] : [],
    );
  };
  return {
    extensions: lines.flatMap((l) => /^a=extmap:\d+ (\S+)/.exec(l)?.[1] ?? []),
    of,
    hasRtx: payloadTypes.has('rtx'),
  };
}

const feedbackLines = (list: { type: string; parameter?: string }[]): string[] =>
  list.map((f) => `${f.type}${f.parameter ? ` ${f.parameter}` : ''}`).sort();

/**
 * The load generator claims to offer what Chrome offers: this captures Debian's Chromium's
 * own offer (an audio and a video receiver, as mediasoup-client's device probe does) and
 * compares it with the generator's lists.
 */
describe('the load generator offers what Chromium offers', function () {
  this.timeout(90_000);
  let browser: TestBrowser;
  let offer: string;

  before(async () => {
    browser = await launchBrowser();
    const page = await browser.page();
    offer = await page.evaluate(async () => {
      const pc = new RTCPeerConnection();
      pc.addTransceiver('audio', { direction: 'recvonly' });
      pc.addTransceiver('video', { direction: 'recvonly' });
      const description = await pc.createOffer();
      pc.close();
      return description.sdp ?? '';
    });
  });

  after(async () => {
    await browser?.close();
  });

  it('has Chromium’s audio header extensions, Opus rtcp-fb and Opus fmtp', () => {
    const audio = section(offer, 'audio');
    assert.deepEqual([...CHROME_AUDIO.headerExtensions].sort(), [...audio.extensions].sort());
    assert.deepEqual(feedbackLines(CHROME_AUDIO.opusFeedback), audio.of('opus', 'rtcp-fb').sort());
    const fmtp = Object.fromEntries(
      (audio.of('opus', 'fmtp')[0] ?? '').split(';').map((kv) => {
        const [k, v] = kv.split('=');
        return [k ?? '', Number(v)];
      }),
    );
    assert.deepEqual(CHROME_AUDIO.opusFmtp, fmtp);
  });

  it('has Chromium’s video header extensions and VP8 rtcp-fb, with RTX', () => {
    const video = section(offer, 'video');
    assert.deepEqual([...CHROME_VIDEO.headerExtensions].sort(), [...video.extensions].sort());
    assert.deepEqual(feedbackLines(CHROME_VIDEO.vp8Feedback), video.of('vp8', 'rtcp-fb').sort());
    assert.ok(video.hasRtx, 'Chromium offers RTX');
  });

  it('sends a real router every capability both sides have, as mediasoup-client would', async () => {
    selectWorkerBinary(process.env.MEDIASOUP_WORKER_BIN);
    const mediasoup = await import('mediasoup');
    const worker = await mediasoup.createWorker({ logLevel: 'error' });
    try {
      const router = await worker.createRouter({ mediaCodecs: MEDIA_CODECS });
      const caps = chromeRtpCapabilities(router.rtpCapabilities as unknown as Record<string, unknown>, [
        'audio',
        'video',
      ]) as unknown as types.RtpCapabilities;
      const routerCaps = router.rtpCapabilities;
      for (const kind of ['audio', 'video'] as const) {
        const chrome = kind === 'audio' ? CHROME_AUDIO.headerExtensions : CHROME_VIDEO.headerExtensions;
        const expected = (routerCaps.headerExtensions ?? [])
          .filter((e) => e.kind === kind && chrome.includes(e.uri as never))
          .map((e) => e.uri)
          .sort();
        const sent = (caps.headerExtensions ?? [])
          .filter((e) => e.kind === kind)
          .map((e) => e.uri)
          .sort();
        assert.deepEqual(sent, expected, `${kind} extensions`);
        assert.ok(sent.length >= 3, `${kind}: at least mid, abs-send-time and one more`);
      }
      const vp8 = caps.codecs?.find((c) => c.mimeType === 'video/VP8');
      assert.deepEqual(
        feedbackLines(vp8?.rtcpFeedback ?? []),
        feedbackLines(CHROME_VIDEO.vp8Feedback),
        'mediasoup supports every VP8 rtcp-fb Chromium offers',
      );
      assert.ok(caps.codecs?.some((c) => c.mimeType === 'video/rtx'));
    } finally {
      worker.close();
    }
  });
});
