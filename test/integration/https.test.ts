import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { SignallingClient } from '../support/signallingClient.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { makeTestCertificate } from '../support/testCertificate.js';

function getHealth(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(`${url}/healthz`, { ca }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('HTTPS when a certificate and key are configured', function () {
  this.timeout(30_000);
  let dir: string;
  let t: TestServer | undefined;

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'relais-tls-'));
    makeTestCertificate(dir);
  });

  after(async () => {
    await t?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves health and authenticated signalling over TLS only', async () => {
    t = await startTestServer({
      RELAIS_TLS_CERT_FILE: path.join(dir, 'cert.pem'),
      RELAIS_TLS_KEY_FILE: path.join(dir, 'key.pem'),
    });
    assert.match(t.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const ca = readFileSync(path.join(dir, 'cert.pem'), 'utf8');
    assert.deepEqual(await getHealth(t.url, ca), { status: 200, body: '{"status":"ok"}' });
    await assert.rejects(fetch(`${t.url.replace('https:', 'http:')}/healthz`));

    const client = await SignallingClient.connect(t.url, t.token({ room: 'tls', role: 'speaker', sub: 'sec' }), { ca });
    const { rtpCapabilities } = await client.request('getRouterRtpCapabilities', {});
    assert.ok(Array.isArray(rtpCapabilities.codecs));
    client.close();
  });
});
