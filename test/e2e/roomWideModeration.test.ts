/**
 * A crisis moderator's tools for everyone at once, in real headless Chromium against the real
 * server: lower every hand, mute every microphone (the moderators' stay on), change a role live
 * (the page adapts without reconnecting: a listener may now speak, a speaker made moderator gets
 * the panel), put someone in the spotlight on every page, and end the meeting for everyone —
 * each page then says, in words, that the moderator ended it.
 */
import assert from 'node:assert/strict';
import type { Page } from 'puppeteer-core';
import { seriousViolations } from '../support/axe.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import {
  announcements,
  craftedRequest,
  joinMeeting,
  openLink,
  press,
  screenshot,
  waitConnected,
} from '../support/browserMeeting.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { eventually } from '../support/wait.js';

const ROOM = 'cellule';

function row(participantId: string): string {
  return `li.moderation-row[data-participant-id="${participantId}"]`;
}

function data(page: Page, selector: string, key: string): Promise<string | undefined> {
  return page.$eval(selector, (el, k) => (el as HTMLElement).dataset[k as string], key).catch(() => undefined);
}

describe('e2e: moderation for everyone at once', function () {
  this.timeout(240_000);
  let server: TestServer;
  let browser: TestBrowser;
  const pages: Page[] = [];
  let moderator: Page;
  let alice: Page;
  let paul: Page;

  before(async () => {
    server = await startTestServer({ RELAIS_WORKERS: '1', RELAIS_LOG_LEVEL: 'warn' });
    browser = await launchBrowser();
    moderator = await browser.page();
    alice = await browser.page();
    paul = await browser.page();
    pages.push(moderator, alice, paul);
    await joinMeeting(
      moderator,
      server.url,
      server.token({ room: ROOM, role: 'moderator', sub: 'cmd', name: 'Commandant Roux' }),
      {
        camera: false,
      },
    );
    await joinMeeting(
      alice,
      server.url,
      server.token({ room: ROOM, role: 'speaker', sub: 'alice', name: 'Alice Martin' }),
      {
        camera: false,
      },
    );
    await openLink(
      paul,
      server.url,
      server.token({ room: ROOM, role: 'listener', sub: 'paul', name: 'Préfecture 13' }),
    );
    await press(paul, '[data-action="join"]');
    await waitConnected(paul);
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') {
      for (const [index, page] of pages.entries()) {
        if (!page.isClosed()) await screenshot(page, `failed-room-wide-${index}.png`).catch(() => undefined);
      }
    }
  });

  after(async () => {
    for (const page of pages.splice(0)) await page.close().catch(() => undefined);
    await browser?.close();
    await server?.stop();
  });

  it('lowers every hand and mutes every microphone but the moderator’s', async () => {
    await eventually(
      'Alice’s microphone live at the moderator',
      async () => (await data(moderator, row('alice'), 'mic')) === 'on',
      30_000,
    );
    await craftedRequest(alice, 'setHand', { raised: true });
    await eventually('Alice’s hand up', async () => (await data(moderator, row('alice'), 'hand')) === 'raised');
    await press(moderator, '[data-action="lower-all-hands"]');
    await eventually('Alice’s hand down', async () => (await data(moderator, row('alice'), 'hand')) === 'down');

    await press(moderator, '[data-action="mute-all"]');
    await eventually('Alice muted', async () => (await data(moderator, row('alice'), 'mic')) === 'muted');
    await alice.waitForSelector('[data-testid="meeting-notice"][data-notice="muted-by-moderator"]:not([hidden])');
    assert.equal(await data(moderator, row('cmd'), 'mic'), 'on', 'the moderator keeps their microphone');
    await eventually('said to the moderator', async () =>
      (await announcements(moderator)).includes('Tous les micros ont été coupés, sauf ceux des modérateurs'),
    );
  });

  it('changes roles live: a listener may speak, a speaker made moderator gets the panel, no reconnect', async () => {
    assert.equal(await paul.$('[data-action="mic"]:not([hidden])'), null, 'a listener has no microphone button');
    await moderator.select(`${row('paul')} select[data-action="set-role"]`, 'speaker');
    await paul.waitForSelector('nav.controls [data-action="mic"]:not([hidden])', { timeout: 30_000 });
    assert.equal(await data(paul, '.connection', 'state'), 'connected');
    await eventually('Paul told in words', async () =>
      (await announcements(paul)).includes('Un modérateur vous a donné le rôle intervenant'),
    );

    await moderator.select(`${row('alice')} select[data-action="set-role"]`, 'moderator');
    await alice.waitForSelector('[data-testid="moderation-panel"] [data-testid="room-wide"]', { timeout: 30_000 });
    await alice.waitForSelector(`${row('paul')}`);
    assert.equal(await data(alice, '.connection', 'state'), 'connected');
    assert.equal(await data(moderator, row('alice'), 'role'), 'moderator');
    assert.deepEqual(await seriousViolations(alice), []);
  });

  it('the spotlight: every page puts the moderator’s choice first and says so', async () => {
    await press(moderator, `${row('alice')} [data-action="spotlight"]`);
    for (const page of [paul, moderator]) {
      await eventually(
        'Alice in the spotlight',
        async () => (await data(page, '.tile[data-participant-id="alice"]', 'spotlight')) === 'true',
      );
    }
    await eventually('said to Paul', async () =>
      (await announcements(paul)).includes('Alice Martin est mis en avant par le modérateur'),
    );
    assert.equal(
      await moderator.$eval(`${row('alice')} [data-action="spotlight"]`, (el) => el.getAttribute('aria-pressed')),
      'true',
    );
    assert.deepEqual(await seriousViolations(moderator), []);
  });

  it('ends the meeting for everyone: each page says the moderator ended it', async () => {
    await press(moderator, '[data-action="end-for-all"]');
    await press(moderator, '[data-action="confirm-end-for-all"]');
    for (const page of [alice, paul, moderator]) {
      await page.waitForSelector('main[data-view="ended"]', { timeout: 30_000 });
      const words = await page.$eval('main', (el) => el.textContent ?? '');
      assert.match(words, /Le modérateur a mis fin à la réunion pour tous les participants/);
    }
  });
});
