/**
 * Moderator controls in real headless Chromium against the real server: the moderator's
 * participant list (raised hands first), giving the floor to a listener and taking it back
 * (heard, then gone, at a speaker), muting and removing someone (with a confirmation step
 * used from the keyboard), and what each person is told on their own screen.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'puppeteer-core';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { hear, isTone, writeToneWav } from '../support/browserAudio.js';
import {
  announcements,
  audioPacketsReceived,
  holdNotification,
  joinMeeting,
  openLink,
  press,
  screenshot,
  sendsMedia,
  waitConnected,
} from '../support/browserMeeting.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { eventually } from '../support/wait.js';
import { seriousViolations } from '../support/axe.js';

function row(participantId: string): string {
  return `li.moderation-row[data-participant-id="${participantId}"]`;
}

/** The moderator's list, top to bottom, as ids. */
function rowIds(page: Page): Promise<string[]> {
  return page.$$eval('.moderation-list > li', (rows) =>
    rows.map((r) => (r as HTMLElement).dataset.participantId ?? ''),
  );
}

function rowData(page: Page, participantId: string, key: string): Promise<string | undefined> {
  return page
    .$eval(row(participantId), (el, k) => (el as HTMLElement).dataset[k as string], key)
    .catch(() => undefined);
}

/** The visible texts of a row's state badges (hidden ones left out). */
function rowBadges(page: Page, participantId: string): Promise<string[]> {
  return page.$eval(row(participantId), (el) =>
    [...el.querySelectorAll<HTMLElement>('.badge')]
      .filter((b) => !b.hidden && getComputedStyle(b).display !== 'none')
      .map((b) => b.textContent ?? ''),
  );
}

function notice(page: Page): Promise<{ kind?: string; text: string; visible: boolean } | undefined> {
  return page
    .$eval('[data-testid="meeting-notice"]', (el) => ({
      kind: (el as HTMLElement).dataset.notice,
      text: el.textContent ?? '',
      visible: !(el as HTMLElement).hidden,
    }))
    .catch(() => undefined);
}

describe('e2e: moderator controls', function () {
  this.timeout(240_000);
  let server: TestServer;
  let tones: string;
  let browser: TestBrowser;
  const pages: Page[] = [];

  before(async () => {
    tones = mkdtempSync(path.join(os.tmpdir(), 'relais-tones-'));
    server = await startTestServer({ RELAIS_WORKERS: '1', RELAIS_LOG_LEVEL: 'warn' });
    // Every page's fake microphone plays 440 Hz; who is heard is told by the participant's own audio element.
    browser = await launchBrowser({ audioFile: writeToneWav(path.join(tones, 'a440.wav'), 440) });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') {
      for (const [index, page] of pages.entries()) {
        if (!page.isClosed()) await screenshot(page, `failed-moderation-${index}.png`).catch(() => undefined);
      }
    }
    for (const page of pages.splice(0)) await page.close().catch(() => undefined);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    if (tones) rmSync(tones, { recursive: true, force: true });
  });

  async function member(room: string, sub: string, name: string, role: 'moderator' | 'speaker'): Promise<Page> {
    const page = await browser.page();
    pages.push(page);
    await joinMeeting(page, server.url, server.token({ room, role, sub, name }), { camera: false });
    return page;
  }

  async function listener(room: string, sub: string, name: string): Promise<Page> {
    const page = await browser.page();
    pages.push(page);
    await openLink(page, server.url, server.token({ room, role: 'listener', sub, name }));
    await press(page, '[data-action="join"]');
    await waitConnected(page);
    return page;
  }

  it('a raised hand comes first; the floor given is heard at a speaker, and taken back', async () => {
    const room = 'floor';
    const moderator = await member(room, 'cmd', 'Commandant Roux', 'moderator');
    const speaker = await member(room, 'spk', 'Alice Martin', 'speaker');
    const pref13 = await listener(room, 'pref13', 'Préfecture 13');
    const pref27 = await listener(room, 'pref27', 'Préfecture 27');

    await eventually('everyone in the moderator’s list', async () => (await rowIds(moderator)).length === 4);
    assert.equal(await moderator.$eval('#moderation-title', (el) => el.textContent), 'Participants (4)');
    assert.deepEqual(
      await rowBadges(moderator, 'pref13'),
      [],
      'a listener with no hand up and no floor shows no state',
    );
    assert.match((await rowBadges(moderator, 'spk')).join(' '), /micro ouvert/);
    await eventually(
      'the moderator’s own microphone shown live',
      async () => (await rowData(moderator, 'cmd', 'mic')) === 'on',
    );
    // No floor for a speaker (it already speaks), and nothing to do on oneself.
    assert.equal(
      await moderator.$eval(`${row('spk')} [data-action="grant-floor"]`, (b) => (b as HTMLElement).hidden),
      true,
    );
    assert.equal(await moderator.$(`${row('cmd')} button`), null);

    // The later hand stays second: the list is in the order hands went up.
    await press(pref27, '[data-action="hand"]');
    await eventually('Préfecture 27 first at the moderator', async () => (await rowIds(moderator))[0] === 'pref27');
    await press(pref13, '[data-action="hand"]');
    await eventually('both hands first, in the order raised', async () => {
      const ids = await rowIds(moderator);
      return ids[0] === 'pref27' && ids[1] === 'pref13';
    });
    assert.equal(await rowData(moderator, 'pref13', 'hand'), 'raised');
    assert.deepEqual(await rowBadges(moderator, 'pref13'), ['main levée'], 'said in words, not colour alone');
    await eventually('the hand announced to the moderator', async () =>
      (await announcements(moderator)).includes('Préfecture 13 lève la main'),
    );
    assert.equal(await moderator.$eval('[data-testid="hands-summary"]', (el) => el.textContent), '2 mains levées');

    const grant = `${row('pref13')} [data-action="grant-floor"]`;
    assert.equal(await moderator.$eval(grant, (b) => b.getAttribute('aria-label')), 'Donner la parole à Préfecture 13');
    assert.equal(await moderator.$eval('[data-action="participants"]', (b) => b.getAttribute('aria-expanded')), 'true');
    assert.deepEqual(await seriousViolations(moderator), [], 'moderator view with the participants panel open');
    await screenshot(moderator, 'moderator-view.png');

    // The floor, given: the listener is told, asks for its microphone, and is heard.
    await press(moderator, grant);
    await eventually('the listener told it has the floor', async () => {
      const shown = await notice(pref13);
      return shown?.visible && shown.kind === 'floor-given' && shown.text.includes('Vous avez la parole');
    });
    await eventually('the listener to publish its microphone', () => sendsMedia(pref13));
    await eventually(
      'the speaker to hear Préfecture 13',
      async () => isTone(await hear(speaker, 'pref13'), 440),
      30_000,
    );
    const received = await eventually('audio packets from Préfecture 13 at the speaker', () =>
      audioPacketsReceived(speaker),
    );
    assert.ok(received > 0);
    assert.equal(
      await pref13.$eval('[data-action="mic"]', (b) => (b as HTMLElement).hidden),
      false,
      'the listener can mute itself',
    );
    assert.deepEqual(await seriousViolations(pref13), [], 'listener view with the floor');
    await screenshot(pref13, 'listener-floor.png');
    await eventually(
      'the moderator to see the floor given',
      async () => (await rowData(moderator, 'pref13', 'floor')) === 'true',
    );
    assert.match((await rowBadges(moderator, 'pref13')).join(' '), /a la parole/);
    assert.equal(await rowData(moderator, 'pref13', 'hand'), 'down', 'the hand comes down with the floor');
    await eventually('the floor announced to the moderator', async () =>
      (await announcements(moderator)).includes('Préfecture 13 a la parole'),
    );
    const revoke = `${row('pref13')} [data-action="revoke-floor"]`;
    assert.equal(
      await moderator.$eval(revoke, (b) => b.getAttribute('aria-label')),
      'Reprendre la parole à Préfecture 13',
    );
    await screenshot(moderator, 'moderator-view-floor.png');

    // Taken back: its producer is gone at the speaker, its microphone is released, it is told.
    await press(moderator, revoke);
    await eventually(
      'Préfecture 13’s audio gone at the speaker',
      async () => (await speaker.$('audio[data-participant-id="pref13"][data-source="mic"]')) === null,
    );
    await eventually('the listener told the floor was taken back', async () => {
      const shown = await notice(pref13);
      return shown?.visible && shown.kind === 'floor-taken' && shown.text.includes('La parole vous a été reprise');
    });
    assert.equal(
      await pref13.$eval('[data-action="mic"]', (b) => (b as HTMLElement).hidden),
      true,
      'no microphone button without the floor',
    );
    await eventually(
      'the moderator to see the floor taken back',
      async () => (await rowData(moderator, 'pref13', 'floor')) === 'false',
    );
    await eventually('the grant button back', async () => (await moderator.$(grant)) !== null);
  });

  it('mute and remove: the person is told in words, the moderator’s list follows, the removal is confirmed from the keyboard', async () => {
    const room = 'moderation';
    const moderator = await member(room, 'cmd', 'Commandant Roux', 'moderator');
    const speaker = await member(room, 'spk', 'Alice Martin', 'speaker');

    await eventually(
      'the speaker’s live microphone at the moderator',
      async () => (await rowData(moderator, 'spk', 'mic')) === 'on',
      30_000,
    );
    const mute = `${row('spk')} [data-action="mute-participant"]`;
    assert.equal(await moderator.$eval(mute, (b) => b.getAttribute('aria-label')), 'Couper le micro de Alice Martin');
    await press(moderator, mute);
    await eventually('the speaker told a moderator muted it', async () => {
      const shown = await notice(speaker);
      return (
        shown?.visible &&
        shown.kind === 'muted-by-moderator' &&
        shown.text.includes('Un modérateur a coupé votre micro')
      );
    });
    assert.equal(
      await speaker.$eval('[data-action="mic"]', (b) => (b as HTMLElement).dataset.state),
      'off',
      'its own mic button shows it muted',
    );
    await screenshot(speaker, 'muted-by-moderator.png');
    await eventually(
      'the moderator to see the speaker muted',
      async () => (await rowData(moderator, 'spk', 'mic')) === 'muted',
    );
    assert.match((await rowBadges(moderator, 'spk')).join(' '), /micro coupé/);
    assert.equal(await moderator.$eval(mute, (b) => (b as HTMLElement).hidden), true, 'nothing to mute any more');

    // Remove: a confirmation step, in the row, with the focus on the safe choice; Escape backs out.
    const remove = `${row('spk')} [data-action="remove-participant"]`;
    await moderator.bringToFront();
    await moderator.focus(remove);
    await moderator.keyboard.press('Enter');
    await moderator.waitForSelector(`${row('spk')} .moderation-confirm:not([hidden])`);
    assert.equal(
      await moderator.$eval(`${row('spk')} .confirm-question`, (el) => el.textContent),
      'Exclure Alice Martin de la réunion ?',
    );
    assert.equal(
      await moderator.evaluate(() => (document.activeElement as HTMLElement).dataset.action),
      'cancel-remove',
    );
    await moderator.keyboard.press('Escape');
    await moderator.waitForSelector(`${row('spk')} .moderation-confirm[hidden]`);
    assert.equal(
      await moderator.evaluate(() => (document.activeElement as HTMLElement).dataset.action),
      'remove-participant',
    );
    assert.ok((await rowIds(moderator)).includes('spk'), 'backing out removes nobody');

    await moderator.keyboard.press('Enter');
    await moderator.waitForSelector(`${row('spk')} .moderation-confirm:not([hidden])`);
    assert.deepEqual(await seriousViolations(moderator), [], 'moderator view with a removal to confirm');
    await moderator.keyboard.down('Shift');
    await moderator.keyboard.press('Tab');
    await moderator.keyboard.up('Shift');
    assert.equal(
      await moderator.evaluate(() => (document.activeElement as HTMLElement).getAttribute('aria-label')),
      'Oui, exclure Alice Martin',
    );
    await moderator.keyboard.press('Enter');

    await speaker.waitForSelector('main[data-view="ended"]', { timeout: 30_000 });
    assert.match(
      await speaker.$eval('main', (m) => m.textContent ?? ''),
      /Un modérateur vous a retiré de la réunion\./,
    );
    await eventually(
      'the speaker gone from the moderator’s list',
      async () => !(await rowIds(moderator)).includes('spk'),
    );
    assert.equal(await moderator.$eval('#moderation-title', (el) => el.textContent), 'Participants (1)');
    await eventually('the removal announced', async () =>
      (await announcements(moderator)).includes('Alice Martin a été exclu de la réunion'),
    );
  });

  it('a refused action is said in words, and the panel can be closed and opened again', async () => {
    const room = 'refused';
    const moderator = await member(room, 'cmd', 'Commandant Roux', 'moderator');
    const other = await member(room, 'mod2', 'Bérénice Adjointe', 'moderator');
    await eventually('the other moderator in the list', async () => (await rowIds(moderator)).includes('mod2'));
    // The other moderator leaves while the row is still on screen at ours (the notification held back).
    await holdNotification(moderator, 'participantLeft');
    await press(other, '[data-action="leave"]');
    await other.waitForSelector('main[data-view="left"]');
    await press(moderator, `${row('mod2')} [data-action="remove-participant"]`);
    await press(moderator, `${row('mod2')} [data-action="confirm-remove"]`);
    const error = await eventually('the refusal shown', () =>
      moderator.$eval('[data-testid="moderation-error"]', (el) =>
        !(el as HTMLElement).hidden ? el.textContent : undefined,
      ),
    );
    assert.match(error, /cette personne n’est plus dans la réunion/);

    await press(moderator, '[data-action="participants"]');
    assert.equal(await moderator.$eval('#moderation-panel', (el) => (el as HTMLElement).hidden), true);
    assert.equal(
      await moderator.$eval('[data-action="participants"]', (b) => b.getAttribute('aria-expanded')),
      'false',
    );
    await press(moderator, '[data-action="participants"]');
    assert.equal(await moderator.$eval('#moderation-panel', (el) => (el as HTMLElement).hidden), false);
  });
});
