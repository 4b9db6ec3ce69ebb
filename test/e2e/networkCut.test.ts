/**
 * A real network cut (issue 13, point 1): the relais RTC port is dropped by nftables for 10 s
 * while the pages stay open; in the briefing the HTTP port too (signalling and media, as when a
 * site's whole link drops). The cut is on the server's ports, so every member's path through
 * them drops. Each page says so in words; once the path is back, media flows again (measured
 * from the return and printed), for the same participant (one tile each at the other side),
 * with role, floor and raised hand kept.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'puppeteer-core';
import { freePortRange } from '../../tools/freePorts.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { hear, isTone, writeToneWav } from '../support/browserAudio.js';
import {
  announcements,
  framesDecoded,
  joinMeeting,
  openLink,
  press,
  screenshot,
  sendsMedia,
  tileIds,
  waitConnected,
} from '../support/browserMeeting.js';
import { cutPort, type NetworkCut } from '../support/networkCut.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { eventually } from '../support/wait.js';

const CUT_MS = 10_000;
/** Issue 13 asks media back within 3 s of the path's return; 2× that on a shared 2-core machine. */
const MEDIA_BACK_LIMIT_MS = 6_000;

/** What the page's connection indicator says (its text, read by screen readers: role="status"). */
function connectionWords(page: Page): Promise<{ state: string; text: string }> {
  return page.$eval('[data-testid="connection-state"]', (el) => ({
    state: (el.closest('.connection') as HTMLElement | null)?.dataset.state ?? '',
    text: el.textContent ?? '',
  }));
}

function rowData(page: Page, participantId: string, key: string): Promise<string | undefined> {
  return page
    .$eval(
      `li.moderation-row[data-participant-id="${participantId}"]`,
      (el, k) => (el as HTMLElement).dataset[k as string],
      key,
    )
    .catch(() => undefined);
}

describe('e2e: a real 10 s network cut (nftables), pages open', function () {
  this.timeout(180_000);
  let server: TestServer;
  let rtcPort: number;
  let tones: string;
  let browserA: TestBrowser;
  let browserB: TestBrowser;
  let cuts: NetworkCut[] = [];
  const pages: Page[] = [];

  before(async () => {
    tones = mkdtempSync(path.join(os.tmpdir(), 'relais-tones-'));
    rtcPort = await freePortRange(1);
    server = await startTestServer({
      RELAIS_WORKERS: '1',
      RELAIS_RTC_PORT_BASE: String(rtcPort),
      RELAIS_LOG_LEVEL: 'warn',
    });
    browserA = await launchBrowser({ audioFile: writeToneWav(path.join(tones, 'a440.wav'), 440) });
    browserB = await launchBrowser({ audioFile: writeToneWav(path.join(tones, 'b880.wav'), 880) });
  });

  afterEach(async function () {
    for (const cut of cuts.splice(0)) cut.restore();
    if (this.currentTest?.state === 'failed') {
      for (const [index, page] of pages.entries())
        if (!page.isClosed()) await screenshot(page, `failed-network-cut-${index}.png`).catch(() => undefined);
    }
    for (const page of pages.splice(0)) await page.close().catch(() => undefined);
  });

  after(async () => {
    for (const cut of cuts.splice(0)) cut.restore();
    await browserA?.close();
    await browserB?.close();
    await server?.stop();
    if (tones) rmSync(tones, { recursive: true, force: true });
  });

  async function member(browser: TestBrowser, room: string, sub: string, name: string, role: 'speaker' | 'moderator') {
    const page = await browser.page();
    pages.push(page);
    await joinMeeting(page, server.url, server.token({ room, role, sub, name }), { camera: role === 'speaker' });
    return page;
  }

  async function listener(browser: TestBrowser, room: string, sub: string, name: string): Promise<Page> {
    const page = await browser.page();
    pages.push(page);
    await openLink(page, server.url, server.token({ room, role: 'listener', sub, name }));
    await press(page, '[data-action="join"]');
    await waitConnected(page);
    return page;
  }

  /**
   * Cuts the ports for CUT_MS; checks every page says in words, within the cut, that the
   * connection is lost and is being tried again; returns when the path is back.
   */
  async function cutFor10s(watched: Page[], ports: number[]): Promise<number> {
    cuts = ports.map(cutPort);
    const cutAt = Date.now();
    for (const page of watched) {
      const said = await eventually(
        'the page to say the connection is lost and tried again',
        async () => {
          const words = await connectionWords(page);
          return words.state === 'reconnecting' && /Connexion perdue/.test(words.text) ? words : undefined;
        },
        CUT_MS - 1_000,
        200,
      );
      assert.match(said.text, /nouvelle tentative/);
    }
    await new Promise((resolve) => setTimeout(resolve, cutAt + CUT_MS - Date.now()));
    // Still cut a moment before the return: the page says so (no false « Connecté »).
    for (const page of watched) assert.equal((await connectionWords(page)).state, 'reconnecting');
    for (const cut of cuts.splice(0)) cut.restore();
    return Date.now();
  }

  it('two members: said in words, media back after the return, same participants, no ghost', async () => {
    const room = 'cut-meeting';
    const alice = await member(browserA, room, 'alice', 'Alice Martin', 'speaker');
    const bob = await member(browserB, room, 'bob', 'Bruno Petit', 'speaker');
    await eventually('Bob to hear Alice', async () => isTone(await hear(bob, 'alice'), 440), 30_000);
    await eventually('Alice to hear Bob', async () => isTone(await hear(alice, 'bob'), 880), 30_000);

    const backAt = await cutFor10s([alice, bob], [rtcPort]);
    const framesAtReturn = await framesDecoded(bob);
    const heard = await Promise.all([
      eventually('Bob to hear Alice again', async () => isTone(await hear(bob, 'alice'), 440) && Date.now(), 30_000),
      eventually('Alice to hear Bob again', async () => isTone(await hear(alice, 'bob'), 880) && Date.now(), 30_000),
    ]);
    const seconds = (Math.max(...heard) - backAt) / 1000;
    console.log(`      media back ${seconds.toFixed(1)} s after the path returned (both directions heard)`);
    assert.ok(seconds * 1000 <= MEDIA_BACK_LIMIT_MS, `media back after ${seconds.toFixed(1)} s`);
    await eventually('video frames again at Bob', async () => (await framesDecoded(bob)) > framesAtReturn + 10, 15_000);

    for (const page of [alice, bob]) {
      await eventually('« Connecté » again', async () => (await connectionWords(page)).state === 'connected', 10_000);
    }
    // Same participants: each side shows the other exactly once (its own tile and one other).
    assert.deepEqual(
      (await tileIds(bob)).filter((id) => id === 'alice'),
      ['alice'],
      'Alice once at Bob',
    );
    assert.deepEqual(
      (await tileIds(alice)).filter((id) => id === 'bob'),
      ['bob'],
      'Bob once at Alice',
    );
    assert.ok(await sendsMedia(alice), 'Alice still sends: her role kept');
    const lines = await announcements(alice);
    assert.ok(
      lines.some((line) => /Connexion perdue/.test(line)),
      `the loss announced to screen readers: ${lines.join(' | ')}`,
    );
    assert.ok(
      lines.some((line) => /rétablie/.test(line)),
      `the return announced to screen readers: ${lines.join(' | ')}`,
    );
    // No ghost on the server either: two members, each once.
    assert.equal(server.server.signalling.participantCount(), 2);
  });

  it('a listener keeps the floor, and another one its raised hand, through a cut of media and signalling', async () => {
    const room = 'cut-briefing';
    const commander = await member(browserA, room, 'cmd', 'Commandant Roux', 'moderator');
    const pref13 = await listener(browserB, room, 'pref13', 'Préfecture 13');
    const pref27 = await listener(browserB, room, 'pref27', 'Préfecture 27');
    await press(pref27, '[data-action="hand"]');
    await press(pref13, '[data-action="hand"]');
    await eventually(
      'both hands at the commander',
      async () => (await rowData(commander, 'pref13', 'hand')) === 'raised',
    );
    await press(commander, 'li.moderation-row[data-participant-id="pref13"] [data-action="grant-floor"]');
    await eventually('Préfecture 13 to publish', () => sendsMedia(pref13), 20_000);
    await eventually(
      'the commander to hear Préfecture 13',
      async () => isTone(await hear(commander, 'pref13'), 880),
      30_000,
    );
    await eventually('Préfecture 13 to hear the commander', async () => isTone(await hear(pref13, 'cmd'), 440), 30_000);
    assert.equal(await rowData(commander, 'pref27', 'hand'), 'raised');

    // The signalling is cut too: shorter than Socket.IO's ping timeout, the session outlives it.
    const backAt = await cutFor10s([commander, pref13], [rtcPort, Number(new URL(server.url).port)]);
    const heard = await Promise.all([
      eventually(
        'the commander to hear Préfecture 13 again',
        async () => isTone(await hear(commander, 'pref13'), 880) && Date.now(),
        30_000,
      ),
      eventually(
        'Préfecture 13 to hear the commander again',
        async () => isTone(await hear(pref13, 'cmd'), 440) && Date.now(),
        30_000,
      ),
    ]);
    const seconds = (Math.max(...heard) - backAt) / 1000;
    console.log(`      floor holder heard again ${seconds.toFixed(1)} s after the path returned`);
    assert.ok(seconds * 1000 <= MEDIA_BACK_LIMIT_MS, `media back after ${seconds.toFixed(1)} s`);
    assert.equal(await rowData(commander, 'pref13', 'floor'), 'true', 'the floor kept');
    assert.equal(await rowData(commander, 'pref27', 'hand'), 'raised', 'the raised hand kept');
    assert.equal(await rowData(commander, 'pref13', 'role'), 'listener', 'still a listener');
    const rows = await commander.$$eval('.moderation-list > li', (list) =>
      list.map((li) => (li as HTMLElement).dataset.participantId ?? ''),
    );
    assert.equal(rows.filter((id) => id === 'pref13').length, 1, 'Préfecture 13 listed once');
    assert.equal(rows.length, 3);
    assert.equal(server.server.signalling.participantCount(), 3, 'no ghost on the server');
  });
});
