import { createClient, type RedisClientType } from 'redis';
import type { RedisSettings } from '../config/config.js';
import type { Logger } from '../observability/logger.js';

export type RedisClient = RedisClientType;

/** Longest pause between two reconnection attempts: a restarted Redis is found again within this. */
const MAX_RECONNECT_DELAY_MS = 2000;
/** How long the first connection may take before start-up gives up. */
const FIRST_CONNECT_TIMEOUT_MS = 10_000;

/**
 * The node's connections to Redis (or Valkey): one for commands, one subscribed for pub/sub,
 * which Redis requires to be separate. It owns both: `close()` ends them. Once connected they
 * reconnect on their own forever (backing off up to 2 s); errors are logged, once per outage,
 * and never thrown at the process. While disconnected, commands fail at once rather than
 * queue, so a caller (an operator's revocation) learns it was not stored.
 */
export class RedisConnection {
  readonly commands: RedisClient;
  readonly subscriber: RedisClient;
  /**
   * Given to Socket.IO's streams adapter, which duplicates it for its blocking reads. Unlike the
   * others it queues commands while Redis is away: the adapter's read loop then waits for the
   * reconnection instead of spinning on failures, and broadcasts go out once Redis is back.
   */
  readonly adapter: RedisClient;
  private closed = false;

  /** `nodeId` names the connections in Redis's CLIENT LIST (`relais:<node>:commands`). */
  constructor(
    private readonly settings: RedisSettings,
    private readonly logger: Logger,
    private readonly nodeId: string,
  ) {
    this.commands = this.client('commands');
    this.subscriber = this.client('subscriber');
    this.adapter = this.client('adapter');
  }

  /** Connects both clients; fails (closing them) if Redis does not answer within 10 s. */
  async connect(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(`Redis at ${this.settings.displayUrl} did not answer within ${FIRST_CONNECT_TIMEOUT_MS} ms`),
          ),
        FIRST_CONNECT_TIMEOUT_MS,
      );
    });
    try {
      await Promise.race([
        Promise.all([this.commands.connect(), this.subscriber.connect(), this.adapter.connect()]),
        timeout,
      ]);
    } catch (error) {
      await this.close();
      throw error;
    } finally {
      clearTimeout(timer);
    }
    this.logger.info({ redis: this.settings.displayUrl }, 'connected to Redis');
  }

  /** Both connections up: what /readyz reports. */
  get ready(): boolean {
    return !this.closed && this.commands.isReady && this.subscriber.isReady;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const client of [this.adapter, this.subscriber, this.commands]) {
      // close() waits for pending replies; a client that is not connected is destroyed instead.
      if (client.isReady) await client.close().catch(() => client.destroy());
      else if (client.isOpen) client.destroy();
    }
  }

  /** Calls `listener` each time both connections are up again after one of them was lost. */
  onReconnected(listener: () => void): () => void {
    const check = (): void => {
      if (this.ready) listener();
    };
    this.commands.on('ready', check);
    this.subscriber.on('ready', check);
    return () => {
      this.commands.off('ready', check);
      this.subscriber.off('ready', check);
    };
  }

  /**
   * The URL, and the password from RELAIS_REDIS_PASSWORD_FILE. node-redis takes a user named in
   * the URL as the whole credentials (ignoring a password given beside it), so with a password
   * file the user moves out of the URL next to the password.
   */
  private address(): { url: string; username?: string; password?: string } {
    if (!this.settings.password) return { url: this.settings.url };
    const url = new URL(this.settings.url);
    const user = decodeURIComponent(url.username);
    url.username = '';
    return { url: url.toString(), password: this.settings.password, ...(user ? { username: user } : {}) };
  }

  private client(role: 'commands' | 'subscriber' | 'adapter'): RedisClient {
    const logger = this.logger.child({ redis: this.settings.displayUrl, connection: role });
    const client: RedisClient = createClient({
      ...this.address(),
      name: `relais:${this.nodeId}:${role}`,
      disableOfflineQueue: role !== 'adapter',
      socket: {
        connectTimeout: 5000,
        reconnectStrategy: (retries: number) => Math.min(100 * 2 ** Math.min(retries, 5), MAX_RECONNECT_DELAY_MS),
      },
    });
    let down = false;
    client.on('error', (error: Error) => {
      // Every failed reconnection repeats the error: one line per outage is enough.
      if (down || this.closed) return;
      down = true;
      logger.error(
        { err: { message: error.message, code: (error as NodeJS.ErrnoException).code } },
        'Redis connection lost',
      );
    });
    client.on('ready', () => {
      if (down) logger.warn('Redis connection restored');
      down = false;
    });
    return client;
  }
}
