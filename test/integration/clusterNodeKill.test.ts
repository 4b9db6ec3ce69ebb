/**
 * A node killed (`kill -9`) in the middle of a briefing over three relais processes behind a
 * TCP balancer (signalling through it, media straight to each node, as behind HAProxy). The
 * load generator's peers recover as a page does: reconnect through the balancer with backoff
 * and jitter, rejoin with the same token, receive (or publish) again.
 * 1. A listeners' node dies: the others drop it from the registry and the room; its listeners
 *    hear the commander again from a live node; the other listeners notice nothing.
 * 2. The commander's node dies: the commander publishes again from a live node, and every
 *    listener hears the new microphone, piped once to each node that needs it.
 * Issue 13 targets: 1. p95 ≤ 5 s, max ≤ 10 s; 2. ≤ 10 s (kill to audio back); asserted at twice
 * that on a shared machine, and printed (bench:resilience measures them at scale).
 */
import assert from 'node:assert/strict';
import { createClient } from 'redis';
import { type LoadResult, runLoad } from '../../bench/load/LoadGenerator.js';
import { startTcpBalancer, type TcpBalancer } from '../../tools/tcpBalancer.js';
import { backAfter, deliveredPct, killHard, running } from '../support/nodeKill.js';
import { type RelaisProcess, workerPids } from '../support/relaisProcess.js';
import { startTestCluster, type TestCluster } from '../support/threeNodeCluster.js';
import { eventually } from '../support/wait.js';

type RoomOverview = { id: string; participants: number; byNode: Record<string, number> };

async function roomOf(cluster: TestCluster, node: RelaisProcess, id: string): Promise<RoomOverview | undefined> {
  const rooms = (await cluster.admin(node, 'GET', '/rooms')).body.rooms as RoomOverview[];
  return rooms.find((room) => room.id === id);
}

async function nodeIds(cluster: TestCluster, node: RelaisProcess): Promise<string[]> {
  const nodes = (await cluster.admin(node, 'GET', '/nodes')).body.nodes as { id: string }[];
  return nodes.map((n) => n.id).sort();
}

describe('a node killed mid-briefing: its listeners come back through the balancer', function () {
  this.timeout(180_000);
  const ROOM = 'node-kill';
  const ON_NODE_3 = 100;
  const ON_NODE_2 = 20;
  let cluster: TestCluster;
  let balancer: TcpBalancer;
  let result: LoadResult;
  let killedAt = 0;
  const seen: { registryMs?: number; roomMs?: number; orphanWorkers?: number[]; workersBefore?: number[] } = {};

  before(async () => {
    cluster = await startTestCluster(3, () => ({ RELAIS_LOG_LEVEL: 'warn' }));
    const [n1, n2, n3] = cluster.nodes as [RelaisProcess, RelaisProcess, RelaisProcess];
    balancer = await startTcpBalancer(cluster.nodes.map((node) => node.httpPort));
    result = await runLoad({
      url: n1.url,
      // Listener i joins listenerUrls[i % 6]: five of six on node 3, for placement; all come back through the balancer.
      listenerUrls: [n3.url, n3.url, n3.url, n3.url, n3.url, n2.url],
      listeners: ON_NODE_3 + ON_NODE_2,
      rampSeconds: 10,
      concurrency: 12,
      durationSeconds: 8,
      processes: 2,
      decodeSample: 0,
      reconnectUrl: balancer.url,
      token: (role, sub) => cluster.token({ room: ROOM, role, sub, name: sub }),
      onSteady: async () => {
        seen.workersBefore = workerPids(n3);
        killedAt = await killHard(n3);
        await eventually(
          'node 3 gone from the registry',
          async () => !(await nodeIds(cluster, n1)).includes('node-3'),
          20_000,
          100,
        );
        seen.registryMs = Date.now() - killedAt;
        await eventually(
          'node 3 gone from the room on nodes 1 and 2, everyone counted once',
          async () => {
            for (const node of [n1, n2]) {
              const room = await roomOf(cluster, node, ROOM);
              if (!room || room.byNode['node-3'] !== undefined || room.participants !== ON_NODE_3 + ON_NODE_2 + 1)
                return false;
            }
            return true;
          },
          30_000,
          200,
        );
        seen.roomMs = Date.now() - killedAt;
        seen.orphanWorkers = await eventually(
          'node 3’s worker to end with it',
          () => ((seen.workersBefore ?? []).some(running) ? undefined : [0]),
          10_000,
          100,
        ).then(
          () => [],
          () => (seen.workersBefore ?? []).filter(running),
        );
      },
    });
    const byNode3 = result.perListener.filter((l) => l.id % 6 !== 5);
    const { spread, silent } = backAfter(byNode3, killedAt);
    console.log(
      `      node 3 killed: out of the registry after ${seen.registryMs} ms, out of the room after ${seen.roomMs} ms; ` +
        `its ${byNode3.length} listeners heard the commander again after p50 ${spread.p50} / p95 ${spread.p95} / max ${spread.max} ms ` +
        `(silent: ${silent.length}); node 2’s listeners delivered ${deliveredPct(result.perListener.filter((l) => l.id % 6 === 5))} %; ` +
        `lost across the gap ${byNode3.reduce((s, l) => s + (l.recoveries?.[0]?.lostAcrossGap ?? 0), 0)} packets; balancer placed ${JSON.stringify(placedCount(balancer, cluster))}`,
    );
  });

  after(async () => {
    await balancer?.close();
    await cluster?.stop();
  });

  it('within 20 s the other nodes know: node 3 out of the registry, its members out of the room, its worker gone', () => {
    assert.ok((seen.registryMs ?? Number.POSITIVE_INFINITY) <= 20_000);
    assert.ok((seen.workersBefore ?? []).length > 0, 'node 3 had a worker');
    assert.deepEqual(seen.orphanWorkers, [], 'no orphan mediasoup worker');
  });

  it('every listener of node 3 hears the commander again (p95 ≤ 10 s, max ≤ 20 s from the kill), the room counts each once', () => {
    const byNode3 = result.perListener.filter((l) => l.id % 6 !== 5);
    assert.equal(byNode3.length, ON_NODE_3);
    const { spread, silent } = backAfter(byNode3, killedAt);
    assert.deepEqual(silent, [], 'listeners of node 3 that never heard the commander again');
    assert.ok(spread.p95 <= 10_000, `p95 ${spread.p95} ms`);
    assert.ok(spread.max <= 20_000, `max ${spread.max} ms`);
    assert.ok((seen.roomMs ?? 0) > 0, 'the room was whole again, each person once');
  });

  it('the listeners of node 2 noticed nothing: no interruption, ≥ 98 % delivered', () => {
    const byNode2 = result.perListener.filter((l) => l.id % 6 === 5);
    assert.equal(byNode2.length, ON_NODE_2);
    assert.deepEqual(
      byNode2.filter((l) => l.recoveries).map((l) => l.id),
      [],
    );
    assert.ok(deliveredPct(byNode2) >= 98, `${deliveredPct(byNode2)} % delivered`);
  });
});

describe('the commander’s node killed mid-briefing: the commander publishes again elsewhere', function () {
  this.timeout(180_000);
  const ROOM = 'commander-node-kill';
  const LISTENERS = 60;
  let cluster: TestCluster;
  let balancer: TcpBalancer;
  let result: LoadResult;
  let killedAt = 0;
  let pipesAtEnd: Record<string, Record<string, number>> = {};
  let sharedProducers: { node: string; participantId: string }[] = [];

  before(async () => {
    cluster = await startTestCluster(3, () => ({ RELAIS_LOG_LEVEL: 'warn' }));
    const [n1, n2, n3] = cluster.nodes as [RelaisProcess, RelaisProcess, RelaisProcess];
    // Node 1 last in the balancer's list: the commander's first retry goes to a live node either way.
    balancer = await startTcpBalancer([n2.httpPort, n3.httpPort, n1.httpPort]);
    result = await runLoad({
      url: n1.url,
      listenerUrls: [n2.url, n3.url],
      listeners: LISTENERS,
      rampSeconds: 6,
      concurrency: 10,
      durationSeconds: 20,
      processes: 2,
      decodeSample: 0,
      reconnectUrl: balancer.url,
      token: (role, sub) => cluster.token({ room: ROOM, role, sub, name: sub }),
      onSteady: async () => {
        killedAt = await killHard(n1);
      },
      onSteadyEnd: async () => {
        // By now node 1 is long known dead: only the new microphone's pipes remain.
        pipesAtEnd = {};
        for (const node of [n2, n3]) pipesAtEnd[node.url] = await cluster.mediaHeld(node);
        sharedProducers = await producersInRedis(cluster, ROOM);
      },
    });
    const { spread, silent } = backAfter(result.perListener, killedAt);
    const speaker = result.speakerRecoveries[0];
    console.log(
      `      node 1 (the commander’s) killed: commander published again after ${(speaker?.republishedAt ?? Number.NaN) - killedAt} ms ` +
        `(${speaker?.attempts} attempt(s)); ${LISTENERS} listeners heard it again after p50 ${spread.p50} / p95 ${spread.p95} / max ${spread.max} ms ` +
        `(silent: ${silent.length}); pipes at the end: ${JSON.stringify(Object.values(pipesAtEnd))}`,
    );
  });

  after(async () => {
    await balancer?.close();
    await cluster?.stop();
  });

  it('the commander reconnects through the balancer and publishes again on a live node', () => {
    assert.equal(result.speakerRecoveries.length, 1, JSON.stringify(result.speakerRecoveries));
    assert.ok(result.speakerRecoveries[0]?.republishedAt, JSON.stringify(result.speakerRecoveries));
  });

  it('every listener on nodes 2 and 3 hears the commander again within 20 s of the kill', () => {
    assert.equal(result.perListener.length, LISTENERS);
    const { spread, silent } = backAfter(result.perListener, killedAt);
    assert.deepEqual(silent, [], 'listeners that never heard the commander again');
    assert.ok(spread.max <= 20_000, `max ${spread.max} ms`);
    assert.ok(
      result.perListener.every((l) => l.recoveries?.every((r) => r.cause === 'producer-changed')),
      'listeners kept their session: only the producer changed',
    );
  });

  it('the shared room state holds the new microphone only (node 1’s removed as the node died)', () => {
    assert.equal(sharedProducers.length, 1, JSON.stringify(sharedProducers));
    assert.notEqual(sharedProducers[0]?.node, 'node-1');
    assert.equal(sharedProducers[0]?.participantId, 'load-speaker');
  });

  it('the new microphone reaches the other live node through exactly one pipe', () => {
    const held = Object.values(pipesAtEnd);
    assert.equal(held.length, 2);
    // One node holds the commander now and sends one pipe; the other receives exactly one.
    const origin = held.find((h) => h.pipes_out === 1);
    const receiver = held.find((h) => h.pipes_in === 1);
    assert.ok(origin && receiver && origin !== receiver, JSON.stringify(held));
    assert.equal(origin.pipes_in, 0, JSON.stringify(held));
    assert.equal(receiver.pipes_out, 0, JSON.stringify(held));
  });
});

async function producersInRedis(
  cluster: TestCluster,
  room: string,
): Promise<{ node: string; participantId: string }[]> {
  const client = createClient({ url: cluster.redis.url });
  await client.connect();
  try {
    const records = await client.hVals(`relais:room:{${room}}:producers`);
    return records.map((record) => JSON.parse(record) as { node: string; participantId: string });
  } finally {
    await client.close();
  }
}

function placedCount(balancer: TcpBalancer, cluster: TestCluster): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const port of balancer.placed) {
    const index = cluster.nodes.findIndex((node) => node.httpPort === port);
    const name = index >= 0 ? `node-${index + 1}` : 'none';
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}
