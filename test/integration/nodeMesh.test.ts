/**
 * One room over three relais nodes (in this process, real mediasoup workers): every node on
 * which the room is open receives the producers of the others over PipeTransport pairs, so a
 * speaker on any node is heard on every node. First with peers told by hand (no Redis), then
 * with a private redis-server saying which nodes host the room.
 */
import assert from 'node:assert/strict';
import { createClient } from 'redis';
import { encodeTone } from '../../bench/load/opusTone.js';
import { OpusSpeaker } from '../../bench/load/opusSpeaker.js';
import { RtcListener } from '../../bench/load/rtcListener.js';
import { roomNodesKey } from '../../server/src/cluster/RedisRoomNodes.js';
import { freePortRange } from '../../tools/freePorts.js';
import { type PrivateRedis, startPrivateRedis } from '../../tools/redisServer.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { SignallingClient } from '../support/signallingClient.js';
import { eventually } from '../support/wait.js';

const SECRET = 'cluster-secret-for-tests-0123456789abcdef';
const NODE_3_TONE_HZ = 440;
const NODE_2_TONE_HZ = 660;
/** Rooms opened on two nodes at the same moment, one after the other. */
const RACES = 4;

async function nodeEnv(extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const pipeBase = await freePortRange(10);
  return {
    RELAIS_CLUSTER_SECRET: SECRET,
    RELAIS_CLUSTER_ADDRESS: '127.0.0.1',
    RELAIS_PIPE_PORT_MIN: String(pipeBase),
    RELAIS_PIPE_PORT_MAX: String(pipeBase + 9),
    RELAIS_LOG_LEVEL: 'warn',
    ...extra,
  };
}

/** Node id → opening of the room there, as `node`'s copy of the room follows them and is watched by them. */
function linksOf(
  node: TestServer,
  roomId: string,
): { follows: Record<string, string | undefined>; watchedBy: Record<string, string> } | undefined {
  const media = node.server.signalling.room(roomId)?.media;
  if (!media) return undefined;
  return {
    follows: Object.fromEntries(media.followedNodes().map((link) => [link.node, link.instance])),
    watchedBy: Object.fromEntries(media.watchingNodes().map((link) => [link.node, link.instance])),
  };
}

/**
 * Every node follows, and is watched by, exactly every other node hosting the room, each link
 * naming the room's current opening on the other side (a link to an earlier opening, or made
 * before the room opened there, carries nothing).
 */
function fullyMeshed(nodes: TestServer[], roomId: string): boolean {
  const openings = new Map(
    nodes.map((node) => [node.server.nodeId, node.server.signalling.room(roomId)?.media.instance]),
  );
  if ([...openings.values()].some((instance) => instance === undefined)) return false;
  return nodes.every((node) => {
    const others = Object.fromEntries([...openings].filter(([id]) => id !== node.server.nodeId));
    const links = linksOf(node, roomId);
    return (
      links !== undefined &&
      JSON.stringify(sorted(links.follows)) === JSON.stringify(sorted(others)) &&
      JSON.stringify(sorted(links.watchedBy)) === JSON.stringify(sorted(others))
    );
  });
}

function sorted<T>(record: Record<string, T>): [string, T][] {
  return Object.entries(record).sort(([a], [b]) => a.localeCompare(b));
}

function noPipes(node: TestServer): boolean {
  const { out, in: incoming } = node.server.pipeCounts();
  return out.transports + out.consumers + incoming.transports + incoming.producers === 0;
}

async function hears(listener: RtcListener, what: string): Promise<void> {
  assert.ok(await listener.firstAudio(10_000), `${what}: no audio`);
  // A decoded second of audio names the tone, so the listener hears that speaker and not another.
  await eventually(`${what}: a second of audio`, () => listener.report().received >= 50, 10_000);
  const report = listener.report();
  assert.ok(report.ok, JSON.stringify(report));
  assert.ok((report.toneDominance ?? 0) > 0.9, `${what}: ${JSON.stringify(report)}`);
}

/** Opens `RACES` rooms on two nodes at the same moment each; each ends with one link each way. */
async function openRoomsAtOnce(pair: [TestServer, TestServer], prefix: string): Promise<void> {
  for (let i = 0; i < RACES; i++) {
    const roomId = `${prefix}-${i}`;
    const clients = await Promise.all(
      pair.map(
        async (node, n) =>
          (
            await SignallingClient.join(
              node.url,
              node.token({ room: roomId, role: 'listener', sub: `racer-${n}`, name: `Racer ${n}` }),
            )
          ).client,
      ),
    );
    try {
      await eventually(`${roomId} to be meshed`, () => fullyMeshed(pair, roomId), 10_000);
      for (const node of pair) assert.equal(Object.keys(linksOf(node, roomId)?.follows ?? {}).length, 1);
    } finally {
      for (const client of clients) client.close();
    }
    await eventually(`${roomId} to close on both nodes`, () =>
      pair.every((node) => node.server.signalling.room(roomId) === undefined),
    );
  }
}

function meshScenario(nodes: () => TestServer[], roomId: string): void {
  const speakers: OpusSpeaker[] = [];
  const listeners: RtcListener[] = [];
  const observers: SignallingClient[] = [];

  after(() => {
    for (const l of listeners) l.close();
    for (const s of speakers) s.close();
    for (const o of observers) o.close();
  });

  const node = (n: 1 | 2 | 3): TestServer => {
    const found = nodes()[n - 1];
    if (!found) throw new Error(`no node ${n}`);
    return found;
  };

  const listen = async (n: 1 | 2 | 3, sub: string, toneHz: number): Promise<RtcListener> => {
    const listener = new RtcListener(listeners.length, {
      url: node(n).url,
      token: node(n).token({ room: roomId, role: 'listener', sub, name: sub }),
      decode: true,
      toneHz,
    });
    listeners.push(listener);
    await listener.join(30_000);
    return listener;
  };

  const speak = async (n: 1 | 2 | 3, sub: string, toneHz: number): Promise<OpusSpeaker> => {
    const speaker = await OpusSpeaker.start(
      node(n).url,
      node(n).token({ room: roomId, role: 'speaker', sub, name: sub }),
      encodeTone(toneHz),
    );
    speakers.push(speaker);
    return speaker;
  };

  it('a speaker on node 3 is heard by a listener on node 2, through one pipe', async () => {
    // Node 1 hosts the room too (a member without media): it is part of the mesh, pipes nothing.
    const { client } = await SignallingClient.join(
      node(1).url,
      node(1).token({ room: roomId, role: 'moderator', sub: 'moderator', name: 'Moderator' }),
    );
    observers.push(client);
    const speaker = await speak(3, 'speaker-3', NODE_3_TONE_HZ);
    const listener = await listen(2, 'listener-2', NODE_3_TONE_HZ);
    await hears(listener, 'the listener on node 2');
    await eventually('the three nodes to be meshed', () => fullyMeshed(nodes(), roomId));
    assert.deepEqual(node(3).server.pipeCounts().out, { transports: 1, consumers: 1 });
    assert.deepEqual(node(2).server.pipeCounts().in, { transports: 1, producers: 1 });
    assert.ok(noPipes(node(1)), JSON.stringify(node(1).server.pipeCounts()));
    // The moderator on node 1 is offered node 3's speaker like any local one.
    await client.next('producerAdded', (p) => p.producerId === speaker.producerId, 10_000);
  });

  it('the listener on node 2, given the floor, is heard on node 3', async () => {
    // A second connection of the listener's desk speaks (a test listener cannot also send).
    await speak(2, 'listener-2-voice', NODE_2_TONE_HZ);
    // Node 3's own speaker leaves first: a listener there then hears node 2's voice, not node 3's.
    const [first] = speakers.splice(0, 1);
    const closedId = first?.producerId;
    first?.close();
    const [moderator] = observers;
    await moderator?.next('producerClosed', (p) => p.producerId === closedId, 10_000);
    const listener = await listen(3, 'listener-3', NODE_2_TONE_HZ);
    await hears(listener, 'the listener on node 3');
    await eventually('the three nodes to be meshed again', () => fullyMeshed(nodes(), roomId));
    assert.deepEqual(node(2).server.pipeCounts().out, { transports: 1, consumers: 1 });
    assert.deepEqual(node(3).server.pipeCounts().in, { transports: 1, producers: 1 });
  });

  it('a producer closed on its node disappears on every node, and its pipes close', async () => {
    const [voice] = speakers.splice(0, 1);
    const producerId = voice?.producerId;
    voice?.close();
    await observers[0]?.next('producerClosed', (p) => p.producerId === producerId, 10_000);
    await eventually('every pipe to close', () => nodes().every(noPipes));
    for (const n of [1, 2, 3] as const) {
      const offered = node(n).server.signalling.room(roomId)?.media.producers() ?? [];
      assert.deepEqual(offered, [], `node ${n} still offers ${JSON.stringify(offered)}`);
    }
  });

  it('when everyone leaves, no room and no pipe is left on any node', async () => {
    for (const l of listeners.splice(0)) l.close();
    for (const o of observers.splice(0)) o.close();
    await eventually('the room to close everywhere', () =>
      nodes().every((n) => n.server.signalling.room(roomId) === undefined),
    );
    for (const n of nodes()) assert.ok(noPipes(n), JSON.stringify(n.server.pipeCounts()));
  });
}

describe('one room meshed over three nodes, peers told by hand', function () {
  this.timeout(180_000);
  const ROOM = 'mesh-static';
  const nodes: TestServer[] = [];

  before(async () => {
    for (let i = 0; i < 3; i++) nodes.push(await startTestServer(await nodeEnv()));
    for (const node of nodes)
      for (const other of nodes) {
        if (other === node) continue;
        node.server.staticRoomNodes.addPeer(ROOM, other.server.node);
        // The race is between nodes 1 and 2 only: a static table does not know whether a peer hosts the room.
        if (nodes.indexOf(node) < 2 && nodes.indexOf(other) < 2)
          for (let i = 0; i < RACES; i++) node.server.staticRoomNodes.addPeer(`mesh-race-${i}`, other.server.node);
      }
  });

  after(async () => {
    for (const node of nodes.reverse()) await node.stop();
  });

  meshScenario(() => nodes, ROOM);

  it('two nodes opening a room at the same moment end up with exactly one link each way', async () => {
    const [n1, n2] = nodes;
    if (!n1 || !n2) throw new Error('nodes missing');
    await openRoomsAtOnce([n1, n2], 'mesh-race');
  });
});

describe('one room meshed over three nodes, found through Redis', function () {
  this.timeout(180_000);
  const ROOM = 'mesh-redis';
  let redis: PrivateRedis | undefined;
  let inspector: ReturnType<typeof createClient> | undefined;
  const nodes: TestServer[] = [];

  before(async () => {
    redis = await startPrivateRedis();
    inspector = createClient({ url: redis.url });
    await inspector.connect();
    for (let i = 0; i < 3; i++) nodes.push(await startTestServer(await nodeEnv({ RELAIS_REDIS_URL: redis.url })));
  });

  after(async () => {
    for (const node of nodes.reverse()) await node.stop();
    await inspector?.close();
    await redis?.stop();
  });

  it('lists in Redis the nodes hosting a room', async () => {
    const [n1, n2] = nodes;
    if (!n1 || !n2 || !inspector) throw new Error('not started');
    const { client } = await SignallingClient.join(
      n1.url,
      n1.token({ room: ROOM, role: 'listener', sub: 'early', name: 'Early' }),
    );
    try {
      assert.deepEqual(await inspector.sMembers(roomNodesKey(ROOM)), [n1.server.nodeId]);
    } finally {
      client.close();
    }
    await eventually('the room to leave Redis', async () => (await inspector?.exists(roomNodesKey(ROOM))) === 0);
  });

  meshScenario(() => nodes, ROOM);

  it('two nodes opening a room at the same moment end up with exactly one link each way', async () => {
    const [, n2, n3] = nodes;
    if (!n2 || !n3) throw new Error('nodes missing');
    await openRoomsAtOnce([n2, n3], 'mesh-redis-race');
  });

  it('ignores a node left in a room’s set that is no longer live', async () => {
    const n2 = nodes[1];
    if (!n2 || !inspector) throw new Error('not started');
    const roomId = 'mesh-redis-ghost';
    // What a node killed with the room open leaves behind.
    await inspector.sAdd(roomNodesKey(roomId), 'ghost-node');
    const { client } = await SignallingClient.join(
      n2.url,
      n2.token({ room: roomId, role: 'listener', sub: 'alone', name: 'Alone' }),
    );
    try {
      assert.deepEqual(linksOf(n2, roomId)?.follows, {});
    } finally {
      client.close();
    }
    await eventually('the room to close', () => n2.server.signalling.room(roomId) === undefined);
    assert.deepEqual(await inspector.sMembers(roomNodesKey(roomId)), ['ghost-node']);
    await inspector.del(roomNodesKey(roomId));
  });

  it('a node that stops leaves the rooms it hosted, and the other nodes stop following it', async () => {
    const [n1, n2] = nodes;
    if (!n1 || !n2 || !inspector) throw new Error('not started');
    const roomId = 'mesh-redis-stop';
    const clients = await Promise.all(
      [n1, n2].map(
        async (node, n) =>
          (await SignallingClient.join(node.url, node.token({ room: roomId, role: 'listener', sub: `member-${n}` })))
            .client,
      ),
    );
    try {
      await eventually('the two nodes to be meshed', () => fullyMeshed([n1, n2], roomId));
      await n1.stop();
      assert.deepEqual(await inspector.sMembers(roomNodesKey(roomId)), [n2.server.nodeId]);
      await eventually('node 2 to let node 1 go', () => {
        const links = linksOf(n2, roomId);
        return links && Object.keys(links.follows).length === 0 && Object.keys(links.watchedBy).length === 0;
      });
    } finally {
      for (const client of clients) client.close();
    }
    await eventually('the room to leave Redis', async () => (await inspector?.exists(roomNodesKey(roomId))) === 0);
  });

  it('leaves no key of a room in Redis once everyone has left', async () => {
    assert.deepEqual(await inspector?.keys('relais:room:*'), []);
  });
});
