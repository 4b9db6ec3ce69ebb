/**
 * Draining a node of a cluster (three relais processes, a private Redis): an operator asks any
 * node to drain node 3; node 3 takes no newcomer (joins redirected), tells each participant to
 * continue elsewhere — spread over the other nodes, at a bounded rate — and stops by itself once
 * nobody is left. Everyone moved rejoins at the node named, and the room is whole.
 */
import assert from 'node:assert/strict';
import type { RelaisProcess } from '../support/relaisProcess.js';
import { SignallingClient } from '../support/signallingClient.js';
import { startTestCluster, type TestCluster } from '../support/threeNodeCluster.js';
import { eventually } from '../support/wait.js';

const ROOM = 'drain';
const ON_NODE_3 = 30;

describe('draining a node: its participants continue on the others, then it stops', function () {
  this.timeout(180_000);
  let cluster: TestCluster;
  const clients: SignallingClient[] = [];

  before(async () => {
    cluster = await startTestCluster(3, () => ({ RELAIS_LOG_LEVEL: 'warn', RELAIS_DRAIN_RATE: '10' }));
  });

  after(async () => {
    for (const client of clients) client.close();
    await cluster?.stop();
  });

  it('moves 30 listeners of node 3 to nodes 1 and 2 (told why and where), redirects newcomers, then exits', async () => {
    const [n1, n2, n3] = cluster.nodes as [RelaisProcess, RelaisProcess, RelaisProcess];
    const token = (sub: string, role: 'moderator' | 'listener' = 'listener') =>
      cluster.token({ room: ROOM, role, sub, name: sub });
    const { client: moderator } = await SignallingClient.join(n1.url, token('chief', 'moderator'));
    clients.push(moderator);
    const onNode3: SignallingClient[] = [];
    for (let i = 0; i < ON_NODE_3; i++) {
      const { client } = await SignallingClient.join(n3.url, token(`post-${i}`));
      onNode3.push(client);
      clients.push(client);
    }

    assert.equal((await cluster.admin(n1, 'POST', '/nodes/node-9/drain')).status, 404, 'no such node');
    assert.equal((await cluster.admin(n1, 'POST', '/nodes/bad%20id/drain')).status, 400);
    const answer = await cluster.admin(n1, 'POST', '/nodes/node-3/drain');
    assert.equal(answer.status, 202);
    assert.deepEqual(answer.body, { node: 'node-3', sessions: ON_NODE_3, state: 'draining' });

    // A newcomer at node 3 meanwhile is sent elsewhere.
    const late = await SignallingClient.connect(n3.url, token('late-comer')).catch(() => undefined);
    if (late) {
      clients.push(late);
      const refusal = await late.requestRefused('getRouterRtpCapabilities', {});
      assert.equal(refusal.code, 'REDIRECT');
      assert.notEqual(refusal.redirect?.node, 'node-3');
    }

    const moved = await Promise.all(onNode3.map((client) => client.next('sessionEnded', () => true, 60_000)));
    const targets = moved.map((ended) => {
      assert.equal(ended.reason, 'node-draining');
      assert.ok(ended.redirect, 'each is told where to continue');
      return ended.redirect;
    });
    const byNode: Record<string, number> = {};
    for (const target of targets) if (target) byNode[target.node] = (byNode[target.node] ?? 0) + 1;
    assert.deepEqual(Object.keys(byNode).sort(), ['node-1', 'node-2'], 'spread over both other nodes');

    // Each follows the redirect and is back in the meeting.
    const urls: Record<string, string> = { 'node-1': n1.url, 'node-2': n2.url };
    for (const [i, target] of targets.entries()) {
      assert.equal(target?.url, urls[target?.node ?? '']);
      const { client } = await SignallingClient.join(target?.url ?? '', token(`post-${i}`));
      clients.push(client);
    }
    await eventually('node 3 to stop by itself once drained', async () => !n3.alive, 60_000);
    const room = await eventually('the whole room counted on the other nodes', async () => {
      const rooms = (await cluster.admin(n2, 'GET', '/rooms')).body.rooms as {
        id: string;
        participants: number;
        byNode: Record<string, number>;
      }[];
      const found = rooms.find((r) => r.id === ROOM);
      return found?.participants === ON_NODE_3 + 1 ? found : undefined;
    });
    assert.equal(room.byNode['node-3'], undefined, 'nobody left on node 3');
  });
});
