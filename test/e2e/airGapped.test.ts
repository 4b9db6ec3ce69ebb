/**
 * relais must run air-gapped: the page, its scripts and its WebRTC connections reach nothing
 * but the relais server. Every request the browser makes during a meeting is recorded, and
 * every RTCPeerConnection's configuration is checked for STUN/TURN servers.
 */
import assert from 'node:assert/strict';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { joinMeeting } from '../support/browserMeeting.js';
import { startTestServer, type TestServer } from '../support/server.js';

describe('air-gapped: the client contacts nothing but its server', function () {
  this.timeout(120_000);
  let t: TestServer;
  let chromium: TestBrowser;

  before(async () => {
    t = await startTestServer({ RELAIS_WORKERS: '1' });
    chromium = await launchBrowser();
  });
  after(async () => {
    await chromium?.close();
    await t?.stop();
  });

  it('loads, joins and exchanges media with requests to the relais origin only and no ICE servers', async () => {
    const page = await chromium.page();
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    await page.evaluateOnNewDocument(() => {
      const configs: unknown[] = [];
      (window as unknown as { __pcConfigs: unknown[] }).__pcConfigs = configs;
      const Native = window.RTCPeerConnection;
      window.RTCPeerConnection = class extends Native {
        constructor(config?: RTCConfiguration) {
          configs.push(JSON.parse(JSON.stringify(config ?? {})));
          super(config);
        }
      } as typeof RTCPeerConnection;
    });
    await joinMeeting(page, t.url, t.token({ room: 'airgap', role: 'speaker', sub: 'a', name: 'Agent A' }));

    const origin = new URL(t.url).origin;
    const foreign = requests.filter(
      (url) =>
        !url.startsWith(`${origin}/`) && !url.startsWith(origin.replace('http', 'ws')) && !/^(data|blob):/.test(url),
    );
    assert.deepEqual(foreign, [], 'requests outside the relais origin');
    assert.ok(
      requests.some((url) => url.includes('/assets/')),
      'the bundled client came from the server',
    );

    const configs =
      (await page.evaluate(() => (window as unknown as { __pcConfigs: { iceServers?: unknown[] }[] }).__pcConfigs)) ??
      [];
    assert.ok(configs.length >= 1, 'peer connections were created');
    for (const config of configs) assert.deepEqual(config.iceServers ?? [], [], 'no STUN/TURN server configured');

    const res = await fetch(`${t.url}/`);
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    const html = await res.text();
    const asset = /src="\.?(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(asset, 'index.html names its script');
    const script = await fetch(`${t.url}${asset}`);
    assert.match(script.headers.get('cache-control') ?? '', /immutable/);
    // The live client holds the socket whose handshake carries the token: nothing hands it to other scripts.
    assert.doesNotMatch(await script.text(), /window\.relais\b/, 'the bundle exposes no window.relais');
    assert.equal(await page.evaluate(() => 'relais' in window), false, 'no relais global in the page');
  });
});
