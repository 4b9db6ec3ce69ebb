/**
 * A crisis meeting in real headless Chromium against the real server: two (then three)
 * members hear and see each other, mute, share a screen, chat, raise a hand, leave and
 * come back; a listener hears the speakers and cannot send.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'puppeteer-core';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { hear, isSilent, isTone, writeToneWav } from '../support/browserAudio.js';
import {
  announcements,
  clickJoin,
  craftedRequest,
  cutNetwork,
  framesDecoded,
  joinMeeting,
  press,
  screenshot,
  sendsMedia,
  tileAttribute,
  tileIds,
  tileSelector,
  videoPixels,
  waitConnected,
} from '../support/browserMeeting.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { eventually } from '../support/wait.js';

describe('e2e: crisis meeting in the browser', function () {
  this.timeout(120_000);
  let server: TestServer;
  let tones: string;
  // One browser per fake microphone: Alice's says 440 Hz, Bob's 880 Hz.
  let browserA: TestBrowser;
  let browserB: TestBrowser;
  const pages: Page[] = [];

  before(async () => {
    tones = mkdtempSync(path.join(os.tmpdir(), 'relais-tones-'));
    server = await startTestServer({ RELAIS_WORKERS: '1', RELAIS_LOG_LEVEL: 'warn' });
    browserA = await launchBrowser({ audioFile: writeToneWav(path.join(tones, 'a440.wav'), 440) });
    browserB = await launchBrowser({ audioFile: writeToneWav(path.join(tones, 'b880.wav'), 880) });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') {
      for (const [index, page] of pages.entries()) {
        if (!page.isClosed())
          await screenshot(page, `failed-${this.currentTest.title.replace(/\W+/g, '-')}-${index}.png`).catch(
            () => undefined,
          );
      }
    }
    for (const page of pages.splice(0)) await page.close().catch(() => undefined);
  });

  after(async () => {
    await browserA?.close();
    await browserB?.close();
    await server?.stop();
    if (tones) rmSync(tones, { recursive: true, force: true });
  });

  async function member(
    browser: TestBrowser,
    room: string,
    sub: string,
    name: string,
    role: 'speaker' | 'moderator' = 'speaker',
  ): Promise<Page> {
    const page = await browser.page();
    pages.push(page);
    await joinMeeting(page, server.url, server.token({ room, role, sub, name }));
    return page;
  }

  it('two members hear each other’s tone and see each other’s video', async () => {
    const alice = await member(browserA, 'tones', 'alice', 'Alice Martin');
    const bob = await member(browserB, 'tones', 'bob', 'Bruno Petit');

    await eventually('Bob to hear Alice’s 440 Hz', async () => isTone(await hear(bob, 'alice'), 440), 30_000);
    await eventually('Alice to hear Bob’s 880 Hz', async () => isTone(await hear(alice, 'bob'), 880), 30_000);

    for (const [page, other] of [
      [bob, 'alice'],
      [alice, 'bob'],
    ] as const) {
      const first = await eventually(`video from ${other} to be decoded`, () => framesDecoded(page), 30_000);
      await eventually(`more frames from ${other}`, async () => (await framesDecoded(page)) > first, 30_000);
      const pixels = await eventually(`${other}'s tile to show a picture`, async () => {
        const shown = await videoPixels(page, `${tileSelector(other)} video`);
        return shown && shown.brightness > 20 ? shown : undefined;
      });
      assert.ok(pixels.width > 0 && pixels.height > 0);
    }
    // Simulcast: the layer asked for suits the tile's size (two tiles side by side: not the top one).
    const layer = await eventually('a simulcast layer picked for Alice’s tile', () =>
      bob.$eval(`${tileSelector('alice')} video`, (v) => (v as HTMLElement).dataset.layer).catch(() => undefined),
    );
    assert.ok(['0', '1'].includes(layer), `layer ${layer} for a ~450 px tile`);
    // The active speaker is highlighted in words, and announced to screen readers at the other side.
    const speaking = await eventually('an active speaker to be shown', () =>
      bob
        .$eval('li.tile[data-speaking="true"]', (tile) => ({
          id: (tile as HTMLElement).dataset.participantId ?? '',
          badge: ((badge) => badge !== null && getComputedStyle(badge).display !== 'none')(
            tile.querySelector('.badge-speaking'),
          ),
        }))
        .catch(() => undefined),
    );
    assert.ok(speaking.badge, 'the speaking badge is visible, not only a border colour');
    await eventually('“… parle” announced at the other side', async () => {
      const heard = [...(await announcements(alice)), ...(await announcements(bob))];
      return heard.some((line) => line === 'Alice Martin parle' || line === 'Bruno Petit parle');
    });
    // Both see both names.
    assert.deepEqual((await tileIds(bob)).sort(), ['alice', 'bob']);
    const caption = await bob.$eval(`${tileSelector('alice')} .name`, (el) => el.textContent);
    assert.equal(caption, 'Alice Martin');
    await screenshot(bob, 'meeting-2-participants.png');
  });

  it('mute: the other side hears silence within 2 s and sees the muted badge; unmute brings the voice back', async () => {
    const alice = await member(browserA, 'mute', 'alice', 'Alice Martin');
    const bob = await member(browserB, 'mute', 'bob', 'Bruno Petit');
    await eventually('Bob to hear Alice', async () => isTone(await hear(bob, 'alice'), 440), 30_000);

    await press(alice, '[data-action="mic"]');
    await eventually(
      'Alice’s mic button to show muted',
      async () => (await alice.$eval('[data-action="mic"]', (b) => (b as HTMLElement).dataset.state)) === 'off',
    );
    await eventually('Bob to hear silence from Alice', async () => isSilent(await hear(bob, 'alice')), 2_000);
    await eventually(
      'Bob to see Alice muted',
      async () => (await tileAttribute(bob, 'alice', 'mic')) === 'muted',
      2_000,
    );
    const badgeVisible = await bob.$eval(
      `${tileSelector('alice')} .badge-muted`,
      (el) => getComputedStyle(el).display !== 'none' && (el.textContent ?? '').includes('micro coupé'),
    );
    assert.ok(badgeVisible, 'the muted badge says so in words');

    await press(alice, '[data-action="mic"]');
    await eventually('Bob to hear Alice again', async () => isTone(await hear(bob, 'alice'), 440), 10_000);
    await eventually('Bob to see Alice unmuted', async () => (await tileAttribute(bob, 'alice', 'mic')) === 'on');
  });

  it('a listener hears the speaker, has no send transport, and a crafted produce is refused', async () => {
    await member(browserA, 'briefing', 'alice', 'Alice Martin', 'moderator');
    const listener = await browserB.page();
    pages.push(listener);
    // Count any camera/microphone request the page makes: a listener must make none.
    await listener.evaluateOnNewDocument(() => {
      const w = window as unknown as { __mediaRequests: number };
      w.__mediaRequests = 0;
      const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
      navigator.mediaDevices.getUserMedia = (constraints) => {
        w.__mediaRequests++;
        return original(constraints);
      };
    });
    await listener.goto(
      `${server.url}/#token=${server.token({ room: 'briefing', role: 'listener', sub: 'lucie', name: 'Lucie (préfecture)' })}`,
    );
    await listener.waitForSelector('main[data-view="join"] [data-action="join"]');
    await press(listener, '[data-action="join"]');
    await waitConnected(listener);
    assert.equal(await listener.$eval('main', (m) => (m as HTMLElement).dataset.view), 'listener');

    await eventually(
      'the listener to hear Alice’s 440 Hz',
      async () => isTone(await hear(listener, 'alice'), 440),
      30_000,
    );
    const produce = await craftedRequest(listener, 'produce', {
      transportId: 'crafted',
      kind: 'audio',
      rtpParameters: { codecs: [], encodings: [{ ssrc: 1111 }] },
      source: 'mic',
    });
    const state = await listener.evaluate(() => ({
      mediaRequests: (window as unknown as { __mediaRequests: number }).__mediaRequests,
      controls: [...document.querySelectorAll<HTMLElement>('.controls button:not([hidden])')].map(
        (b) => b.dataset.action,
      ),
    }));
    assert.equal(await sendsMedia(listener), false);
    assert.equal(state.mediaRequests, 0, 'no camera or microphone prompt for a listener');
    assert.equal(produce.ok, false);
    assert.equal(produce.error?.code, 'FORBIDDEN');
    assert.deepEqual(state.controls, ['hand']);
    await eventually('the listener to see Alice in the speakers', async () =>
      (await tileIds(listener)).includes('alice'),
    );

    // Audio first: Alice's camera is offered, not received, until the listener asks.
    const offer = await listener.waitForSelector('[data-action="watch"]');
    assert.equal(await framesDecoded(listener), 0, 'no video decoded before asking');
    assert.ok(offer);
    assert.match((await offer.evaluate((b) => b.textContent)) ?? '', /Alice Martin/);
    await press(listener, '[data-action="watch"]');
    await eventually(
      'Alice’s video on the listener’s stage',
      async () => {
        const shown = await videoPixels(listener, '[data-testid="screen-stage"] video');
        return shown && shown.brightness > 20;
      },
      30_000,
    );
    await screenshot(listener, 'listener-view.png');
  });

  it('screen share shows large, chat arrives as text, a raised hand shows at the other side', async () => {
    const alice = await member(browserA, 'share', 'alice', 'Alice Martin');
    const bob = await member(browserB, 'share', 'bob', 'Bruno Petit');

    await press(alice, '[data-action="screen"]');
    await eventually('Bob to see Alice’s screen on the stage', async () => {
      const stage = await bob
        .$eval('[data-testid="screen-stage"]', (el) => ({
          hidden: (el as HTMLElement).hidden,
          who: (el as HTMLElement).dataset.participantId,
        }))
        .catch(() => undefined);
      return stage && !stage.hidden && stage.who === 'alice';
    });
    const shown = await eventually('the shared screen to show pixels', () =>
      videoPixels(bob, '[data-testid="screen-stage"] video'),
    );
    const tile = await bob.$eval(`${tileSelector('alice')}`, (el) => el.getBoundingClientRect().width);
    const stage = await bob.$eval('[data-testid="screen-stage"]', (el) => el.getBoundingClientRect().width);
    assert.ok(stage > tile * 1.5, `the screen (${stage}px) is shown larger than a tile (${tile}px)`);
    assert.ok(shown.width > 0);

    const text = '<script>window.__injected = true</script><b>point de situation</b> à 14 h';
    await alice.bringToFront();
    await alice.type('#chat-input', text);
    await alice.keyboard.press('Enter');
    const received = await eventually('the chat message at Bob', () =>
      bob
        .$$eval('.chat-log li', (items) =>
          items.map((li) => ({
            from: (li as HTMLElement).dataset.from,
            text: li.querySelector('.chat-text')?.textContent,
            elements: li.querySelectorAll('.chat-text *').length,
          })),
        )
        .then((items) => items.find((m) => m.from === 'alice')),
    );
    assert.equal(received.text, text, 'the message is shown exactly as typed');
    assert.equal(received.elements, 0, 'no markup was created from it');
    assert.equal(await bob.evaluate(() => (window as unknown as { __injected?: boolean }).__injected), undefined);

    await press(alice, '[data-action="hand"]');
    await eventually(
      'Bob to see Alice’s hand raised',
      async () => (await tileAttribute(bob, 'alice', 'hand')) === 'raised',
    );
    const handBadge = await bob.$eval(
      `${tileSelector('alice')} .badge-hand`,
      (el) => getComputedStyle(el).display !== 'none' && el.textContent,
    );
    assert.ok(typeof handBadge === 'string' && handBadge.includes('main levée'));
    await eventually('a screen-reader announcement of the hand', async () =>
      (await announcements(bob)).some((line) => line.includes('Alice Martin lève la main')),
    );
    assert.equal(await alice.$eval('[data-action="hand"]', (b) => (b as HTMLElement).dataset.state), 'on');
    await screenshot(bob, 'meeting-screen-chat-hand.png');

    await press(alice, '[data-action="screen"]');
    await eventually('the stage to close at Bob', () =>
      bob.$eval('[data-testid="screen-stage"]', (el) => (el as HTMLElement).hidden),
    );
  });

  it('leave and rejoin, or a dropped connection, leaves no ghost', async () => {
    const alice = await member(browserA, 'ghosts', 'alice', 'Alice Martin');
    const bob = await member(browserB, 'ghosts', 'bob', 'Bruno Petit');
    await eventually('Bob to see Alice', async () => (await tileIds(bob)).includes('alice'));

    await press(alice, '[data-action="leave"]');
    await alice.waitForSelector('main[data-view="left"] [data-action="rejoin"]');
    await eventually('Alice to disappear at Bob', async () => !(await tileIds(bob)).includes('alice'));

    await press(alice, '[data-action="rejoin"]');
    await clickJoin(alice);
    await waitConnected(alice);
    await eventually('Alice to be back at Bob', async () => (await tileIds(bob)).includes('alice'));
    await eventually('Bob to hear Alice again', async () => isTone(await hear(bob, 'alice'), 440), 30_000);
    assert.deepEqual((await tileIds(bob)).sort(), ['alice', 'bob']);

    // A network cut while Alice is muted: the socket drops, the client reconnects on its own.
    await press(alice, '[data-action="mic"]');
    await eventually('Bob to see Alice muted', async () => (await tileAttribute(bob, 'alice', 'mic')) === 'muted');
    const micConsumer = () =>
      bob
        .$eval('audio[data-participant-id="alice"][data-source="mic"]', (a) => (a as HTMLElement).dataset.consumerId)
        .catch(() => undefined);
    const before = await micConsumer();
    await cutNetwork(alice);
    await eventually('Alice to reconnect', () => alice.$('.connection[data-state="connected"]').then(Boolean), 30_000);
    // Bob receives Alice's microphone anew (a new consumer), and it is still muted.
    await eventually(
      'Bob to receive Alice’s microphone again',
      async () => {
        const now = await micConsumer();
        return now !== undefined && now !== before;
      },
      30_000,
    );
    await eventually('Alice still muted at Bob', async () => (await tileAttribute(bob, 'alice', 'mic')) === 'muted');
    assert.ok(isSilent(await hear(bob, 'alice')));
    assert.equal(
      await alice.$eval('[data-action="mic"]', (b) => (b as HTMLElement).dataset.state),
      'off',
      'Alice still sees herself muted',
    );
    assert.deepEqual((await tileIds(bob)).sort(), ['alice', 'bob'], 'exactly one Alice at Bob');
    assert.deepEqual((await tileIds(alice)).sort(), ['alice', 'bob'], 'exactly one Bob at Alice');
    await press(alice, '[data-action="mic"]');
    await eventually(
      'Bob to hear Alice after her reconnect',
      async () => isTone(await hear(bob, 'alice'), 440),
      30_000,
    );
  });

  it('three members: everyone sees everyone (screenshot)', async () => {
    const alice = await member(browserA, 'trio', 'alice', 'Alice Martin');
    await member(browserB, 'trio', 'bob', 'Bruno Petit');
    await member(browserA, 'trio', 'carole', 'Carole Nguyen');
    for (const other of ['bob', 'carole']) {
      await eventually(
        `Alice to see ${other}'s video`,
        async () => {
          const shown = await videoPixels(alice, `${tileSelector(other)} video`);
          return shown && shown.brightness > 20;
        },
        30_000,
      );
    }
    assert.deepEqual((await tileIds(alice)).sort(), ['alice', 'bob', 'carole']);
    await screenshot(alice, 'meeting-3-participants.png');
  });
});
