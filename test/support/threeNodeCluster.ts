import { createClient } from 'redis';
import { freePortRange } from '../../tools/freePorts.js';
import { LOCAL_SECRET } from '../../tools/localRelais.js';
import { type PrivateRedis, startPrivateRedis } from '../../tools/redisServer.js';
import { mintTestToken, type TestTokenRequest } from '../../tools/testTokens.js';
import { type RelaisProcess, startRelaisProcess } from './relaisProcess.js';

export const CLUSTER_ADMIN_KEY = 'relais-admin-key-for-cluster-tests-0123456789';
const CLUSTER_SECRET = 'relais-cluster-secret-for-tests-0123456789abcdef';

/** Relais nodes as separate processes (one worker each) sharing a private Redis: a cluster as operators run it. */
export interface TestCluster {
  redis: PrivateRedis;
  nodes: RelaisProcess[];
  /** Another node joins the cluster (`env` added, e.g. a capacity). */
  addNode(id: string, env?: Record<string, string>): Promise<RelaisProcess>;
  token(request: TestTokenRequest): string;
  admin(node: RelaisProcess, method: string, path: string): Promise<{ status: number; body: Record<string, unknown> }>;
  /** A gauge's value on a node's /metrics (`labels` as written there, e.g. `direction="in"`). */
  metric(node: RelaisProcess, name: string, labels?: string): Promise<number>;
  /** What a node holds of the cluster's media: rooms, pipes, live mediasoup objects. */
  mediaHeld(node: RelaisProcess): Promise<Record<string, number>>;
  /** Keys of rooms left in Redis. */
  roomKeys(): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startTestCluster(
  count: number,
  envOf: (index: number) => Record<string, string> = () => ({}),
  options: { redisAppendOnly?: boolean } = {},
): Promise<TestCluster> {
  const redis = await startPrivateRedis({ appendOnly: options.redisAppendOnly ?? false });
  const nodes: RelaisProcess[] = [];
  const addNode = async (id: string, env: Record<string, string> = {}): Promise<RelaisProcess> => {
    const pipeBase = await freePortRange(20);
    const node = await startRelaisProcess({
      RELAIS_REDIS_URL: redis.url,
      RELAIS_NODE_ID: id,
      RELAIS_CLUSTER_ADDRESS: '127.0.0.1',
      RELAIS_CLUSTER_SECRET: CLUSTER_SECRET,
      RELAIS_PIPE_PORT_MIN: String(pipeBase),
      RELAIS_PIPE_PORT_MAX: String(pipeBase + 19),
      RELAIS_ADMIN_KEY: CLUSTER_ADMIN_KEY,
      ...env,
    });
    nodes.push(node);
    return node;
  };
  const cluster: TestCluster = {
    redis,
    nodes,
    addNode,
    token: (request) => mintTestToken({ algorithm: 'HS256', key: LOCAL_SECRET }, request),
    admin: async (node, method, path) => {
      const response = await fetch(`${node.url}/admin${path}`, {
        method,
        headers: { authorization: `Bearer ${CLUSTER_ADMIN_KEY}` },
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    },
    metric: async (node, name, labels) => {
      const text = await (await fetch(`${node.url}/metrics`)).text();
      const series = labels ? `${name}{${labels}}` : name;
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      if (!line) throw new Error(`no ${series} on ${node.url}/metrics`);
      return Number(line.slice(series.length + 1));
    },
    mediaHeld: async (node) => {
      const held: Record<string, number> = {};
      held.rooms = await cluster.metric(node, 'relais_rooms');
      for (const direction of ['in', 'out']) {
        held[`pipes_${direction}`] = await cluster.metric(node, 'relais_pipes', `direction="${direction}"`);
        held[`pipe_transports_${direction}`] = await cluster.metric(
          node,
          'relais_pipe_transports',
          `direction="${direction}"`,
        );
      }
      for (const kind of ['routers', 'transports', 'producers', 'consumers'])
        held[kind] = await cluster.metric(node, 'relais_media_objects', `kind="${kind}"`);
      return held;
    },
    roomKeys: async () => {
      const client = createClient({ url: redis.url });
      await client.connect();
      try {
        return await client.keys('relais:room:*');
      } finally {
        await client.close();
      }
    },
    stop: async () => {
      await Promise.all(nodes.splice(0).map((node) => node.stop('SIGKILL')));
      await redis.stop();
    },
  };
  try {
    for (let i = 0; i < count; i += 1) await addNode(`node-${i + 1}`, envOf(i));
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}
