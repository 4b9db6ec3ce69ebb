/**
 * One room over three relais nodes (separate processes, one private Redis): what members see
 * agrees wherever they are connected — roster, chat, hands, the listeners' summary, moderation
 * of someone on another node — a full node sends newcomers elsewhere, and when everyone has
 * left no key of the room remains in Redis.
 */
import assert from 'node:assert/strict';
import type { RelaisProcess } from '../support/relaisProcess.js';
import { SignallingClient } from '../support/signallingClient.js';
import { startTestCluster, type TestCluster } from '../support/threeNodeCluster.js';
import { eventually } from '../support/wait.js';

describe('one room over three nodes (separate processes, real Redis)', function () {
  this.timeout(180_000);
  let cluster: TestCluster;
  let n1: RelaisProcess;
  let n2: RelaisProcess;
  let n3: RelaisProcess;
  const clients: SignallingClient[] = [];

  before(async () => {
    // node-3 takes two participants at most: the third is sent elsewhere.
    cluster = await startTestCluster(
      3,
      (i): Record<string, string> => (i === 2 ? { RELAIS_NODE_MAX_PARTICIPANTS: '2' } : {}),
    );
    [n1, n2, n3] = cluster.nodes as [RelaisProcess, RelaisProcess, RelaisProcess];
  });

  after(async () => {
    for (const client of clients.splice(0)) client.close();
    await cluster?.stop();
  });

  async function join(node: RelaisProcess, room: string, role: 'moderator' | 'speaker' | 'listener', sub: string) {
    const joined = await SignallingClient.join(node.url, cluster.token({ room, role, sub, name: sub }));
    clients.push(joined.client);
    return joined;
  }

  it('roster, chat, hands and the listeners’ summary agree across nodes; admin counts the whole room', async () => {
    const moderator = await join(n1, 'cell', 'moderator', 'mod-on-1');
    const speaker = await join(n2, 'cell', 'speaker', 'speaker-on-2');
    const listener2 = await join(n2, 'cell', 'listener', 'listener-on-2');
    const listener3 = await join(n3, 'cell', 'listener', 'listener-on-3');

    // A newcomer's roster comes from every node: the listener on node 3 sees who is on stage.
    assert.deepEqual(listener3.joined.participants.map((p) => p.id).sort(), ['mod-on-1', 'speaker-on-2']);
    // The moderator on node 1 was told of each arrival on the other nodes.
    for (const id of ['speaker-on-2', 'listener-on-2', 'listener-on-3'])
      await moderator.client.next('participantJoined', (p) => p.id === id);

    await listener3.client.request('chat', { text: 'Reçu, préfecture du Nord.' });
    for (const member of [moderator, speaker, listener2]) {
      const message = await member.client.next('chatMessage', (m) => m.from === 'listener-on-3');
      assert.equal(message.text, 'Reçu, préfecture du Nord.');
    }

    await listener3.client.request('setHand', { raised: true });
    await moderator.client.next('participantUpdated', (p) => p.id === 'listener-on-3' && p.handRaised);
    // Listeners' summary counts the whole room, whichever node sends it.
    const summary = await listener2.client.next('roomSummary', (s) => s.handsRaised === 1 && s.participants === 4);
    assert.deepEqual(summary.speakers.map((s) => s.id).sort(), ['mod-on-1', 'speaker-on-2']);

    for (const node of [n1, n2, n3]) {
      const rooms = await cluster.admin(node, 'GET', '/rooms');
      assert.equal(rooms.status, 200);
      assert.deepEqual(rooms.body.rooms, [
        {
          id: 'cell',
          participants: 4,
          byRole: { moderator: 1, speaker: 1, listener: 2 },
          byNode: { 'node-1': 1, 'node-2': 2, 'node-3': 1 },
          producers: 0,
        },
      ]);
    }
  });

  it('a moderator on node 1 gives and takes the floor of a listener on node 3 and removes one on node 2', async () => {
    const moderator = await join(n1, 'ops', 'moderator', 'commander');
    const onStage = await join(n3, 'ops', 'listener', 'lieutenant');
    const removed = await join(n2, 'ops', 'listener', 'intruder');

    await moderator.client.request('grantFloor', { participantId: 'lieutenant' });
    const granted = await onStage.client.next('permissionsChanged', (p) => p.permissions.publishAudio);
    assert.equal(granted.permissions.publishAudio, true, 'the listener on node 3 may now speak');
    await moderator.client.next('participantUpdated', (p) => p.id === 'lieutenant' && p.hasFloor);

    await moderator.client.request('revokeFloor', { participantId: 'lieutenant' });
    await onStage.client.next('permissionsChanged', (p) => !p.permissions.publishAudio);

    await moderator.client.request('removeParticipant', { participantId: 'intruder' });
    assert.deepEqual(await removed.client.next('sessionEnded'), { reason: 'removed' });
    await moderator.client.next('participantLeft', (p) => p.participantId === 'intruder');

    // Refusals decided on the target's node come back with their code.
    const gone = await moderator.client.requestRefused('muteParticipant', { participantId: 'intruder' });
    assert.equal(gone.code, 'NOT_FOUND');
    const notModerator = await onStage.client.requestRefused('removeParticipant', { participantId: 'commander' });
    assert.equal(notModerator.code, 'FORBIDDEN');
  });

  it('the same person joining through another node replaces the old session there (no ghost)', async () => {
    const first = await join(n1, 'relay', 'speaker', 'agent');
    const watcher = await join(n2, 'relay', 'moderator', 'watcher');
    await join(n2, 'relay', 'speaker', 'agent');
    assert.deepEqual(await first.client.next('sessionEnded'), { reason: 'replaced' });
    const rooms = await eventually('one agent, on node 2', async () => {
      const answer = await cluster.admin(n3, 'GET', '/rooms');
      const relay = (answer.body.rooms as { id: string; participants: number; byNode: object }[]).find(
        (r) => r.id === 'relay',
      );
      return relay?.participants === 2 ? relay : undefined;
    });
    assert.deepEqual(rooms.byNode, { 'node-2': 2 });
    // The watcher never saw the agent leave: they are still in the meeting.
    assert.deepEqual(
      watcher.client.received('participantLeft').filter((p) => p.participantId === 'agent'),
      [],
    );
  });

  it('a full node redirects the join to the node with most room; the join succeeds there', async () => {
    for (const client of clients.splice(0)) client.close();
    await eventually('node-3 empty again', async () => {
      const nodes = (await cluster.admin(n1, 'GET', '/nodes')).body.nodes as {
        id: string;
        load: { participants: number };
      }[];
      return nodes.find((node) => node.id === 'node-3')?.load.participants === 0;
    });
    await join(n3, 'big', 'listener', 'first-on-3');
    await join(n3, 'big', 'listener', 'second-on-3');
    const third = await SignallingClient.connect(
      n3.url,
      cluster.token({ room: 'big', role: 'listener', sub: 'third' }),
    );
    clients.push(third);
    const refusal = await third.requestRefused('getRouterRtpCapabilities', {});
    assert.equal(refusal.code, 'REDIRECT');
    assert.ok(refusal.redirect, 'the refusal names a node');
    assert.notEqual(refusal.redirect?.node, 'node-3');
    assert.ok([n1.url, n2.url].includes(refusal.redirect?.url ?? ''), 'its public URL');
    const moved = await join(refusal.redirect?.url === n1.url ? n1 : n2, 'big', 'listener', 'third');
    assert.equal(moved.joined.self.id, 'third');
  });

  it('an operator closes a room on every node from any node; when all have left no Redis key of it remains', async () => {
    const a = await join(n1, 'closing', 'moderator', 'a');
    const b = await join(n2, 'closing', 'listener', 'b');
    const closed = await cluster.admin(n2, 'DELETE', '/rooms/closing');
    assert.equal(closed.status, 200);
    assert.equal(closed.body.sessionsEnded, 2);
    for (const member of [a, b]) assert.deepEqual(await member.client.next('sessionEnded'), { reason: 'room-closed' });

    for (const client of clients.splice(0)) client.close();
    await eventually('no room key left in Redis', async () => (await cluster.roomKeys()).length === 0, 20_000);
    for (const node of [n1, n2, n3]) {
      const rooms = await cluster.admin(node, 'GET', '/rooms');
      assert.deepEqual(rooms.body.rooms, []);
    }
  });

  it('Redis restarted empty: each node writes its live members back, and the room is whole again', async () => {
    const moderator = await join(n1, 'outage', 'moderator', 'chief');
    await join(n2, 'outage', 'listener', 'post-2');
    await join(n3, 'outage', 'listener', 'post-3');
    await cluster.redis.stop();
    await cluster.redis.restart();
    const room = await eventually(
      'the room counted again on every node',
      async () => {
        const answer = await cluster.admin(n1, 'GET', '/rooms').catch(() => undefined);
        const rooms = (answer?.body.rooms ?? []) as { id: string; participants: number; byNode: object }[];
        return rooms.find((r) => r.id === 'outage' && r.participants === 3);
      },
      30_000,
      250,
    );
    assert.deepEqual(room.byNode, { 'node-1': 1, 'node-2': 1, 'node-3': 1 });
    // The meeting went on meanwhile: signalling across nodes works again.
    await moderator.client.request('grantFloor', { participantId: 'post-3' });
    await moderator.client.next('participantUpdated', (p) => p.id === 'post-3' && p.hasFloor);
  });

  it('a node killed (SIGKILL): its members leave the room for everyone within seconds', async () => {
    const moderator = await join(n1, 'loss', 'moderator', 'watch-officer');
    await join(n3, 'loss', 'listener', 'on-doomed-node');
    await n3.stop('SIGKILL');
    const left = await moderator.client.next('participantLeft', (p) => p.participantId === 'on-doomed-node', 30_000);
    assert.equal(left.participantId, 'on-doomed-node');
    const rooms = (await cluster.admin(n2, 'GET', '/rooms')).body.rooms as { id: string; participants: number }[];
    assert.equal(rooms.find((r) => r.id === 'loss')?.participants, 1);
  });
});
