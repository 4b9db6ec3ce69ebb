/**
 * A link that does not open the meeting: the page says why in words, offers nothing to
 * click, and the server records the refusal as an audit event.
 */
import assert from 'node:assert/strict';
import { issueToken } from '../../server/src/auth/tokenIssuer.js';
import type { Page } from 'puppeteer-core';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { clickJoin, openLink, waitConnected } from '../support/browserMeeting.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { eventually } from '../support/wait.js';

const ADMIN_KEY = 'relais-admin-key-for-e2e-tests-0123456789abcdef';

describe('e2e: access links', function () {
  this.timeout(90_000);
  let server: TestServer;
  let browser: TestBrowser;
  let page: Page | undefined;

  before(async () => {
    server = await startTestServer({ RELAIS_LOG_LEVEL: 'info', RELAIS_ADMIN_KEY: ADMIN_KEY });
    browser = await launchBrowser();
  });

  afterEach(async () => {
    await page?.close().catch(() => undefined);
    page = undefined;
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function refusalShown(): Promise<{ title: string; text: string; controls: number }> {
    if (!page) throw new Error('no page open');
    await page.waitForSelector('main[data-view="error"] h1', { timeout: 30_000 });
    return page.$eval('main', (main) => ({
      title: main.querySelector('h1')?.textContent ?? '',
      text: main.textContent ?? '',
      controls: main.querySelectorAll('button, input, select, textarea, video, a[href]').length,
    }));
  }

  /** The page's own words only: the server's message text is never shown (nor decided on). */
  function ownWordsOnly(text: string): void {
    assert.doesNotMatch(text, /Réponse du serveur|Server response|UNAUTHORIZED|invalid token|jwt/i);
  }

  function authFailures(): Record<string, unknown>[] {
    return server.logs.filter((line) => line.audit === true && line.event === 'auth.failed');
  }

  it('a token signed with the wrong key: refused in words, nothing else offered, audit event logged', async () => {
    const forged = issueToken(
      { algorithm: 'HS256', key: 'not-the-server-secret-not-the-server-secret' },
      { room: 'cellule', role: 'moderator', name: 'Mallory', ttlSeconds: 600 },
    );
    const before = authFailures().length;
    page = await browser.page();
    await openLink(page, server.url, forged);
    // The name in the token is only a greeting until the server has checked it.
    await clickJoin(page);
    const shown = await refusalShown();
    assert.equal(shown.title, 'Lien d’accès refusé');
    assert.match(shown.text, /Ce lien d’accès n’est pas valide\. Demandez un nouveau lien/);
    ownWordsOnly(shown.text);
    assert.equal(shown.controls, 0, 'no button, field or preview is offered');
    assert.equal(
      await page.$eval('main h1', (h1) => h1.closest('[role="alert"]') !== null),
      true,
      'announced to screen readers',
    );
    await eventually('the audit event', async () => authFailures().length > before);
    const event = authFailures().at(-1);
    assert.ok(event);
    assert.equal(JSON.stringify(event).includes(forged), false, 'the token itself is never logged');
  });

  it('an expired token: says it expired, without a camera preview, audit event logged', async () => {
    const key = server.server.issuerKey;
    assert.ok(key, 'the test server signs its own tokens');
    const expired = issueToken(key, {
      room: 'cellule',
      role: 'speaker',
      name: 'Paul',
      ttlSeconds: -60,
    });
    const before = authFailures().length;
    page = await browser.page();
    await openLink(page, server.url, expired);
    const shown = await refusalShown();
    assert.equal(shown.title, 'Lien d’accès expiré');
    assert.match(shown.text, /Ce lien d’accès a expiré\./);
    ownWordsOnly(shown.text);
    assert.equal(shown.controls, 0);
    await eventually('the audit event', async () =>
      authFailures()
        .slice(before)
        .some((line) => /expired/i.test(String(line.reason))),
    );
  });

  it('access revoked by an administrator during a briefing: said in words, no way back in', async () => {
    page = await browser.page();
    const token = server.token({
      room: 'point-de-situation',
      role: 'listener',
      sub: 'prefecture-59-poste-3',
      name: 'Préfecture 59',
    });
    await openLink(page, server.url, token);
    await clickJoin(page);
    await waitConnected(page);
    const response = await fetch(`${server.url}/admin/revocations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sub: 'prefecture-59-poste-3', reason: 'poste déclaré volé' }),
    });
    assert.equal(response.status, 201);
    await page.waitForSelector('main[data-view="ended"]', { timeout: 15_000 });
    const shown = await page.$eval('main', (main) => ({
      text: main.textContent ?? '',
      actions: [...main.querySelectorAll('button')].map((b) => (b as HTMLElement).dataset.action),
    }));
    assert.match(shown.text, /Votre accès a été révoqué par un administrateur\./);
    assert.ok(!shown.actions.includes('rejoin'), 'no way back in with the revoked link');
    // The same link again, in a new tab: the server refuses it, and the page says why.
    await page.close();
    page = await browser.page();
    await openLink(page, server.url, token);
    await clickJoin(page);
    const refused = await refusalShown();
    assert.equal(refused.title, 'Lien d’accès refusé');
    assert.match(refused.text, /Ce lien d’accès a été révoqué par un administrateur\./);
    ownWordsOnly(refused.text);
  });

  it('a link without a usable token says so', async () => {
    page = await browser.page();
    await page.goto(`${server.url}/#token=not-a-token`);
    const shown = await refusalShown();
    assert.equal(shown.title, 'Lien d’accès refusé');
    assert.match(shown.text, /Ce lien d’accès n’est pas valide\./);
    assert.equal(shown.controls, 0);
    await page.goto(`${server.url}/`);
    await page.reload();
    const missing = await refusalShown();
    assert.equal(missing.title, 'Lien d’accès manquant');
    // English is available: the same refusal in the page's English words.
    await page.goto(`${server.url}/?lang=en#token=not-a-token`);
    const english = await refusalShown();
    assert.equal(english.title, 'Access link refused');
    assert.match(english.text, /This access link is not valid\./);
  });

  it('a server that cannot be reached: said at once, with retry and leave', async () => {
    page = await browser.page();
    // A network that lets the page load but cuts the signalling connection.
    // (A string: code compiled by the test runner may reference helpers the page lacks.)
    await page.evaluateOnNewDocument(`
      window.WebSocket = class CutWebSocket extends EventTarget {
        constructor() {
          super();
          this.readyState = 0;
          this.binaryType = 'blob';
          setTimeout(() => {
            this.readyState = 3;
            if (this.onerror) this.onerror(new Event('error'));
            if (this.onclose) this.onclose(new CloseEvent('close', { code: 1006 }));
          }, 50);
        }
        send() {}
        close() {}
      };
    `);
    await openLink(page, server.url, server.token({ room: 'cellule', role: 'listener', sub: 'far', name: 'Loin' }));
    await page.waitForSelector('[data-action="join"]');
    await clickJoin(page);
    await page.waitForSelector('main[data-view="failed"] h1');
    assert.equal(await page.$eval('main h1', (h1) => h1.textContent), 'Connexion au serveur impossible');
    const actions = await page.$$eval('main button', (buttons) =>
      buttons.map((b) => (b as HTMLElement).dataset.action),
    );
    assert.deepEqual(actions, ['retry', 'leave']);
  });

  it('a browser without WebRTC gets a clear message instead of a broken page', async () => {
    page = await browser.page();
    await page.evaluateOnNewDocument(() => {
      delete (window as unknown as Record<string, unknown>).RTCPeerConnection;
    });
    await page.goto(
      `${server.url}/#token=${server.token({ room: 'cellule', role: 'speaker', sub: 'old', name: 'Vieux navigateur' })}`,
    );
    await page.waitForSelector('main[data-view="unsupported"] h1');
    const title = await page.$eval('main h1', (h1) => h1.textContent);
    assert.equal(title, 'Ce navigateur ne permet pas la visioconférence');
    // It says what to use instead: the supported browsers, with their versions.
    const body = await page.$eval('main', (main) => main.textContent ?? '');
    assert.match(body, /Firefox ESR 140/);
    assert.match(body, /Safari 15/);
  });
});
