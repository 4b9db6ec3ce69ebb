/**
 * Phones: at 360×740 and 390×844 (portrait) and 740×360 (landscape), the join screen, a
 * meeting of 3 then 8 people, the moderator's panel, the listener's view and an error page
 * fit: the controls that matter are on screen without scrolling, nothing sticks out sideways
 * (no horizontal scroll, no clipped button), every touch target is at least 44 px, axe finds
 * nothing serious, and all of this still holds with text at 200 %.
 *
 * Screenshots go to test-artifacts/small-screens/ for people to look at. CPU stays bounded
 * on small machines: three Chromium members send a fake camera, five more are signalling-only
 * members (in the room, without media).
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'puppeteer-core';
import { seriousViolations } from '../support/axe.js';
import { ARTIFACTS, launchBrowser, type TestBrowser } from '../support/browser.js';
import { clickJoin, joinMeeting, openLink, press, tileIds, waitConnected } from '../support/browserMeeting.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { SignallingClient } from '../support/signallingClient.js';
import { eventually } from '../support/wait.js';

const SIZES = [
  { name: '360x740', width: 360, height: 740 },
  { name: '390x844', width: 390, height: 844 },
  { name: '740x360', width: 740, height: 360 },
] as const;

/** A phone's viewport (set before the page loads: changing to or from a phone reloads the page). */
function phone(size: { width: number; height: number }) {
  return { width: size.width, height: size.height, isMobile: true, hasTouch: true, deviceScaleFactor: 1 };
}

const SHOTS = path.join(ARTIFACTS, 'small-screens');
const MIN_TARGET = 44;

/**
 * What is wrong with the page as shown now, in words (empty when it fits): run in the page.
 * (A string: code compiled by the test runner may reference helpers the page lacks.)
 */
const LAYOUT_PROBLEMS = `(selectors, minTarget, width, height) => {
  const problems = [];
  // A phone zooms out a page wider than itself: the layout viewport then grows past the screen.
  if (window.innerWidth !== width || window.innerHeight !== height)
    problems.push('the page is zoomed out to ' + window.innerWidth + 'x' + window.innerHeight + ' to fit its content');
  const describe = (el) =>
    el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.dataset && el.dataset.action ? '[data-action=' + el.dataset.action + ']' : '') +
    ' «' + (el.textContent || '').trim().slice(0, 30) + '»';
  // Hidden on screen on purpose (a heading for screen readers only) is not cut.
  const shown = (el) => {
    const box = el.getBoundingClientRect();
    return box.width > 1 && box.height > 1 && getComputedStyle(el).visibility !== 'hidden' && !el.closest('.visually-hidden');
  };
  if (document.documentElement.scrollWidth > width)
    problems.push('horizontal scroll: ' + document.documentElement.scrollWidth + ' px wide for ' + width);
  for (const selector of selectors) {
    const el = document.querySelector(selector);
    if (!el || !shown(el)) {
      problems.push(selector + ' is not shown');
      continue;
    }
    const box = el.getBoundingClientRect();
    if (box.left < 0 || box.top < 0 || box.right > width + 0.5 || box.bottom > height + 0.5)
      problems.push(selector + ' is outside the ' + width + 'x' + height + ' viewport without scrolling (top ' + Math.round(box.top) + ', bottom ' + Math.round(box.bottom) + ')');
    else {
      // On screen means on top too, not under something else.
      const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
      if (!hit || !(el === hit || el.contains(hit))) problems.push(selector + ' is covered by ' + (hit ? describe(hit) : 'nothing'));
    }
  }
  for (const el of document.querySelectorAll('main button, main select, main textarea, main a[href], main .field.checkbox')) {
    if (!shown(el)) continue;
    const box = el.getBoundingClientRect();
    if (box.width < minTarget - 0.5 || box.height < minTarget - 0.5)
      problems.push('touch target ' + describe(el) + ' is ' + Math.round(box.width) + 'x' + Math.round(box.height) + ' px');
    if (box.left < -0.5 || box.right > width + 0.5) problems.push(describe(el) + ' sticks out sideways');
    if (el.tagName === 'BUTTON' && el.scrollWidth > el.clientWidth + 1) problems.push(describe(el) + ' is cut');
  }
  for (const el of document.querySelectorAll('main h1, main h2, main p, main label')) {
    if (!shown(el)) continue;
    const box = el.getBoundingClientRect();
    if (box.left < -0.5 || box.right > width + 0.5) problems.push(describe(el) + ' sticks out sideways');
    if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== 'visible') problems.push(describe(el) + ' is cut');
  }
  return problems;
}`;

async function layoutProblems(page: Page, mustSee: string[], width: number, height: number): Promise<string[]> {
  const args = [JSON.stringify(mustSee), MIN_TARGET, width, height].join(', ');
  return (await page.evaluate(`(${LAYOUT_PROBLEMS})(${args})`)) as string[];
}

/**
 * Shows the page at each phone size, then again with text at 200 %: a screenshot of each,
 * and what does not fit, in words (empty when everything fits).
 */
async function fitsOnPhones(page: Page, view: string, mustSee: string[]): Promise<string[]> {
  mkdirSync(SHOTS, { recursive: true });
  const problems: string[] = [];
  await page.bringToFront();
  for (const size of SIZES) {
    // 200 % text on the narrowest and the shortest screens (390×844 lies between them).
    for (const text of size.name === '390x844' ? [100] : [100, 200]) {
      await page.setViewport(phone(size));
      // Text zoom as browsers and phones do it: the root font size, which every rem follows.
      await page.evaluate((percent) => {
        document.documentElement.style.fontSize = percent === 100 ? '' : `${percent}%`;
        window.scrollTo(0, 0);
      }, text);
      // Two frames: the layout has settled.
      await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
      const label = `${view} ${size.name} text ${text}%`;
      await page.screenshot({ path: path.join(SHOTS, `${view}-${size.name}-text${text}.png`) as `${string}.png` });
      for (const problem of await layoutProblems(page, mustSee, size.width, size.height))
        problems.push(`${label}: ${problem}`);
      // axe once per size (text zoom changes sizes, not roles, names or contrast).
      if (text === 100) for (const violation of await seriousViolations(page)) problems.push(`${label}: ${violation}`);
    }
  }
  await page.evaluate(() => {
    document.documentElement.style.fontSize = '';
  });
  await page.setViewport(phone(SIZES[0]));
  return problems;
}

describe('e2e: small screens (phones)', function () {
  this.timeout(600_000);
  let server: TestServer;
  let browser: TestBrowser;
  const pages: Page[] = [];
  const members: SignallingClient[] = [];

  before(async () => {
    server = await startTestServer({ RELAIS_LOG_LEVEL: 'warn', RELAIS_WORKERS: '1' });
    browser = await launchBrowser();
  });

  afterEach(async () => {
    for (const member of members.splice(0)) member.close();
    for (const page of pages.splice(0)) await page.close().catch(() => undefined);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  /** A page in a phone's viewport, or a desktop one for the people the phone sees. */
  async function newPage(onPhone = true): Promise<Page> {
    const page = await browser.page();
    if (onPhone) await page.setViewport(phone(SIZES[0]));
    pages.push(page);
    return page;
  }

  it('the join screens and an error page fit', async () => {
    const speaker = await newPage();
    await openLink(
      speaker,
      server.url,
      server.token({ room: 'phone-join', role: 'speaker', sub: 'sp', name: 'Agent Mobile' }),
    );
    await speaker.waitForSelector('.join-view[data-ready="true"]');
    assert.deepEqual(await fitsOnPhones(speaker, 'join', ['[data-action="join"]', '[data-action="lang"]']), []);

    const listener = await newPage();
    await openLink(
      listener,
      server.url,
      server.token({ room: 'phone-join', role: 'listener', sub: 'ls', name: 'Préfecture' }),
    );
    await listener.waitForSelector('.listener-join [data-action="join"]');
    assert.deepEqual(await fitsOnPhones(listener, 'listener-join', ['[data-action="join"]']), []);

    const lost = await newPage();
    await lost.goto(`${server.url}/#token=broken`);
    await lost.waitForSelector('main[data-view="error"]');
    assert.deepEqual(await fitsOnPhones(lost, 'error', ['h1']), []);
  });

  it('a meeting of 3 then 8, the moderator’s panel and the listener’s view fit', async function () {
    // Three senders of video on a small machine shared with other work: slow, never stuck.
    this.timeout(1_500_000);
    const room = 'phone-meeting';
    const moderator = await newPage();
    await joinMeeting(
      moderator,
      server.url,
      server.token({ room, role: 'moderator', sub: 'mod', name: 'Préfète Martin' }),
    );
    for (const [sub, name] of [
      ['bob', 'Bruno Petit'],
      ['carol', 'Carole Durand-Lefebvre'],
    ] as const) {
      const page = await newPage(false);
      await joinMeeting(page, server.url, server.token({ room, role: 'speaker', sub, name }));
    }
    await eventually('3 tiles at the moderator', async () => (await tileIds(moderator)).length === 3);
    const controls = ['[data-action="leave"]', '[data-action="mic"]'];

    // The meeting as a speaker sees it: the moderator's panel closed.
    await press(moderator, '[data-action="participants"]');
    await moderator.waitForSelector('#moderation-panel', { hidden: true });
    assert.deepEqual(await fitsOnPhones(moderator, 'meeting-3', controls), []);

    for (let i = 1; i <= 5; i++) {
      const { client } = await SignallingClient.join(
        server.url,
        server.token({ room, role: 'speaker', sub: `member-${i}`, name: `Sous-préfecture ${i}` }),
      );
      members.push(client);
    }
    await eventually('8 tiles at the moderator', async () => (await tileIds(moderator)).length === 8);
    assert.deepEqual(await fitsOnPhones(moderator, 'meeting-8', controls), []);

    await press(moderator, '[data-action="participants"]');
    await moderator.waitForSelector('#moderation-panel', { visible: true });
    assert.deepEqual(
      await fitsOnPhones(moderator, 'moderator-panel-8', [...controls, '[data-action="participants"]']),
      [],
    );

    const listener = await newPage();
    await openLink(
      listener,
      server.url,
      server.token({ room, role: 'listener', sub: 'lst', name: 'Préfecture du Nord' }),
    );
    await clickJoin(listener);
    await waitConnected(listener);
    assert.deepEqual(await fitsOnPhones(listener, 'listener', ['[data-action="leave"]', '[data-action="hand"]']), []);
  });
});
