/**
 * Low bandwidth and audio first (issue 16): what a participant on a poor link receives from one
 * speaker who sends the fake camera (three simulcast layers) and microphone, measured on the
 * receive transport of a real ConferenceClient in Chromium. The figures are printed; only the
 * issue's target is asserted: < 50 kbit/s down for an audio-only / low-bandwidth participant.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'puppeteer-core';
import { writeToneWav } from '../support/browserAudio.js';
import { type ChromiumHarness, harness, launchChromium } from '../support/harness/chromiumHarness.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { eventually } from '../support/wait.js';

/** The target for an audio-only participant receiving one speaker. */
const TARGET_KBPS = 50;
/** Long enough to average over Opus DTX pauses and video key frames. */
const WINDOW_MS = 8_000;

interface Measure {
  transportKbps: number;
  audioKbps: number;
  videoKbps: number;
}

/** kbit/s received over a window: the whole receive transport, and the RTP payload per kind. */
async function measure(page: Page, name: string): Promise<Measure> {
  const before = await harness(page, 'receivedBytes', name);
  const start = Date.now();
  await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
  const after = await harness(page, 'receivedBytes', name);
  const seconds = (Date.now() - start) / 1000;
  const kbps = (bytes: number) => Math.round((bytes * 8) / seconds / 100) / 10;
  return {
    transportKbps: kbps(after.transport - before.transport),
    audioKbps: kbps(after.audio - before.audio),
    videoKbps: kbps(after.video - before.video),
  };
}

function print(mode: string, m: Measure): void {
  console.log(
    `      [bitrate] ${mode.padEnd(34)} down ${m.transportKbps} kbit/s (transport)` +
      ` · audio RTP ${m.audioKbps} · video RTP ${m.videoKbps}`,
  );
}

describe('low bandwidth and audio first: received bitrate (Chromium + mediasoup-client)', function () {
  this.timeout(300_000);
  let server: TestServer;
  let chromium: ChromiumHarness;
  let speaker: Page;
  const pages: Page[] = [];

  async function receiver(
    name: string,
    sub: string,
    role: 'speaker' | 'listener',
    receiveVideo: 'auto' | 'on-request',
    lowBandwidth: boolean,
  ): Promise<Page> {
    const page = await chromium.open(server.url);
    pages.push(page);
    await harness(
      page,
      'join',
      name,
      server.token({ room: 'weak', role, sub, name: sub }),
      receiveVideo,
      'all',
      lowBandwidth,
    );
    await eventually(
      `${name} to hear the speaker`,
      async () => (await harness(page, 'stats', name)).some((s) => s.kind === 'audio' && s.packetsReceived > 50),
      20_000,
    );
    return page;
  }

  before(async () => {
    server = await startTestServer({ RELAIS_WORKERS: '1' });
    chromium = await launchChromium();
    speaker = await chromium.open(server.url);
    await harness(speaker, 'join', 's', server.token({ room: 'weak', role: 'speaker', sub: 'sam', name: 'Sam' }));
    // 1280×720 so that Chromium sends all three simulcast layers (it drops layers for small frames).
    await harness(speaker, 'publish', 's', ['mic', 'camera'], { width: 1280, height: 720 });
  });

  after(async () => {
    for (const page of pages) await page.close().catch(() => undefined);
    await chromium?.close();
    await server?.stop();
  });

  it('sends the speaker’s microphone as Opus with in-band FEC and DTX, and the camera as three layers', () => {
    const room = server.server.signalling.room('weak');
    assert.ok(room, 'the room is live');
    const sent = room.media.producerList().filter((p) => p.peerId === 'sam');
    const mic = sent.find((p) => p.source === 'mic')?.producer;
    const camera = sent.find((p) => p.source === 'camera')?.producer;
    assert.ok(mic && camera, 'microphone and camera producers');
    const [opus] = mic.rtpParameters.codecs;
    assert.equal(opus?.mimeType.toLowerCase(), 'audio/opus');
    assert.equal(opus?.parameters?.useinbandfec, 1, 'in-band FEC');
    assert.equal(opus?.parameters?.usedtx, 1, 'DTX');
    assert.equal(camera.rtpParameters.encodings?.length, 3, 'three simulcast layers');
  });

  it('receives video in normal mode, and < 50 kbit/s in low-bandwidth mode and as a listener', async () => {
    const normal = await receiver('n', 'nora', 'speaker', 'auto', false);
    await eventually(
      'decoded video in normal mode',
      async () => (await harness(normal, 'stats', 'n')).some((s) => s.kind === 'video' && s.framesDecoded > 30),
      30_000,
    );
    const normalRate = await measure(normal, 'n');
    print('normal mode (video auto)', normalRate);
    await harness(normal, 'leave', 'n');

    const low = await receiver('l', 'leo', 'speaker', 'auto', true);
    assert.deepEqual(
      (await harness(low, 'remoteTracks', 'l')).map((t) => t.kind),
      ['audio'],
      'no video received in low-bandwidth mode',
    );
    const offered = await harness(low, 'availableVideo', 'l');
    assert.deepEqual(
      offered.map((v) => v.source),
      ['camera'],
      'the speaker’s video is still offered',
    );
    const lowRate = await measure(low, 'l');
    print('low-bandwidth mode (video off)', lowRate);

    const listener = await receiver('a', 'ada', 'listener', 'on-request', false);
    const listenerRate = await measure(listener, 'a');
    print('listener (audio-only by default)', listenerRate);

    // Asked for, the video comes at the lowest simulcast layer: printed, not asserted.
    const [video] = offered;
    assert.ok(video);
    await harness(low, 'watchVideo', 'l', video.producerId);
    await eventually(
      'decoded video once asked for',
      async () => (await harness(low, 'stats', 'l')).some((s) => s.kind === 'video' && s.framesDecoded > 30),
      30_000,
    );
    print('low-bandwidth, one video asked for', await measure(low, 'l'));

    assert.ok(normalRate.videoKbps > 0, 'normal mode receives video');
    assert.ok(normalRate.transportKbps > TARGET_KBPS, `normal mode receives more than ${TARGET_KBPS} kbit/s`);
    assert.ok(lowRate.transportKbps < TARGET_KBPS, `low-bandwidth: ${lowRate.transportKbps} kbit/s down`);
    assert.ok(listenerRate.transportKbps < TARGET_KBPS, `listener: ${listenerRate.transportKbps} kbit/s down`);
  });

  it('in low-bandwidth mode creates no camera producer, and turning it on in a meeting stops sending and receiving video', async () => {
    const page = await chromium.open(server.url);
    pages.push(page);
    await harness(page, 'join', 'm', server.token({ room: 'weak', role: 'speaker', sub: 'mia', name: 'Mia' }));
    await harness(page, 'publish', 'm', ['mic', 'camera']);
    await eventually('Mia receives the speaker’s video', async () =>
      (await harness(page, 'remoteTracks', 'm')).some((t) => t.kind === 'video'),
    );
    const room = server.server.signalling.room('weak');
    assert.ok(room);
    const miaSends = () =>
      room.media
        .producerList()
        .filter((p) => p.peerId === 'mia')
        .map((p) => p.source)
        .sort();
    assert.deepEqual(miaSends(), ['camera', 'mic']);

    await harness(page, 'setLowBandwidth', 'm', true);
    await eventually('Mia’s camera producer to be closed on the server', () => miaSends().length === 1);
    assert.deepEqual(miaSends(), ['mic']);
    assert.deepEqual(
      (await harness(page, 'remoteTracks', 'm')).map((t) => t.kind),
      ['audio'],
      'no video received any more',
    );
    await assert.rejects(harness(page, 'publish', 'm', ['camera']), /low bandwidth/);
    assert.deepEqual(miaSends(), ['mic'], 'still no camera producer');

    await harness(page, 'setLowBandwidth', 'm', false);
    await eventually('video received again after low bandwidth is turned off', async () =>
      (await harness(page, 'remoteTracks', 'm')).some((t) => t.kind === 'video'),
    );
    await harness(page, 'leave', 'm');
  });
  it('stays under 50 kbit/s in low-bandwidth mode when the speaker’s sound never pauses (no DTX gaps)', async () => {
    const tones = mkdtempSync(path.join(os.tmpdir(), 'relais-noise-'));
    // Chromium's fake microphone beeps once a second, silent in between (DTX sends almost nothing):
    // a tone under loud white noise is the worst case for Opus, continuous and incompressible.
    const loud = await launchChromium([
      `--use-file-for-fake-audio-capture=${writeToneWav(path.join(tones, 'noise.wav'), 440, 4, 48_000, 0.3)}`,
    ]);
    try {
      const talker = await loud.open(server.url);
      await harness(talker, 'join', 't', server.token({ room: 'loud', role: 'speaker', sub: 'tom', name: 'Tom' }));
      await harness(talker, 'publish', 't', ['mic', 'camera'], { width: 1280, height: 720 });
      const page = await chromium.open(server.url);
      pages.push(page);
      await harness(
        page,
        'join',
        'w',
        server.token({ room: 'loud', role: 'speaker', sub: 'wes' }),
        'auto',
        'all',
        true,
      );
      await eventually(
        'the continuous sound to be heard',
        async () => (await harness(page, 'stats', 'w')).some((s) => s.kind === 'audio' && s.packetsReceived > 100),
        20_000,
      );
      const rate = await measure(page, 'w');
      print('low-bandwidth, continuous loud sound', rate);
      assert.deepEqual(
        (await harness(page, 'remoteTracks', 'w')).map((t) => t.kind),
        ['audio'],
      );
      assert.ok(rate.transportKbps < TARGET_KBPS, `low-bandwidth, continuous sound: ${rate.transportKbps} kbit/s down`);
      await harness(page, 'leave', 'w');
      await harness(talker, 'leave', 't');
    } finally {
      await loud.close();
      rmSync(tones, { recursive: true, force: true });
    }
  });
});
