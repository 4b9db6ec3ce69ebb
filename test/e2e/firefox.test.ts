/**
 * Firefox ESR, the browser of many French administrations, as a second engine: a Firefox
 * member and a Chromium member share a meeting (each decodes the other's video and receives
 * the other's audio, Firefox sending its camera as three simulcast layers), and a Firefox
 * listener follows a briefing. Firefox does not pair ICE over loopback, so relais is served
 * over HTTPS (a certificate made here) on an address of a veth pair the test creates.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import type { Page } from 'puppeteer-core';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { hear, isTone, writeToneWav } from '../support/browserAudio.js';
import { launchFirefox } from '../support/browserFirefox.js';
import {
  audioPacketsReceived,
  framesDecoded,
  joinMeeting,
  press,
  screenshot,
  sendsMedia,
  tileSelector,
  videoPixels,
  waitConnected,
} from '../support/browserMeeting.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { createVethNamespace, type VethNamespace } from '../support/vethNamespace.js';
import { eventually } from '../support/wait.js';
import { makeTestCertificate } from '../support/testCertificate.js';

/** A self-signed certificate for `address`, and the base64 SHA-256 of its public key (Chromium pins it). */
/**
 * The dominant frequency (Hz) of ~1.5 s of the audio the page plays for `participantId`'s
 * microphone, or null when nothing is played. Headless Firefox has no audio output, so its
 * AudioContext never runs (not even after a click): the track is recorded with MediaRecorder,
 * decoded by an OfflineAudioContext (which needs no device) and its spectrum scanned.
 */
function recordedTone(page: Page, participantId: string): Promise<{ peakHz: number; level: number } | null> {
  return page.evaluate(async (id: string) => {
    const sink = document.querySelector<HTMLAudioElement>(`audio[data-participant-id="${id}"][data-source="mic"]`);
    const track = (sink?.srcObject as MediaStream | null)?.getAudioTracks()[0];
    if (!track) return null;
    const recorder = new MediaRecorder(new MediaStream([track]));
    const chunks: Blob[] = [];
    recorder.ondataavailable = (event) => chunks.push(event.data);
    const stopped = new Promise((resolve) => {
      recorder.onstop = resolve;
    });
    recorder.start();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    recorder.stop();
    await stopped;
    const decoded = await new OfflineAudioContext(1, 48_000, 48_000).decodeAudioData(
      await new Blob(chunks).arrayBuffer(),
    );
    // The last second (the encoder's start is cut off), scanned 100-2000 Hz in 10 Hz steps.
    const all = decoded.getChannelData(0);
    const samples = all.subarray(Math.max(0, all.length - decoded.sampleRate));
    let peakHz = 0;
    let level = 0;
    for (let f = 100; f <= 2000; f += 10) {
      let re = 0;
      let im = 0;
      for (let i = 0; i < samples.length; i++) {
        const phase = (2 * Math.PI * f * i) / decoded.sampleRate;
        re += (samples[i] ?? 0) * Math.cos(phase);
        im += (samples[i] ?? 0) * Math.sin(phase);
      }
      const amplitude = (2 * Math.hypot(re, im)) / samples.length;
      if (amplitude > level) {
        level = amplitude;
        peakHz = f;
      }
    }
    return { peakHz, level };
  }, participantId);
}

describe('e2e: Firefox ESR with Chromium', function () {
  // Two browser engines and a worker on a shared machine: generous, as waits are.
  this.timeout(300_000);
  let dir: string;
  let network: VethNamespace | undefined;
  let server: TestServer | undefined;
  let chromium: TestBrowser | undefined;
  let firefox: TestBrowser | undefined;
  const pages: Page[] = [];
  /** Every producer the server's workers create, seen from the worker itself. */
  const producers: types.Producer[] = [];
  const watchWorkers = (worker: types.Worker) =>
    worker.observer.on('newrouter', (router) =>
      router.observer.on('newtransport', (transport) =>
        transport.observer.on('newproducer', (producer) => producers.push(producer)),
      ),
    );

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'relais-firefox-tls-'));
    network = createVethNamespace(process.pid % 12_500);
    const certificate = makeTestCertificate(dir, network.address);
    mediasoup.observer.on('newworker', watchWorkers);
    server = await startTestServer({
      RELAIS_WORKERS: '1',
      RELAIS_LOG_LEVEL: 'warn',
      RELAIS_HTTP_HOST: network.address,
      RELAIS_RTC_LISTEN_IP: network.address,
      RELAIS_TLS_CERT_FILE: certificate.cert,
      RELAIS_TLS_KEY_FILE: certificate.key,
    });
    chromium = await launchBrowser({
      audioFile: writeToneWav(path.join(dir, 'c440.wav'), 440),
      extraArgs: [`--ignore-certificate-errors-spki-list=${certificate.spki}`],
    });
    firefox = await launchFirefox();
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') {
      for (const [index, page] of pages.entries())
        await screenshot(page, `failed-firefox-${this.currentTest.title.replace(/\W+/g, '-')}-${index}.png`).catch(
          () => undefined,
        );
    }
    for (const page of pages.splice(0)) await page.close().catch(() => undefined);
  });

  after(async () => {
    mediasoup.observer.off('newworker', watchWorkers);
    await firefox?.close();
    await chromium?.close();
    await server?.stop();
    network?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function member(
    browser: TestBrowser | undefined,
    room: string,
    sub: string,
    name: string,
    role: 'speaker' | 'moderator' = 'speaker',
  ): Promise<Page> {
    assert.ok(browser && server);
    const page = await browser.page();
    pages.push(page);
    await joinMeeting(page, server.url, server.token({ room, role, sub, name }));
    return page;
  }

  it('a Firefox member and a Chromium member see and hear each other; Firefox sends its camera as simulcast', async () => {
    const fanny = await member(firefox, 'mixte', 'fanny', 'Fanny (Firefox)');
    const chris = await member(chromium, 'mixte', 'chris', 'Chris (Chromium)');
    for (const [page, other] of [
      [chris, 'fanny'],
      [fanny, 'chris'],
    ] as const) {
      const frames = await eventually(`video from ${other} decoded`, () => framesDecoded(page), 30_000);
      await eventually(`more frames from ${other}`, async () => (await framesDecoded(page)) > frames, 30_000);
      const audio = await eventually(`audio from ${other} received`, () => audioPacketsReceived(page), 30_000);
      await eventually(`more audio from ${other}`, async () => (await audioPacketsReceived(page)) > audio, 30_000);
      const shown = await eventually(`${other}'s tile to show a picture`, async () => {
        const pixels = await videoPixels(page, `${tileSelector(other)} video`);
        return pixels && pixels.brightness > 20 ? pixels : undefined;
      });
      assert.ok(shown.width > 0 && shown.height > 0);
    }
    // Firefox's fake microphone is a 1 kHz tone; Chromium's plays the 440 Hz WAV.
    await eventually('Chromium to hear Firefox’s 1 kHz', async () => isTone(await hear(chris, 'fanny'), 1000), 30_000);
    await eventually(
      'Firefox to hear Chromium’s 440 Hz',
      async () => {
        const heard = await recordedTone(fanny, 'chris');
        return heard !== null && heard.level > 0.01 && Math.abs(heard.peakHz - 440) <= 10;
      },
      30_000,
    );

    // Simulcast from Firefox (mediasoup-client's Firefox handler): the server's producer for
    // Fanny's camera has three encodings, and packets arrive on more than one of them. Firefox
    // holds the top layer back while its bandwidth estimate ramps up or its CPU is short (a
    // loaded CI machine), so asking for packets on all three would test the machine.
    const camera = producers.find(
      (producer) => producer.appData.peerId === 'fanny' && producer.appData.source === 'camera',
    );
    assert.ok(camera, `no camera producer for fanny among ${JSON.stringify(producers.map((p) => p.appData))}`);
    assert.equal(camera.type, 'simulcast');
    assert.equal(camera.rtpParameters.encodings?.length, 3);
    await eventually(
      'packets on at least two layers of Firefox’s camera',
      async () => {
        const layers = (await camera.getStats()).filter((stat) => stat.packetCount > 0);
        return new Set(layers.map((stat) => stat.rid ?? stat.ssrc)).size >= 2;
      },
      60_000,
    );
    // And Chromium decodes it, whichever layer it was given.
    const before = await framesDecoded(chris);
    await eventually(
      'Chromium to keep decoding Firefox’s video',
      async () => (await framesDecoded(chris)) > before + 10,
    );
    await screenshot(fanny, 'firefox-meeting-with-chromium.png');
  });

  it('a Firefox listener follows a briefing: hears the speaker, sends nothing', async () => {
    assert.ok(firefox && server);
    await member(chromium, 'briefing-ff', 'alice', 'Alice (Chromium)', 'moderator');
    const listener = await firefox.page();
    pages.push(listener);
    await listener.goto(
      `${server.url}/#token=${server.token({ room: 'briefing-ff', role: 'listener', sub: 'lucie', name: 'Lucie (Firefox)' })}`,
    );
    await listener.waitForSelector('main[data-view="join"] [data-action="join"]');
    await press(listener, '[data-action="join"]');
    await waitConnected(listener);
    assert.equal(await listener.$eval('main', (m) => (m as HTMLElement).dataset.view), 'listener');
    const audio = await eventually('the speaker’s audio at the listener', () => audioPacketsReceived(listener), 30_000);
    await eventually('more of it', async () => (await audioPacketsReceived(listener)) > audio, 30_000);
    await eventually(
      'the Firefox listener to hear Alice’s 440 Hz',
      async () => {
        const heard = await recordedTone(listener, 'alice');
        return heard !== null && heard.level > 0.01 && Math.abs(heard.peakHz - 440) <= 10;
      },
      30_000,
    );
    assert.equal(await sendsMedia(listener), false);
    assert.equal(
      producers.some((producer) => producer.appData.peerId === 'lucie'),
      false,
      'the listener produced nothing',
    );
  });
});
