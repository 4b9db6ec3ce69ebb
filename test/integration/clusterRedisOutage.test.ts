/**
 * Redis down for 30 s in the middle of a briefing over three relais processes: the meeting goes
 * on (media does not pass through Redis), liveness stays up while readiness says Redis is gone,
 * a join meanwhile is refused with a clear UNAVAILABLE, and once Redis is back (restarted from
 * its append-only file) the nodes write their sessions back: the room is whole, revocations kept.
 */
import assert from 'node:assert/strict';
import jwt from 'jsonwebtoken';
import { type LoadResult, runLoad } from '../../bench/load/LoadGenerator.js';
import type { RelaisProcess } from '../support/relaisProcess.js';
import { HandshakeRefused, SignallingClient } from '../support/signallingClient.js';
import { startTestCluster, type TestCluster } from '../support/threeNodeCluster.js';
import { eventually } from '../support/wait.js';

const ROOM = 'outage-briefing';
const LISTENERS = 40;
const OUTAGE_MS = 30_000;

describe('Redis down for 30 s mid-briefing (three nodes, 40 listeners)', function () {
  this.timeout(240_000);
  let cluster: TestCluster;
  let nodes: [RelaisProcess, RelaisProcess, RelaisProcess];
  let result: LoadResult;
  const during: { healthz: number[]; readyz: { status: number; redis?: string }[]; joinRefusal?: string } = {
    healthz: [],
    readyz: [],
  };
  let outage: Promise<void> | undefined;
  const revokedToken = () => cluster.token({ room: ROOM, role: 'listener', sub: 'revoked-person', name: 'X' });
  let revoked = '';

  before(async () => {
    cluster = await startTestCluster(3, () => ({ RELAIS_LOG_LEVEL: 'warn' }), { redisAppendOnly: true });
    nodes = cluster.nodes as [RelaisProcess, RelaisProcess, RelaisProcess];
    const [n1, n2, n3] = nodes;
    revoked = revokedToken();
    const { jti } = jwt.decode(revoked) as { jti: string };
    const posted = await fetch(`${n2.url}/admin/revocations`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${'relais-admin-key-for-cluster-tests-0123456789'}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ jti }),
    });
    assert.equal(posted.status, 201);

    result = await runLoad({
      url: n1.url,
      listenerUrls: [n2.url, n3.url],
      listeners: LISTENERS,
      rampSeconds: 5,
      concurrency: 10,
      durationSeconds: OUTAGE_MS / 1000 + 10,
      processes: 0,
      decodeSample: 4,
      token: (role, sub) => cluster.token({ room: ROOM, role, sub, name: sub }),
      onSteady: () => {
        outage = (async () => {
          await cluster.redis.kill();
          const started = Date.now();
          await new Promise((resolve) => setTimeout(resolve, 3000));
          for (const node of nodes) {
            during.healthz.push((await fetch(`${node.url}/healthz`)).status);
            const ready = await fetch(`${node.url}/readyz`);
            during.readyz.push({ status: ready.status, redis: ((await ready.json()) as { redis?: string }).redis });
          }
          const late = await SignallingClient.connect(
            n2.url,
            cluster.token({ room: ROOM, role: 'listener', sub: 'late-during-outage', name: 'late' }),
          );
          const { rtpCapabilities } = await late.request('getRouterRtpCapabilities', {});
          during.joinRefusal = (await late.requestRefused('join', { rtpCapabilities })).code;
          late.close();
          await new Promise((resolve) => setTimeout(resolve, Math.max(0, OUTAGE_MS - (Date.now() - started))));
          await cluster.redis.restart();
        })();
      },
    });
    await outage;
    const { perListener: _perListener, generatorPids: _pids, ...summary } = result;
    console.log(`      through a 30 s Redis outage: ${JSON.stringify(summary)}`);
  });

  after(async () => {
    await cluster?.stop();
  });

  it('the briefing goes on: every listener keeps receiving the commander (delivered ≥ 99 % asked of the benchmark)', () => {
    assert.equal(result.failedJoins, 0, JSON.stringify(result.errors));
    assert.ok(result.deliveredPct >= 97, `delivered ${result.deliveredPct} % through the outage`);
    assert.equal(result.audioCheckPassed, result.audioChecked);
  });

  it('liveness stays 200, readiness says Redis is unreachable, a join meanwhile is refused UNAVAILABLE', () => {
    assert.deepEqual(during.healthz, [200, 200, 200]);
    assert.deepEqual(during.readyz, [
      { status: 503, redis: 'unreachable' },
      { status: 503, redis: 'unreachable' },
      { status: 503, redis: 'unreachable' },
    ]);
    assert.equal(during.joinRefusal, 'UNAVAILABLE');
  });

  it('Redis back from its append-only file: every node ready, the room whole again, the revocation still in force', async () => {
    for (const node of nodes)
      await eventually(
        `${node.url} ready again`,
        async () => (await fetch(`${node.url}/readyz`)).status === 200,
        20_000,
      );
    // The listeners left at the end of the run; a new member finds the room's state writable and readable.
    const { client, joined } = await SignallingClient.join(
      nodes[2].url,
      cluster.token({ room: ROOM, role: 'moderator', sub: 'after', name: 'After' }),
    );
    assert.equal(joined.self.id, 'after');
    client.close();
    await assert.rejects(
      SignallingClient.connect(nodes[1].url, revoked),
      (error: unknown) => error instanceof HandshakeRefused && error.error.reason === 'revoked',
    );
  });
});
