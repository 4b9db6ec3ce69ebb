/**
 * Low bandwidth in the browser (issue 16): a person on a poor link ticks "low bandwidth" on the
 * join screen with the keyboard; in the meeting the page says the mode is on, no camera is sent
 * (no video producer on the server) and no video is received until the person asks for one,
 * which then comes at the lowest simulcast layer; the switch in the meeting turns it off and
 * on again, and the choice is remembered when the person leaves and comes back.
 */
import assert from 'node:assert/strict';
import type { Page } from 'puppeteer-core';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import {
  announcements,
  clickJoin,
  framesDecoded,
  joinMeeting,
  openLink,
  press,
  waitConnected,
} from '../support/browserMeeting.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { eventually } from '../support/wait.js';

const SWITCH = '[data-action="low-bandwidth"]';
const NOTICE = '[data-testid="low-bandwidth-notice"]';

describe('e2e: low-bandwidth mode', function () {
  this.timeout(120_000);
  let server: TestServer;
  let browser: TestBrowser;
  let alice: Page;
  let bob: Page;

  before(async () => {
    server = await startTestServer({ RELAIS_WORKERS: '1', RELAIS_LOG_LEVEL: 'warn' });
    browser = await launchBrowser();
    alice = await browser.page();
    bob = await browser.page();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  /** The sources Bob sends, as the server holds them. */
  function bobSends(): string[] {
    const room = server.server.signalling.room('weak');
    return (room?.media.producerList() ?? [])
      .filter((p) => p.peerId === 'bob')
      .map((p) => p.source)
      .sort();
  }

  const isVisible = (page: Page, selector: string) =>
    page
      .$eval(selector, (el) => !(el as HTMLElement).hidden && (el as HTMLElement).offsetParent !== null)
      .catch(() => false);

  it('is chosen on the join screen with the keyboard: no camera sent, no video received, and the page says so', async () => {
    await joinMeeting(alice, server.url, server.token({ room: 'weak', role: 'speaker', sub: 'alice', name: 'Alice' }));

    await openLink(bob, server.url, server.token({ room: 'weak', role: 'speaker', sub: 'bob', name: 'Bob' }));
    await bob.waitForSelector('.join-view[data-ready="true"]');
    const label = await bob.$eval('label[for="low-bandwidth"]', (el) => el.textContent ?? '');
    assert.match(label, /Faible débit/, 'the switch is labelled (French first)');
    await bob.focus('#low-bandwidth');
    await bob.keyboard.press('Space');
    await bob.waitForSelector('#low-bandwidth:checked');
    assert.equal(
      await bob.$eval('#camera-on', (el) => (el as HTMLInputElement).disabled),
      true,
      'the camera box is unavailable in low bandwidth',
    );
    await clickJoin(bob);
    await waitConnected(bob);

    await bob.waitForSelector(`${SWITCH}[data-state="on"][aria-pressed="true"]`);
    assert.match(await bob.$eval(SWITCH, (el) => el.textContent ?? ''), /Faible débit activé/);
    assert.ok(await isVisible(bob, NOTICE), 'the page says low bandwidth is on');
    assert.equal(await isVisible(bob, '[data-action="camera"]'), false, 'no camera button');

    await eventually('Bob’s microphone on the server', () => bobSends().includes('mic'));
    assert.deepEqual(bobSends(), ['mic'], 'no video producer for the camera');
    // Alice's video is offered, not received.
    await bob.waitForSelector('[data-action="watch"]', { visible: true });
    assert.match(await bob.$eval('[data-action="watch"]', (el) => el.textContent ?? ''), /Alice/);
    assert.equal(await framesDecoded(bob), 0, 'no video decoded');
  });

  it('brings a video asked for at the lowest simulcast layer', async () => {
    await press(bob, '[data-action="watch"]');
    await eventually('Alice’s video decoded at Bob’s', async () => (await framesDecoded(bob)) > 10, 30_000);
    await bob.waitForSelector('[data-testid="screen-stage"][data-participant-id="alice"]', { visible: true });
    const consumerId = await bob.$eval('[data-testid="screen-stage"]', (el) => (el as HTMLElement).dataset.key ?? '');
    const room = server.server.signalling.room('weak');
    assert.ok(room);
    assert.equal(room.media.ownConsumer('bob', consumerId).preferredLayers?.spatialLayer, 0, 'lowest simulcast layer');
  });

  it('is turned off and on in the meeting from the keyboard, and remembered after leaving and coming back', async () => {
    await bob.focus(SWITCH);
    await bob.keyboard.press('Enter');
    await bob.waitForSelector(`${SWITCH}[data-state="off"][aria-pressed="false"]`);
    assert.equal(await isVisible(bob, NOTICE), false, 'the notice is gone');
    await bob.waitForSelector('[data-action="camera"]', { visible: true });
    await eventually('announced', async () => (await announcements(bob)).some((a) => /Faible débit désactivé/.test(a)));

    await bob.focus(SWITCH);
    await bob.keyboard.press('Enter');
    await bob.waitForSelector(`${SWITCH}[data-state="on"][aria-pressed="true"]`);
    assert.ok(await isVisible(bob, NOTICE));

    await press(bob, '[data-action="leave"]');
    await bob.waitForSelector('main[data-view="left"] [data-action="rejoin"]');
    await press(bob, '[data-action="rejoin"]');
    await bob.waitForSelector('.join-view[data-ready="true"] #low-bandwidth:checked');
    await clickJoin(bob);
    await waitConnected(bob);
    await bob.waitForSelector(`${SWITCH}[data-state="on"]`);
    await eventually('Bob’s microphone on the server again', () => bobSends().includes('mic'));
    assert.deepEqual(bobSends(), ['mic'], 'still no camera after coming back');
  });
});
