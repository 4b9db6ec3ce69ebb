import assert from 'node:assert/strict';
import type { ParticipantView } from '../../server/src/signalling/catalog.js';
import { runLoad, type LoadResult } from '../../bench/load/LoadGenerator.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { SignallingClient } from '../support/signallingClient.js';
import { eventually } from '../support/wait.js';

const ROOM = 'briefing-ci';
const LISTENERS = 50;

/**
 * A briefing with 50 real WebRTC listeners (ICE + DTLS-SRTP through libdatachannel, joined by
 * the load generator in this process) on a room spread over two workers.
 */
describe('briefing: 50 real WebRTC listeners over two workers', function () {
  this.timeout(180_000);
  let server: TestServer;
  let moderator: SignallingClient;
  let observer: SignallingClient;
  const moderatorView = new Map<string, ParticipantView>();
  let result: LoadResult;
  let routerLoads: Record<number, number> = {};
  let viewAtSteady = { listeners: 0, speakers: 0 };

  before(async () => {
    // A low threshold spreads 50 listeners over both workers' routers.
    server = await startTestServer({
      RELAIS_WORKERS: '2',
      RELAIS_CONSUMERS_PER_ROUTER: '20',
      RELAIS_LOG_LEVEL: 'warn',
    });
    const entered = await SignallingClient.join(
      server.url,
      server.token({ room: ROOM, role: 'moderator', sub: 'mod' }),
    );
    moderator = entered.client;
    for (const p of entered.joined.participants) moderatorView.set(p.id, p);
    moderator.socket.on('participantJoined', (p) => moderatorView.set(p.id, p));
    moderator.socket.on('participantLeft', ({ participantId }) => moderatorView.delete(participantId));

    // A listener without media, watching what listeners are shown: the throttled summary.
    ({ client: observer } = await SignallingClient.join(
      server.url,
      server.token({ room: ROOM, role: 'listener', sub: 'observer' }),
    ));

    result = await runLoad({
      url: server.url,
      listeners: LISTENERS,
      rampSeconds: 10,
      concurrency: 10,
      durationSeconds: 5,
      processes: 0,
      decodeSample: 3,
      token: (role, sub) => server.token({ room: ROOM, role, sub, name: sub }),
      onSteady: () => {
        routerLoads = server.server.signalling.room(ROOM)?.media.routerLoads() ?? {};
        const views = [...moderatorView.values()];
        viewAtSteady = {
          listeners: views.filter((p) => p.role === 'listener').length,
          speakers: views.filter((p) => p.role === 'speaker').length,
        };
      },
    });
    const { perListener: _perListener, ...summary } = result;
    console.log(`      briefing: ${JSON.stringify({ ...summary, routerLoads })}`);
  });

  after(async () => {
    moderator?.close();
    observer?.close();
    await server?.stop();
  });

  it('joins every listener and each one receives the speaker’s stream', () => {
    assert.equal(result.failedJoins, 0, JSON.stringify(result.errors));
    const silent = result.perListener.filter((l) => l.received === 0);
    assert.deepEqual(
      silent.map((l) => l.id),
      [],
      'listeners that received no audio',
    );
    for (const l of result.perListener)
      assert.ok(l.received >= l.expected * 0.9, `listener ${l.id} got ${l.received}/${l.expected}`);
  });

  it('delivers the real tone, decoded, to the sampled listeners', () => {
    assert.ok(result.audioChecked >= 3, `${result.audioChecked} listeners decoded`);
    assert.equal(result.audioCheckPassed, result.audioChecked);
  });

  it('spreads the listeners over more than one router, no router above its share', () => {
    const loads = Object.values(routerLoads);
    assert.ok(loads.length > 1, `routers used: ${JSON.stringify(routerLoads)}`);
    assert.equal(
      loads.reduce((a, b) => a + b, 0),
      LISTENERS,
      `consumers per router: ${JSON.stringify(routerLoads)}`,
    );
    for (const load of loads)
      assert.ok(load > 0 && load <= Math.ceil(LISTENERS / 2) + 1, `unbalanced: ${JSON.stringify(routerLoads)}`);
  });

  it('shows the moderator every participant, and listeners the right count', async () => {
    // The load's listeners and the observer are listeners; the load's speaker is the speaker.
    assert.deepEqual(viewAtSteady, { listeners: LISTENERS + 1, speakers: 1 });
    const summary = await observer
      .next('roomSummary', (s) => s.participants === LISTENERS + 3, 5_000)
      .catch(() => undefined);
    const seen = observer.received('roomSummary').map((s) => s.participants);
    assert.ok(summary || seen.includes(LISTENERS + 3), `summaries seen: ${seen.join(',')}`);
  });

  it('frees every listener’s media and view when they leave', async () => {
    await eventually('the moderator’s view to shrink to one participant', () => moderatorView.size === 1);
    assert.deepEqual(
      [...moderatorView.values()].map((p) => p.id),
      ['observer'],
    );
    const counts = server.server.signalling.room(ROOM)?.media.counts();
    assert.equal(counts?.consumers, 0);
    assert.equal(counts?.routers, 1, 'the fan-out router is closed once nobody receives there');
  });
});
