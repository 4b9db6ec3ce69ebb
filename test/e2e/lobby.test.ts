/**
 * The waiting room in real headless Chromium against the real server: a newcomer's page says
 * in words that they wait for a moderator, and nothing they could send gets them in; the
 * moderator sees who waits (name, role, since when), lets one in (their media starts) and
 * refuses another, whose page says so and who cannot come back with the same link. Both views
 * pass axe-core in French and in English.
 */
import assert from 'node:assert/strict';
import type { Page } from 'puppeteer-core';
import { seriousViolations } from '../support/axe.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import {
  announcements,
  clickJoin,
  craftedRequest,
  cutNetwork,
  joinMeeting,
  press,
  screenshot,
  sendsMedia,
  waitConnected,
} from '../support/browserMeeting.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { eventually } from '../support/wait.js';

const ROOM = 'cellule-de-crise';

function lobbyRow(participantId: string): string {
  return `[data-testid="lobby-list"] li[data-participant="${participantId}"]`;
}

function text(page: Page, selector: string): Promise<string> {
  return page.$eval(selector, (el) => el.textContent ?? '').catch(() => '');
}

describe('e2e: waiting room (lobby)', function () {
  this.timeout(240_000);
  let server: TestServer;
  let browser: TestBrowser;
  const pages: Page[] = [];

  before(async () => {
    server = await startTestServer({ RELAIS_WORKERS: '1', RELAIS_LOG_LEVEL: 'warn', RELAIS_ROOM_POLICY: 'lobby' });
    browser = await launchBrowser();
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') {
      for (const [index, page] of pages.entries()) {
        if (!page.isClosed()) await screenshot(page, `failed-lobby-${index}.png`).catch(() => undefined);
      }
    }
  });

  after(async () => {
    for (const page of pages.splice(0)) await page.close().catch(() => undefined);
    await browser?.close();
    await server?.stop();
  });

  async function open(token: string, language: 'fr' | 'en' = 'fr'): Promise<Page> {
    const page = await browser.page();
    pages.push(page);
    await page.bringToFront();
    await page.goto(`${server.url}/?lang=${language}#token=${token}`, { waitUntil: 'load' });
    return page;
  }

  /** Opens the link and asks to join; the page then waits in the lobby. */
  async function knock(sub: string, name: string, language: 'fr' | 'en' = 'fr'): Promise<Page> {
    const token = server.token({ room: ROOM, role: 'speaker', sub, name });
    const page = await open(token, language);
    await page.waitForSelector('main[data-view="join"] .join-view[data-ready="true"]');
    await clickJoin(page);
    await page.waitForSelector('main[data-view="lobby"] [data-testid="lobby-wait"]', { timeout: 30_000 });
    return page;
  }

  let moderator: Page;
  let alice: Page;
  let bruno: Page;
  const brunoToken = () => server.token({ room: ROOM, role: 'speaker', sub: 'bruno', name: 'Bruno Petit' });

  it('a newcomer waits and is told so in words; a crafted join or media request gets nowhere', async () => {
    moderator = await browser.page();
    pages.push(moderator);
    await joinMeeting(
      moderator,
      server.url,
      server.token({ room: ROOM, role: 'moderator', sub: 'cmd', name: 'Commandant Roux' }),
      {
        camera: false,
      },
    );
    assert.equal(
      await moderator.$eval('[data-testid="room-control"]', (el) => (el as HTMLElement).dataset.policy),
      'lobby',
    );
    assert.equal(await moderator.$eval('#policy-lobby', (el) => (el as HTMLInputElement).checked), true);

    alice = await knock('alice', 'Alice Martin');
    const words = await text(alice, '[data-testid="lobby-wait"]');
    assert.match(words, /Salle d’attente/);
    assert.match(words, /Vous attendez qu’un modérateur vous fasse entrer/);
    assert.equal(
      await alice.$eval('[data-testid="lobby-wait"] [role="status"]', (el) => el.textContent?.includes('Alice Martin')),
      true,
    );

    for (const [name, payload] of [
      ['join', { rtpCapabilities: { codecs: [] } }],
      ['createTransport', { direction: 'send' }],
      ['createTransport', { direction: 'recv' }],
      ['produce', { transportId: 'x', kind: 'audio', rtpParameters: {}, source: 'mic' }],
      ['consume', { producerId: 'x' }],
      ['chat', { text: 'Je suis là' }],
    ] as const) {
      const answer = await craftedRequest(alice, name, payload);
      assert.equal(answer.ok, false, name);
      assert.equal(answer.error?.code, 'IN_LOBBY', name);
    }
    assert.equal(await sendsMedia(alice), false);
  });

  it('the moderator sees who waits, with role and time, and hears of each arrival', async () => {
    bruno = await knock('bruno', 'Bruno Petit');
    await moderator.bringToFront();
    await moderator.waitForSelector(lobbyRow('bruno'));
    const row = await text(moderator, lobbyRow('alice'));
    assert.match(row, /Alice Martin/);
    assert.match(row, /intervenant/);
    assert.match(row, /attend depuis \d{2}:\d{2}/);
    assert.match(await text(moderator, '#lobby-list-title'), /En salle d’attente \(2\)/);
    await eventually('arrivals announced', async () =>
      (await announcements(moderator)).some((line) => line.includes('Bruno Petit attend en salle d’attente')),
    );
    assert.equal(
      await moderator.$eval(`${lobbyRow('alice')} [data-action="admit"]`, (el) => el.getAttribute('aria-label')),
      'Faire entrer Alice Martin',
    );
  });

  it('axe-core: no serious or critical violation on the waiting page and the moderator view (French)', async () => {
    assert.deepEqual(await seriousViolations(alice), []);
    assert.deepEqual(await seriousViolations(moderator), []);
  });

  it('let in: the page opens the meeting and media starts; refused: the page says so', async () => {
    await press(moderator, `${lobbyRow('alice')} [data-action="admit"]`);
    await waitConnected(alice);
    await eventually('Alice sends her microphone', () => sendsMedia(alice), 30_000);
    await moderator.waitForSelector('li.moderation-row[data-participant-id="alice"]');

    await press(moderator, `${lobbyRow('bruno')} [data-action="refuse"]`);
    await bruno.waitForSelector('main[data-view="ended"]', { timeout: 30_000 });
    assert.match(await text(bruno, 'main'), /Un modérateur a refusé votre entrée dans la réunion/);
    assert.match(await text(moderator, '#lobby-list-title'), /\(0\)/);
  });

  it('the refused one comes back with the same link and is refused again', async () => {
    const again = await open(brunoToken());
    await again.waitForSelector('main[data-view="join"] .join-view[data-ready="true"]');
    await clickJoin(again);
    await again.waitForSelector('main[data-view="error"]', { timeout: 30_000 });
    const words = await text(again, 'main');
    assert.match(words, /Entrée refusée/);
    assert.match(words, /ne pouvez pas revenir avant la fin de la réunion/);
    assert.equal(await sendsMedia(again), false);
  });

  it('the moderator downloads the attendance register from the page: CSV and JSON', async () => {
    // The file the page hands to the browser, caught as it is made.
    await moderator.evaluate(() => {
      const native = URL.createObjectURL.bind(URL);
      const files: Promise<string>[] = [];
      (window as unknown as { __files: Promise<string>[] }).__files = files;
      URL.createObjectURL = (blob: Blob | MediaSource) => {
        if (blob instanceof Blob) files.push(blob.text());
        return native(blob);
      };
    });
    const downloaded = () =>
      moderator.evaluate(() => Promise.all((window as unknown as { __files: Promise<string>[] }).__files));
    await press(moderator, '[data-action="export-csv"]');
    const [csv] = await eventually('the CSV file', async () => {
      const files = await downloaded();
      return files.length === 1 ? files : undefined;
    });
    assert.match(csv ?? '', /Alice Martin/);
    assert.match(csv ?? '', /Bruno Petit/);
    await press(moderator, '[data-action="export-json"]');
    const json = await eventually('the JSON file', async () => (await downloaded())[1]);
    const register = JSON.parse(json) as { people: { sub: string; lobby: { outcome: string }[] }[] };
    assert.deepEqual(
      register.people.find((p) => p.sub === 'alice')?.lobby.map((l) => l.outcome),
      ['admitted'],
    );
    assert.deepEqual(
      register.people.find((p) => p.sub === 'bruno')?.lobby.map((l) => l.outcome),
      ['refused'],
    );
    await eventually('said to the moderator', async () =>
      (await announcements(moderator)).includes('Registre de présence téléchargé'),
    );
  });

  it('axe-core in English: the waiting page and the moderator view', async () => {
    const chloe = await knock('chloe', 'Chloé Bernard', 'en');
    assert.match(
      await text(chloe, '[data-testid="lobby-wait"]'),
      /You are waiting for a moderator to let you into the meeting/,
    );
    const deputy = await open(
      server.token({ room: ROOM, role: 'moderator', sub: 'deputy', name: 'Deputy Lemaire' }),
      'en',
    );
    await deputy.waitForSelector('main[data-view="join"] .join-view[data-ready="true"]');
    await clickJoin(deputy);
    await waitConnected(deputy);
    await deputy.waitForSelector(lobbyRow('chloe'));
    assert.match(await text(deputy, '#lobby-list-title'), /In the waiting room \(1\)/);
    assert.deepEqual(await seriousViolations(chloe), []);
    assert.deepEqual(await seriousViolations(deputy), []);
  });

  it('locked: a new valid link is refused in words; a member whose connection drops comes back', async () => {
    await press(moderator, '#policy-locked');
    await eventually('everyone told', async () => (await announcements(alice)).includes('La réunion est verrouillée.'));
    const denis = await open(server.token({ room: ROOM, role: 'speaker', sub: 'denis', name: 'Denis Leroy' }));
    await denis.waitForSelector('main[data-view="join"] .join-view[data-ready="true"]');
    await clickJoin(denis);
    await denis.waitForSelector('main[data-view="failed"]', { timeout: 30_000 });
    assert.match(await text(denis, 'main'), /Réunion verrouillée/);
    assert.match(await text(denis, 'main'), /personne de nouveau ne peut y entrer/);

    await cutNetwork(alice);
    await eventually(
      'Alice reconnected',
      () => alice.$('.connection[data-state="reconnecting"], .connection[data-state="connected"]').then(Boolean),
      30_000,
    );
    await waitConnected(alice);
    await moderator.waitForSelector('li.moderation-row[data-participant-id="alice"]');
    await eventually('Alice sends again', () => sendsMedia(alice), 30_000);
  });
});
