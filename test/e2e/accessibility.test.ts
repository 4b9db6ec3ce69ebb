/**
 * axe-core, injected into the real pages, finds no serious or critical violation on the
 * join screen, the meeting (with another member, a chat message and a raised hand), the
 * listener's view and an error page. Plus what axe cannot see: keyboard use.
 */
import assert from 'node:assert/strict';
import type { Page } from 'puppeteer-core';
import { seriousViolations } from '../support/axe.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import {
  clickJoin,
  joinMeeting,
  press,
  openLink,
  screenshot,
  tileAttribute,
  waitConnected,
} from '../support/browserMeeting.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { eventually } from '../support/wait.js';

describe('e2e: accessibility', function () {
  this.timeout(120_000);
  let server: TestServer;
  let browser: TestBrowser;
  const pages: Page[] = [];

  before(async () => {
    server = await startTestServer({ RELAIS_LOG_LEVEL: 'warn' });
    browser = await launchBrowser();
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') {
      for (const [index, page] of pages.entries())
        await screenshot(page, `failed-a11y-${index}.png`).catch(() => undefined);
    }
    for (const page of pages.splice(0)) await page.close().catch(() => undefined);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function newPage(): Promise<Page> {
    const page = await browser.page();
    pages.push(page);
    return page;
  }

  it('join screen and meeting view: no serious or critical violations', async () => {
    const alice = await newPage();
    await openLink(
      alice,
      server.url,
      server.token({ room: 'a11y', role: 'speaker', sub: 'alice', name: 'Alice Martin' }),
    );
    await alice.waitForSelector('.join-view[data-ready="true"]');
    assert.deepEqual(await seriousViolations(alice), [], 'join screen');
    await screenshot(alice, 'join-view.png');
    // English is one click away, and the choice is kept.
    await press(alice, '[data-action="lang"]');
    await eventually('the join screen in English', () => alice.$eval('h1', (h1) => h1.textContent === 'Join “a11y”'));
    assert.equal(await alice.$eval('html', (html) => html.lang), 'en');
    await press(alice, '[data-action="lang"]');
    await eventually('the join screen in French again', () =>
      alice.$eval('h1', (h1) => h1.textContent === 'Rejoindre « a11y »'),
    );

    const bob = await newPage();
    await joinMeeting(
      bob,
      server.url,
      server.token({ room: 'a11y', role: 'speaker', sub: 'bob', name: 'Bruno Petit' }),
    );
    await clickJoin(alice);
    await waitConnected(alice);
    await eventually('Alice to see Bob', async () => (await tileAttribute(alice, 'bob', 'mic')) === 'on');
    await bob.bringToFront();
    await bob.type('#chat-input', 'Point de situation à 14 h');
    await bob.keyboard.press('Enter');
    await press(bob, '[data-action="hand"]');
    await eventually('Bob’s hand at Alice', async () => (await tileAttribute(alice, 'bob', 'hand')) === 'raised');
    assert.deepEqual(await seriousViolations(alice), [], 'meeting view');
  });

  it('listener view and an error page: no serious or critical violations', async () => {
    const speaker = await newPage();
    await joinMeeting(
      speaker,
      server.url,
      server.token({ room: 'a11y-briefing', role: 'moderator', sub: 'cmd', name: 'Commandant' }),
    );
    const listener = await newPage();
    await openLink(
      listener,
      server.url,
      server.token({ room: 'a11y-briefing', role: 'listener', sub: 'lst', name: 'Préfecture' }),
    );
    await listener.waitForSelector('[data-action="join"]');
    assert.deepEqual(await seriousViolations(listener), [], 'listener join screen');
    await clickJoin(listener);
    await waitConnected(listener);
    assert.deepEqual(await seriousViolations(listener), [], 'listener view');

    const lost = await newPage();
    await lost.goto(`${server.url}/#token=broken`);
    await lost.waitForSelector('main[data-view="error"]');
    assert.deepEqual(await seriousViolations(lost), [], 'error page');
  });

  it('the meeting can be used with the keyboard alone, with a visible focus', async () => {
    const page = await newPage();
    await openLink(
      page,
      server.url,
      server.token({ room: 'a11y-keys', role: 'speaker', sub: 'kb', name: 'Clavier Seul' }),
    );
    await page.waitForSelector('.join-view[data-ready="true"]');
    // Tab to the join button and press Enter: no mouse.
    const reached = await eventually(
      'the join button to take the focus',
      async () => {
        await page.keyboard.press('Tab');
        return page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.action === 'join');
      },
      20_000,
    );
    assert.ok(reached);
    const outline = await page.evaluate(() =>
      document.activeElement ? getComputedStyle(document.activeElement).outlineStyle : 'none',
    );
    assert.notEqual(outline, 'none', 'the focused control is outlined');
    await page.keyboard.press('Enter');
    await waitConnected(page);
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      await page.keyboard.press('Tab');
      const action = await page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.action);
      if (action) seen.add(action);
    }
    for (const action of ['mic', 'camera', 'screen', 'hand', 'leave', 'chat-input', 'chat-send'])
      assert.ok(seen.has(action), `${action} is reachable by Tab (saw ${[...seen].join(', ')})`);
    // Space on the focused mic button mutes, as a click would.
    await page.focus('[data-action="mic"]');
    await page.keyboard.press('Space');
    await eventually('the mic to be muted from the keyboard', () =>
      page.$eval('[data-action="mic"]', (b) => (b as HTMLElement).dataset.state === 'off'),
    );
  });
});
