/**
 * Spreading a room over workers under a burst of arrivals: placements that race must not open
 * two routers on one worker nor leave a listener on a router its transport is not on.
 */
import assert from 'node:assert/strict';
import { type RequestFailed, SignallingClient } from '../support/signallingClient.js';
import { startTestServer, type TestServer } from '../support/server.js';

describe('fan-out over workers under concurrent arrivals', function () {
  this.timeout(60_000);
  let t: TestServer;
  const clients: SignallingClient[] = [];

  before(async () => {
    t = await startTestServer({ RELAIS_WORKERS: '2', RELAIS_CONSUMERS_PER_ROUTER: '3' });
  });
  after(async () => {
    for (const client of clients) client.close();
    await t?.stop();
  });

  it('places 12 simultaneous listeners on two routers, evenly, and each can consume', async () => {
    const { client: speaker } = await SignallingClient.join(
      t.url,
      t.token({ room: 'burst', role: 'speaker', sub: 'cmd' }),
    );
    clients.push(speaker);
    const send = await speaker.request('createTransport', { direction: 'send' });
    const { producerId } = await speaker.request('produce', {
      transportId: send.id,
      kind: 'audio',
      source: 'mic',
      rtpParameters: {
        codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }],
        encodings: [{ ssrc: 4242 }],
        rtcp: { cname: 'c' },
      },
    });

    const listeners = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const { client } = await SignallingClient.join(
          t.url,
          t.token({ room: 'burst', role: 'listener', sub: `l${i}` }),
        );
        clients.push(client);
        return client;
      }),
    );
    // All at once, and each listener twice: the second of a pair must be refused, not doubled.
    const results = await Promise.allSettled(
      listeners.flatMap((c) => [
        c.request('createTransport', { direction: 'recv' }),
        c.request('createTransport', { direction: 'recv' }),
      ]),
    );
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 12);
    assert.ok(
      results
        .filter((r) => r.status === 'rejected')
        .every((r) => ((r as PromiseRejectedResult).reason as RequestFailed).error.code === 'CONFLICT'),
    );

    const consumed = await Promise.all(listeners.map((c) => c.request('consume', { producerId })));
    assert.equal(consumed.length, 12);
    const loads = t.server.signalling.room('burst')?.media.routerLoads() ?? {};
    assert.deepEqual(Object.keys(loads).sort(), ['0', '1'], 'one router per worker');
    assert.deepEqual(Object.values(loads).sort(), [6, 6], 'evenly spread');
  });
});
