import { z } from 'zod';

/** `draining`: finishing its meetings, taking no new ones. */
export type NodeState = 'serving' | 'draining';

/** What a node says about itself in the registry, refreshed every few seconds. */
export interface NodeInfo {
  id: string;
  /** Where clients reach it (RELAIS_PUBLIC_URL). */
  publicUrl: string;
  /** The IP other nodes reach it at (RELAIS_CLUSTER_ADDRESS). */
  clusterAddress: string;
  /** Its internal API as other nodes call it: the cluster address and the port it listens on. */
  internalUrl: string;
  /** Participants it takes before redirecting joins elsewhere (0: no limit). */
  capacity: number;
  state: NodeState;
  load: {
    workers: number;
    /** Consumers and producers placed on each mediasoup worker, by worker index. */
    perWorker: number[];
    rooms: number;
    participants: number;
  };
}

/** A registry entry as read back: the info and when its writer last refreshed it. */
export interface RegisteredNode extends NodeInfo {
  /** ms since the epoch. */
  seenAt: number;
}

/**
 * The live nodes of a cluster. A node announces itself with `start`, refreshes its entry from
 * `describe` every `heartbeatMs` and removes it at `stop`; an entry not refreshed for `ttlMs`
 * (a node killed, a machine gone) disappears by itself.
 */
export interface NodeRegistry {
  start(describe: () => NodeInfo): Promise<void>;
  /** Live nodes, ordered by id. */
  list(): Promise<RegisteredNode[]>;
  /** Removes this node's entry and stops refreshing it. */
  stop(): Promise<void>;
  /** Writes this node's entry now (after Redis came back). */
  refresh(): Promise<void>;
}

export const NODE_HEARTBEAT_MS = 2000;
export const NODE_TTL_MS = 6000;

/**
 * Refreshes an entry every `intervalMs` until stopped; the timer is this object's, and a
 * failing refresh (Redis down) is reported and retried at the next beat.
 */
export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly beat: () => Promise<void>,
    private readonly intervalMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => {
      // A beat still waiting on Redis is not doubled.
      if (this.running) return;
      this.running = this.beat()
        .catch(this.onError)
        .finally(() => {
          this.running = undefined;
        });
    }, this.intervalMs);
  }

  /** One beat now (Redis is back: be listed again without waiting for the timer). */
  async now(): Promise<void> {
    if (!this.timer) return;
    await this.running;
    await this.beat().catch(this.onError);
  }

  /** Stops the timer and waits for a beat under way, so nothing writes after `stop`. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}

/** The embedded default: a single process is the whole cluster. */
export class InMemoryNodeRegistry implements NodeRegistry {
  private describe: (() => NodeInfo) | undefined;

  async start(describe: () => NodeInfo): Promise<void> {
    this.describe = describe;
  }

  async list(): Promise<RegisteredNode[]> {
    return this.describe ? [{ ...this.describe(), seenAt: Date.now() }] : [];
  }

  async stop(): Promise<void> {
    this.describe = undefined;
  }

  async refresh(): Promise<void> {}
}

/** A registry entry as another node wrote it, checked before it is shown. */
export const registeredNodeSchema = z.object({
  id: z.string(),
  publicUrl: z.string(),
  clusterAddress: z.string(),
  internalUrl: z.string(),
  capacity: z.number(),
  state: z.enum(['serving', 'draining']),
  load: z.object({
    workers: z.number(),
    perWorker: z.array(z.number()),
    rooms: z.number(),
    participants: z.number(),
  }),
  seenAt: z.number(),
});
