import assert from 'node:assert/strict';
import { SignallingClient } from '../support/signallingClient.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { eventually } from '../support/wait.js';

describe('a mediasoup worker that dies', function () {
  this.timeout(30_000);
  let t: TestServer;
  const clients: SignallingClient[] = [];

  before(async () => {
    t = await startTestServer({ RELAIS_WORKERS: '1' });
  });
  after(async () => {
    for (const client of clients) client.close();
    await t?.stop();
  });

  it('is logged loudly, replaced, its rooms told, and new meetings work again', async () => {
    const token = t.token({ room: 'crash', role: 'speaker', sub: 'victim' });
    const { client: victim } = await SignallingClient.join(t.url, token);
    clients.push(victim);

    const oldPid = t.server.pool.at(0)?.worker.pid;
    assert.ok(oldPid);
    process.kill(oldPid, 'SIGKILL');

    assert.deepEqual(await victim.next('sessionEnded'), { reason: 'media-lost' });
    assert.ok(
      t.logs.some((l) => l.level === 60 && /worker died/.test(String(l.msg))),
      'fatal log line',
    );
    await eventually('the worker replaced', () => t.server.pool.ready && t.server.pool.at(0)?.worker.pid !== oldPid);
    const res = await fetch(`${t.url}/readyz`);
    assert.equal(res.status, 200);

    const { client: again } = await SignallingClient.join(
      t.url,
      t.token({ room: 'crash', role: 'speaker', sub: 'victim' }),
    );
    clients.push(again);
    const transport = await again.request('createTransport', { direction: 'send' });
    assert.ok(transport.id);
  });
});

describe('browsers in a room whose worker dies', function () {
  this.timeout(120_000);

  it('rejoin by themselves and hear each other again', async () => {
    const { launchChromium, harness } = await import('../support/harness/chromiumHarness.js');
    const t = await startTestServer({ RELAIS_WORKERS: '1' });
    const chromium = await launchChromium();
    try {
      const speaker = await chromium.open(t.url);
      const listener = await chromium.open(t.url);
      await harness(speaker, 'join', 's', t.token({ room: 'phoenix', role: 'speaker', sub: 'spk' }));
      await harness(speaker, 'publish', 's', ['mic']);
      await harness(listener, 'join', 'l', t.token({ room: 'phoenix', role: 'listener', sub: 'lst' }));
      await eventually(
        'audio before the crash',
        async () => (await harness(listener, 'remoteTracks', 'l')).length === 1,
        20_000,
      );

      const oldPid = t.server.pool.at(0)?.worker.pid;
      assert.ok(oldPid);
      process.kill(oldPid, 'SIGKILL');

      const packets = await eventually(
        'audio flowing again through the replacement worker',
        async () => {
          const room = t.server.signalling.room('phoenix');
          if (!room || t.server.pool.at(0)?.worker.pid === oldPid) return undefined;
          if (room.media.counts().producers !== 1) return undefined;
          const stats = await harness(listener, 'stats', 'l');
          const audio = stats
            .filter((s) => s.kind === 'audio')
            .sort((a, b) => b.packetsReceived - a.packetsReceived)[0];
          return audio && audio.packetsReceived > 50 ? audio.packetsReceived : undefined;
        },
        60_000,
      );
      assert.ok(packets > 50);
    } finally {
      await chromium.close();
      await t.stop();
    }
  });
});
