/**
 * A single relais, no Redis, stopped with SIGTERM mid-meeting and started again on the same
 * ports (issue 13, point 7). Each page says in words that the service is restarting, keeps
 * trying while it is down, and once it answers again rejoins by itself: the two members hear
 * and see each other again, each shown once at the other side. The time from the restarted
 * process being ready to media heard both ways is printed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'puppeteer-core';
import { freePortRange } from '../../tools/freePorts.js';
import { LOCAL_SECRET } from '../../tools/localRelais.js';
import { mintTestToken } from '../../tools/testTokens.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { hear, isTone, writeToneWav } from '../support/browserAudio.js';
import { announcements, framesDecoded, joinMeeting, screenshot, tileIds } from '../support/browserMeeting.js';
import { type RelaisProcess, startRelaisProcess } from '../support/relaisProcess.js';
import { eventually } from '../support/wait.js';

/** How long the service stays down: long enough for several retries at every page. */
const DOWN_MS = 8_000;

function connectionWords(page: Page): Promise<{ state: string; text: string }> {
  return page.$eval('[data-testid="connection-state"]', (el) => ({
    state: (el.closest('.connection') as HTMLElement | null)?.dataset.state ?? '',
    text: el.textContent ?? '',
  }));
}

/** Counts the WebSocket connections the page opens (seen by the browser's DevTools, not the page). */
async function countWebSockets(page: Page): Promise<() => number> {
  const session = await page.createCDPSession();
  await session.send('Network.enable');
  let opened = 0;
  session.on('Network.webSocketCreated', () => {
    opened += 1;
  });
  return () => opened;
}

describe('e2e: a single relais restarted (SIGTERM) mid-meeting', function () {
  this.timeout(180_000);
  let relais: RelaisProcess | undefined;
  let ports: { http: number; rtc: number };
  let tones: string;
  let browserA: TestBrowser;
  let browserB: TestBrowser;
  const pages: Page[] = [];
  const token = (sub: string, name: string) =>
    mintTestToken({ algorithm: 'HS256', key: LOCAL_SECRET }, { room: 'restart', role: 'speaker', sub, name });

  before(async () => {
    tones = mkdtempSync(path.join(os.tmpdir(), 'relais-tones-'));
    ports = { http: await freePortRange(1), rtc: await freePortRange(1) };
    relais = await startRelaisProcess({ RELAIS_LOG_LEVEL: 'info' }, ports);
    browserA = await launchBrowser({ audioFile: writeToneWav(path.join(tones, 'a440.wav'), 440) });
    browserB = await launchBrowser({ audioFile: writeToneWav(path.join(tones, 'b880.wav'), 880) });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') {
      for (const [index, page] of pages.entries())
        if (!page.isClosed()) await screenshot(page, `failed-server-restart-${index}.png`).catch(() => undefined);
      process.stderr.write(relais?.output().slice(-4000) ?? '');
    }
    for (const page of pages.splice(0)) await page.close().catch(() => undefined);
  });

  after(async () => {
    await browserA?.close();
    await browserB?.close();
    await relais?.stop('SIGKILL');
    if (tones) rmSync(tones, { recursive: true, force: true });
  });

  it('says the service restarts, keeps trying, and rejoins by itself once it is back', async () => {
    const alice = await browserA.page();
    const bob = await browserB.page();
    pages.push(alice, bob);
    const url = relais?.url ?? '';
    await joinMeeting(alice, url, token('alice', 'Alice Martin'));
    await joinMeeting(bob, url, token('bob', 'Bruno Petit'));
    await eventually('Bob to hear Alice', async () => isTone(await hear(bob, 'alice'), 440), 30_000);
    await eventually('Alice to hear Bob', async () => isTone(await hear(alice, 'bob'), 880), 30_000);
    const attempts = await Promise.all([alice, bob].map(countWebSockets));

    await relais?.stop('SIGTERM');
    assert.equal(relais?.child.exitCode, 0, 'a clean exit on SIGTERM');
    assert.match(relais?.output() ?? '', /stopping: ending sessions/);
    for (const page of [alice, bob]) {
      const said = await eventually('the page to say the service restarts', async () => {
        const words = await connectionWords(page);
        return words.state === 'reconnecting' && /Le service redémarre/.test(words.text) ? words : undefined;
      });
      assert.match(said.text, /reconnexion automatique/);
    }
    await new Promise((resolve) => setTimeout(resolve, DOWN_MS));
    for (const [index, page] of [alice, bob].entries()) {
      // Still in the meeting view, still saying it, and still trying (no « Réunion quittée », no button to press).
      assert.equal(await page.$eval('main', (el) => (el as HTMLElement).dataset.view), 'meeting');
      assert.match((await connectionWords(page)).text, /Le service redémarre/);
      assert.equal(await page.$('[data-action="retry"]:not([hidden])'), null, 'nothing to press: it retries by itself');
      const tried = attempts[index]?.() ?? 0;
      assert.ok(tried >= 2, `page ${index} tried ${tried} times while the service was down`);
      console.log(`      page ${index}: ${tried} connection attempts in ${DOWN_MS / 1000} s down`);
    }

    relais = await startRelaisProcess({ RELAIS_LOG_LEVEL: 'info' }, ports);
    const readyAt = Date.now();
    const heard = await Promise.all([
      eventually('Bob to hear Alice again', async () => isTone(await hear(bob, 'alice'), 440) && Date.now(), 45_000),
      eventually('Alice to hear Bob again', async () => isTone(await hear(alice, 'bob'), 880) && Date.now(), 45_000),
    ]);
    console.log(
      `      both heard again ${((Math.max(...heard) - readyAt) / 1000).toFixed(1)} s after the restarted relais was ready`,
    );
    const frames = await framesDecoded(bob);
    await eventually('video frames again at Bob', async () => (await framesDecoded(bob)) > frames + 10, 15_000);
    for (const page of [alice, bob])
      await eventually('« Connecté » again', async () => (await connectionWords(page)).state === 'connected');
    // Each shows the other exactly once, once the roster has caught up with the rejoins.
    await eventually('Alice once at Bob', async () => {
      const shown = (await tileIds(bob)).filter((id) => id === 'alice');
      return shown.length === 1;
    });
    await eventually('Bob once at Alice', async () => {
      const shown = (await tileIds(alice)).filter((id) => id === 'bob');
      return shown.length === 1;
    });
    const lines = await announcements(alice);
    assert.ok(
      lines.some((line) => /Le service redémarre/.test(line)),
      `the restart announced to screen readers: ${lines.join(' | ')}`,
    );
    assert.ok(
      lines.some((line) => /rétablie/.test(line)),
      `the return announced: ${lines.join(' | ')}`,
    );
  });
});
