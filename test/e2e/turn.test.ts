/**
 * TURN through coturn: Debian's coturn started by the test, a relais that hands out its
 * credentials, and headless Chromium whose every peer connection is forced to relay only (as
 * on a network where nothing but the TURN server over TLS is reachable). Members of a meeting
 * and a briefing listener hear the tone and decode the video through coturn; expired
 * credentials are refused by coturn; without TURN the browser is given no ICE server at all.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'puppeteer-core';
import { turnCredentials } from '../../server/src/turn/turnCredentials.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { hear, isTone, writeToneWav } from '../support/browserAudio.js';
import { framesDecoded, joinMeeting, press, screenshot, waitConnected } from '../support/browserMeeting.js';
import { type Coturn, startCoturn } from '../support/coturn.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { SignallingClient } from '../support/signallingClient.js';
import { eventually } from '../support/wait.js';

interface RecordedConfig {
  iceServers?: { urls: string | string[]; username?: string; credential?: string }[];
  iceTransportPolicy?: string;
}

interface SelectedPair {
  localType: string;
  protocol: string;
  relayProtocol: string | null;
}

/**
 * Installed before the page's own scripts: records the configuration the client gives each
 * RTCPeerConnection and, when `forceRelay`, narrows it to TURN only. (A string: the page has
 * none of the test runner's helpers.)
 */
function peerRecorder(forceRelay: boolean): string {
  return `(() => {
    const Native = window.RTCPeerConnection;
    const configs = [];
    const peers = [];
    window.RTCPeerConnection = new Proxy(Native, {
      construct(target, args, newTarget) {
        const asked = args[0] || {};
        const entry = { config: JSON.parse(JSON.stringify(asked)), connected: false };
        configs.push(entry);
        const given = ${forceRelay} ? { ...asked, iceTransportPolicy: 'relay' } : asked;
        const peer = Reflect.construct(target, [given, ...args.slice(1)], newTarget);
        peer.addEventListener('connectionstatechange', () => {
          if (peer.connectionState === 'connected') entry.connected = true;
        });
        peers.push(peer);
        return peer;
      },
    });
    window.__turnTest = {
      // mediasoup-client also opens a peer connection that never connects, to read the codecs.
      configs: (connectedOnly) => configs.filter((entry) => entry.connected || !connectedOnly).map((entry) => entry.config),
      async selectedPairs() {
        const pairs = [];
        for (const peer of peers) {
          if (peer.connectionState !== 'connected') continue;
          const report = await peer.getStats();
          report.forEach((stat) => {
            if (stat.type !== 'transport' || !stat.selectedCandidatePairId) return;
            const pair = report.get(stat.selectedCandidatePairId);
            const local = pair && report.get(pair.localCandidateId);
            if (local)
              pairs.push({ localType: local.candidateType, protocol: local.protocol, relayProtocol: local.relayProtocol || null });
          });
        }
        return pairs;
      },
    };
  })();`;
}

type TurnTestWindow = {
  __turnTest: { configs(connectedOnly: boolean): RecordedConfig[]; selectedPairs(): Promise<SelectedPair[]> };
};

/** What the client gave each RTCPeerConnection (only those that connected: the media transports). */
function recordedConfigs(page: Page, connectedOnly: boolean): Promise<RecordedConfig[]> {
  return page.evaluate((only) => (window as unknown as TurnTestWindow).__turnTest.configs(only), connectedOnly);
}

function selectedPairs(page: Page): Promise<SelectedPair[]> {
  return page.evaluate(() => (window as unknown as TurnTestWindow).__turnTest.selectedPairs());
}

/** The relay candidates a relay-only peer connection gathers with this one TURN server. */
function relayCandidates(page: Page, server: { urls: string[]; username: string; credential: string }) {
  return page.evaluate(async (ice) => {
    const peer = new RTCPeerConnection({ iceServers: [ice], iceTransportPolicy: 'relay' });
    const found: string[] = [];
    peer.onicecandidate = (event) => {
      if (event.candidate?.candidate) found.push(event.candidate.candidate);
    };
    peer.createDataChannel('probe');
    await peer.setLocalDescription(await peer.createOffer());
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 20_000);
      peer.onicegatheringstatechange = () => {
        if (peer.iceGatheringState !== 'complete') return;
        clearTimeout(timer);
        resolve();
      };
    });
    peer.close();
    return found.filter((candidate) => / typ relay /.test(candidate));
  }, server);
}

function tokenExpiry(token: string): number {
  const [, payload] = token.split('.');
  return (JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as { exp: number }).exp;
}

describe('e2e: TURN through coturn', function () {
  this.timeout(180_000);
  let coturn: Coturn;
  let server: TestServer;
  let tones: string;
  let browserA: TestBrowser;
  let browserB: TestBrowser;
  const pages: Page[] = [];
  let alice: Page;
  let bob: Page;

  before(async () => {
    tones = mkdtempSync(path.join(os.tmpdir(), 'relais-turn-tones-'));
    coturn = await startCoturn();
    // TURN over TLS only: what a prefecture that lets nothing but TCP 443 out can reach.
    server = await startTestServer({
      RELAIS_WORKERS: '1',
      RELAIS_TURN_URLS: coturn.urls.tls,
      RELAIS_TURN_SECRET: coturn.secret,
      RELAIS_TURN_TTL: '30m',
    });
    // The browsers trust coturn's test certificate (and only it), as they would a real one.
    const extraArgs = [`--ignore-certificate-errors-spki-list=${coturn.spki}`];
    browserA = await launchBrowser({ audioFile: writeToneWav(path.join(tones, 'a440.wav'), 440), extraArgs });
    browserB = await launchBrowser({ audioFile: writeToneWav(path.join(tones, 'b880.wav'), 880), extraArgs });
  });

  afterEach(async function () {
    if (this.currentTest?.state !== 'failed') return;
    for (const [index, page] of pages.entries()) {
      if (!page.isClosed())
        await screenshot(page, `failed-turn-${this.currentTest.title.replace(/\W+/g, '-')}-${index}.png`).catch(
          () => undefined,
        );
    }
    console.error(`[coturn output, last lines]\n${coturn?.output().split('\n').slice(-40).join('\n')}`);
  });

  after(async () => {
    for (const page of pages.splice(0)) await page.close().catch(() => undefined);
    await browserA?.close();
    await browserB?.close();
    await server?.stop();
    await coturn?.stop();
    if (tones) rmSync(tones, { recursive: true, force: true });
  });

  async function relayOnlyPage(browser: TestBrowser): Promise<Page> {
    const page = await browser.page();
    pages.push(page);
    await page.evaluateOnNewDocument(peerRecorder(true));
    return page;
  }

  it('hands each participant TURN credentials of its own, bounded by its token and RELAIS_TURN_TTL', async () => {
    const shortToken = server.token({ room: 'signalling', role: 'speaker', sub: 'short', ttlSeconds: 600 });
    const longToken = server.token({ room: 'signalling', role: 'speaker', sub: 'long', ttlSeconds: 3600 });
    const short = await SignallingClient.join(server.url, shortToken);
    const long = await SignallingClient.join(server.url, longToken);
    try {
      const [shortServer] = short.joined.iceServers;
      const [longServer] = long.joined.iceServers;
      assert.ok(shortServer && longServer && short.joined.iceServers.length === 1);
      assert.deepEqual(shortServer.urls, [coturn.urls.tls]);
      assert.equal(shortServer.username, `${tokenExpiry(shortToken)}:short`, 'ends with the token');
      const [expiry, who] = longServer.username.split(':');
      assert.equal(who, 'long');
      const now = Math.floor(Date.now() / 1000);
      assert.ok(Number(expiry) <= now + 1800 && Number(expiry) > now + 1700, 'ends after RELAIS_TURN_TTL (30 min)');
      // An ICE restart (network change) allocates on coturn again: it comes with credentials still valid.
      const transport = await long.client.request('createTransport', { direction: 'recv' });
      const restarted = await long.client.request('restartIce', { transportId: transport.id });
      const [restartServer] = restarted.iceServers;
      assert.ok(restartServer);
      assert.deepEqual(restartServer.urls, [coturn.urls.tls]);
      assert.match(restartServer.username, /^\d+:long$/);
      assert.ok(Number(restartServer.username.split(':')[0]) >= Number(expiry));
      for (const ice of [shortServer, longServer, restartServer])
        assert.equal(ice.credential, createHmac('sha1', coturn.secret).update(ice.username).digest('base64'));
    } finally {
      short.client.close();
      long.client.close();
    }
  });

  it('a meeting through coturn over TLS only: each hears the other’s tone and decodes the video; the page says “relayed”', async () => {
    alice = await relayOnlyPage(browserA);
    bob = await relayOnlyPage(browserB);
    await joinMeeting(alice, server.url, server.token({ room: 'ops', role: 'speaker', sub: 'alice', name: 'Alice' }));
    await joinMeeting(bob, server.url, server.token({ room: 'ops', role: 'speaker', sub: 'bob', name: 'Bob' }));

    await eventually('Bob to hear Alice’s 440 Hz', async () => isTone(await hear(bob, 'alice'), 440), 45_000);
    await eventually('Alice to hear Bob’s 880 Hz', async () => isTone(await hear(alice, 'bob'), 880), 45_000);
    await eventually('Bob to decode Alice’s video', async () => (await framesDecoded(bob)) > 10, 30_000);
    await eventually('Alice to decode Bob’s video', async () => (await framesDecoded(alice)) > 10, 30_000);

    for (const page of [alice, bob]) {
      const pairs = await selectedPairs(page);
      assert.equal(pairs.length, 2, `a send and a receive transport, connected: ${JSON.stringify(pairs)}`);
      for (const pair of pairs) assert.deepEqual(pair, { localType: 'relay', protocol: 'udp', relayProtocol: 'tls' });
      // The client itself asked for direct first (the test narrowed it), with the TURN server as a fallback.
      const configs = await recordedConfigs(page, true);
      assert.equal(configs.length, 2, 'the send and receive transports');
      for (const config of configs) {
        assert.notEqual(config.iceTransportPolicy, 'relay');
        assert.deepEqual(
          config.iceServers?.map((ice) => ice.urls),
          [[coturn.urls.tls]],
        );
      }
      await page.waitForSelector('.connection[data-state="connected"][data-path="relayed"]', { timeout: 15_000 });
      const said = await page.$eval('[data-testid="connection-state"]', (el) => el.textContent ?? '');
      assert.match(said, /Connecté, liaison relayée par le serveur TURN/);
    }
    // For people to look at: the indicator in the meeting, and on a phone-sized screen.
    await screenshot(bob, 'turn-meeting-relayed.png');
    await bob.setViewport({ width: 360, height: 740 });
    await screenshot(bob, 'turn-meeting-relayed-360.png');
    await bob.setViewport({ width: 1280, height: 800 });
  });

  it('a briefing listener through coturn hears the speaker, and decodes the video it asks for', async () => {
    const listener = await relayOnlyPage(browserB);
    await listener.goto(
      `${server.url}/#token=${server.token({ room: 'ops', role: 'listener', sub: 'lucie', name: 'Lucie (préfecture)' })}`,
    );
    await listener.waitForSelector('main[data-view="join"] [data-action="join"]');
    await press(listener, '[data-action="join"]');
    await waitConnected(listener);
    await eventually(
      'the listener to hear Alice’s 440 Hz',
      async () => isTone(await hear(listener, 'alice'), 440),
      45_000,
    );
    await press(listener, '[data-action="watch"]');
    await eventually('the listener to decode Alice’s video', async () => (await framesDecoded(listener)) > 5, 30_000);
    const pairs = await selectedPairs(listener);
    assert.ok(pairs.length >= 1);
    for (const pair of pairs) assert.equal(pair.localType, 'relay');
    await listener.waitForSelector('.connection[data-path="relayed"]', { timeout: 15_000 });
  });

  it('coturn refuses expired credentials (no relay candidate), and grants fresh ones, over UDP and TLS', async () => {
    const page = await browserA.page();
    pages.push(page);
    const now = Date.now();
    for (const url of [coturn.urls.udp, coturn.urls.tls]) {
      const base = { secret: coturn.secret, urls: [url], participantId: 'late', maxLifetimeSeconds: 3600 };
      const fresh = turnCredentials({ ...base, tokenExpiresAt: Math.floor(now / 1000) + 600, now });
      const expired = turnCredentials({ ...base, tokenExpiresAt: Math.floor(now / 1000) - 60, now });
      assert.ok((await relayCandidates(page, fresh)).length >= 1, `a relay candidate with fresh credentials (${url})`);
      assert.deepEqual(await relayCandidates(page, expired), [], `no relay candidate with expired ones (${url})`);
      // coturn itself said no (not a network failure): 401 to that username.
      assert.ok(
        coturn.output().includes(`user <${expired.username}>: incoming packet message processed, error 401`),
        `coturn answered 401 to ${expired.username}`,
      );
    }
  });

  it('never writes a TURN credential in the server’s logs', async () => {
    const credentials = new Set<string>();
    for (const page of [alice, bob])
      for (const config of await recordedConfigs(page, true))
        for (const ice of config.iceServers ?? []) if (ice.credential) credentials.add(ice.credential);
    assert.ok(credentials.size >= 2, 'the pages were given credentials');
    assert.ok(server.rawLogs.length > 0, 'the server logged');
    for (const credential of credentials)
      assert.ok(!server.rawLogs.some((line) => line.includes(credential)), 'a credential reached the logs');
    assert.ok(!server.rawLogs.some((line) => line.includes(coturn.secret)), 'the secret reached the logs');
  });
});

describe('e2e: without TURN configured', function () {
  this.timeout(120_000);
  let server: TestServer;
  let browser: TestBrowser;

  before(async () => {
    server = await startTestServer({ RELAIS_WORKERS: '1' });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('the join result carries no ICE server, the browser is given none, and the page says “direct (UDP)”', async () => {
    const { client, joined } = await SignallingClient.join(
      server.url,
      server.token({ room: 'plain', role: 'speaker', sub: 'sig' }),
    );
    const transport = await client.request('createTransport', { direction: 'recv' });
    const restarted = await client.request('restartIce', { transportId: transport.id });
    client.close();
    assert.deepEqual(joined.iceServers, []);
    assert.deepEqual(restarted.iceServers, []);

    const page = await browser.page();
    await page.evaluateOnNewDocument(peerRecorder(false));
    await joinMeeting(page, server.url, server.token({ room: 'plain', role: 'speaker', sub: 'alice', name: 'Alice' }));
    await page.waitForSelector('.connection[data-path="direct-udp"]', { timeout: 20_000 });
    const configs = await recordedConfigs(page, false);
    assert.ok((await recordedConfigs(page, true)).length >= 1, 'the page connected its media');
    for (const config of configs) assert.deepEqual(config.iceServers ?? [], []);
    const said = await page.$eval('[data-testid="connection-state"]', (el) => el.textContent ?? '');
    assert.match(said, /Connecté, liaison directe \(UDP\)/);
  });
});
