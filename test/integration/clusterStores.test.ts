/**
 * The cluster's shared state over a real, private redis-server: relais nodes as separate
 * processes (as operators run them) see each other in GET /admin/nodes with their load, a killed
 * node drops out by TTL, a revocation posted to one node ends a session on another and survives a
 * restart of every node, and a node whose Redis goes away says so on /readyz without crashing.
 */
import assert from 'node:assert/strict';
import jwt from 'jsonwebtoken';
import { LOCAL_SECRET } from '../../tools/localRelais.js';
import { type PrivateRedis, startPrivateRedis } from '../../tools/redisServer.js';
import { mintTestToken, type TestTokenRequest } from '../../tools/testTokens.js';
import { type RelaisProcess, startRelaisProcess } from '../support/relaisProcess.js';
import { HandshakeRefused, SignallingClient } from '../support/signallingClient.js';
import { eventually } from '../support/wait.js';

const ADMIN_KEY = 'relais-admin-key-for-cluster-tests-0123456789';

function token(request: TestTokenRequest): string {
  return mintTestToken({ algorithm: 'HS256', key: LOCAL_SECRET }, request);
}

async function admin(node: RelaisProcess, method: string, path: string, body?: unknown) {
  const response = await fetch(`${node.url}/admin${path}`, {
    method,
    headers: {
      authorization: `Bearer ${ADMIN_KEY}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

interface NodeView {
  id: string;
  publicUrl: string;
  clusterAddress?: string;
  state: string;
  load: { workers: number; perWorker: number[]; rooms: number; participants: number };
}

async function nodesSeenBy(node: RelaisProcess): Promise<NodeView[]> {
  const answer = await admin(node, 'GET', '/nodes');
  assert.equal(answer.status, 200);
  return answer.body.nodes as NodeView[];
}

function jtiOf(text: string): string {
  const claims = jwt.decode(text) as { jti?: string } | null;
  if (!claims?.jti) throw new Error('test tokens carry a jti');
  return claims.jti;
}

describe('cluster stores over a private Redis (relais nodes as separate processes)', function () {
  this.timeout(180_000);
  let redis: PrivateRedis | undefined;
  const nodes: RelaisProcess[] = [];
  const clients: SignallingClient[] = [];

  async function startNode(id: string, ports: { http?: number; rtc?: number } = {}): Promise<RelaisProcess> {
    if (!redis) throw new Error('no Redis');
    const node = await startRelaisProcess(
      {
        RELAIS_REDIS_URL: redis.url,
        RELAIS_NODE_ID: id,
        RELAIS_CLUSTER_ADDRESS: '127.0.0.1',
        RELAIS_ADMIN_KEY: ADMIN_KEY,
      },
      ports,
    );
    nodes.push(node);
    return node;
  }

  async function join(node: RelaisProcess, text: string): Promise<SignallingClient> {
    const { client } = await SignallingClient.join(node.url, text);
    clients.push(client);
    return client;
  }

  beforeEach(async () => {
    redis = await startPrivateRedis();
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await Promise.all(nodes.splice(0).map((node) => node.stop('SIGKILL')));
    await redis?.stop();
    redis = undefined;
  });

  it('lists every node with its load in GET /admin/nodes; a killed node drops out by itself', async () => {
    const [a, b] = [await startNode('node-a'), await startNode('node-b')];
    await join(b, token({ room: 'cell', role: 'speaker', sub: 'member-on-b' }));

    const seen = await eventually(
      'node-a and node-b listed, with the member on node-b counted',
      async () => {
        const list = await nodesSeenBy(a);
        const onB = list.find((node) => node.id === 'node-b');
        return list.length === 2 && onB?.load.participants === 1 ? list : undefined;
      },
      30_000,
      200,
    );
    assert.deepEqual(
      seen.map((node) => [node.id, node.publicUrl, node.clusterAddress, node.state, node.load.workers]),
      [
        ['node-a', a.url, '127.0.0.1', 'serving', 1],
        ['node-b', b.url, '127.0.0.1', 'serving', 1],
      ],
    );
    const [onA, onB] = seen as [NodeView, NodeView];
    assert.deepEqual([onA.load.rooms, onA.load.participants], [0, 0]);
    assert.equal(onB.load.rooms, 1);
    assert.equal(onB.load.perWorker.length, 1, 'one load figure per worker');
    assert.deepEqual(await nodesSeenBy(b).then((list) => list.map((node) => node.id)), ['node-a', 'node-b']);
    const refused = await fetch(`${a.url}/admin/nodes`);
    assert.equal(refused.status, 401, 'the node list needs the admin key');

    await b.stop('SIGKILL');
    await eventually(
      'node-b gone from the list once its entry expired',
      async () => {
        const ids = (await nodesSeenBy(a)).map((node) => node.id);
        return ids.length === 1 && ids[0] === 'node-a';
      },
      30_000,
      250,
    );
  });

  it('a revocation posted to node 2 ends a session on node 3 at once, and stays in force after every node restarts', async () => {
    const started = [await startNode('node-1'), await startNode('node-2'), await startNode('node-3')];
    const [node1, node2, node3] = started as [RelaisProcess, RelaisProcess, RelaisProcess];
    const revokedToken = token({ room: 'cell', role: 'speaker', sub: 'lost-laptop' });
    const onNode3 = await join(node3, revokedToken);
    const bystander = await join(node1, token({ room: 'cell', role: 'speaker', sub: 'colleague' }));

    const answer = await admin(node2, 'POST', '/revocations', { jti: jtiOf(revokedToken), reason: 'laptop stolen' });
    assert.equal(answer.status, 201);
    assert.deepEqual(await onNode3.next('sessionEnded'), { reason: 'revoked' });
    await eventually('the revoked client disconnected by node 3', () => !onNode3.socket.connected);
    assert.equal(bystander.socket.connected, true, 'a session the revocation does not name goes on');
    assert.deepEqual(bystander.received('sessionEnded'), []);
    for (const node of started) {
      const listed = (await admin(node, 'GET', '/revocations')).body.revocations as { jti?: string }[];
      assert.deepEqual(
        listed.map((entry) => entry.jti),
        [jtiOf(revokedToken)],
        `node ${node.url} knows the revocation`,
      );
    }
    bystander.close();

    // Every node restarted, on the same ports: the revocation comes back from Redis.
    const ports = started.map((node) => node.httpPort);
    await Promise.all(started.map((node) => node.stop('SIGTERM')));
    assert.deepEqual(
      started.map((node) => node.child.exitCode),
      [0, 0, 0],
      'each node stopped cleanly, Redis connections closed',
    );
    nodes.splice(0);
    const restarted = [
      await startNode('node-1', { http: ports[0] }),
      await startNode('node-2', { http: ports[1] }),
      await startNode('node-3', { http: ports[2] }),
    ];
    for (const node of restarted) {
      await assert.rejects(
        SignallingClient.connect(node.url, revokedToken),
        (error: unknown) => error instanceof HandshakeRefused && error.reason === 'revoked',
        `${node.url} refuses the revoked token after the restart`,
      );
    }
    // Not a node refusing everyone: a token not revoked is let in.
    await join(restarted[2] as RelaisProcess, token({ room: 'cell', role: 'speaker', sub: 'replacement-laptop' }));
  });

  it('/readyz answers 503 while Redis is down and 200 once it is back; the node keeps running', async () => {
    const node = await startNode('node-r');
    const ready = await fetch(`${node.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal(((await ready.json()) as { redis?: string }).redis, 'connected');
    const member = await join(node, token({ room: 'cell', role: 'speaker', sub: 'member' }));

    await redis?.stop();
    const down = await eventually(
      '/readyz saying Redis is unreachable',
      async () => {
        const response = await fetch(`${node.url}/readyz`);
        return response.status === 503 ? ((await response.json()) as Record<string, unknown>) : undefined;
      },
      30_000,
      200,
    );
    assert.equal(down.status, 'not-ready');
    assert.equal(down.redis, 'unreachable');
    assert.match(String(down.reason), /Redis/);
    assert.equal((await fetch(`${node.url}/healthz`)).status, 200, 'alive, only not ready');
    assert.match(await (await fetch(`${node.url}/metrics`)).text(), /^relais_redis_connected 0$/m);
    const unknown = await admin(node, 'GET', '/nodes');
    assert.equal(unknown.status, 500);
    assert.match(String(unknown.body.message), /Redis is unreachable/);
    const notStored = await admin(node, 'POST', '/revocations', { sub: 'someone' });
    assert.equal(notStored.status, 500, 'a revocation that cannot reach the other nodes is refused');
    assert.equal(notStored.body.code, 'INTERNAL');
    assert.match(String(notStored.body.message), /Redis is unreachable.*Nothing was revoked/);

    await redis?.restart();
    await eventually(
      '/readyz ready again',
      async () => (await fetch(`${node.url}/readyz`)).status === 200,
      30_000,
      200,
    );
    assert.match(await (await fetch(`${node.url}/metrics`)).text(), /^relais_redis_connected 1$/m);
    // The restarted Redis is empty: the heartbeat writes the entry back.
    await eventually('the node back in the registry', async () =>
      (await nodesSeenBy(node)).some((entry) => entry.id === 'node-r'),
    );
    assert.equal((await admin(node, 'POST', '/revocations', { sub: 'someone' })).status, 201, 'revoking works again');
    assert.equal(node.alive, true, 'the node did not crash');
    assert.equal(member.socket.connected, true, 'the meeting went on meanwhile');
    assert.equal((await fetch(`${node.url}/healthz`)).status, 200);
  });
});
