import { z } from 'zod';
import { InMemoryRevocations, MAX_REVOCATIONS, type Revocation, type RevocationTarget } from '../auth/revocations.js';
import { RelaisError } from '../domain/errors.js';
import type { RedisClient } from './RedisConnection.js';
import type { RevocationStore, RevocationStoreOptions } from './RevocationStore.js';

const idText = z.string().min(1).max(200);
/** What Redis and the channel carry, checked before it reaches the mirror. */
const revocationSchema = z.object({
  target: z.union([z.object({ jti: idText }).strict(), z.object({ sub: idText }).strict()]),
  revokedAt: z.number().int().nonnegative(),
  forgetAt: z.number().int().nonnegative(),
  reason: z.string().max(200).optional(),
});
const messageSchema = z.object({ node: z.string(), revocation: revocationSchema });

function parseRevocation(text: string): Revocation | undefined {
  try {
    const parsed = revocationSchema.safeParse(JSON.parse(text));
    return parsed.success ? (parsed.data as Revocation) : undefined;
  } catch {
    return undefined;
  }
}

export interface RedisRevocationStoreOptions extends RevocationStoreOptions {
  nodeId: string;
  commands: RedisClient;
  subscriber: RedisClient;
  keyPrefix?: string;
  /** Subscribes `listener` to "both connections are back"; returns its unsubscription. */
  onReconnected: (listener: () => void) => () => void;
  onError: (error: unknown, what: string) => void;
}

/**
 * Revocations shared by every node through Redis. Each one is a key (`<prefix>revocation:jti:<id>`
 * or `…:sub:<id>`) expiring with the entry, so they outlive a restart of every node and vanish
 * when no token they could match is still valid; a sorted set indexes them by expiry so loading
 * never scans the keyspace. A new one is published on a channel; every node adds it to its mirror
 * and ends the matching sessions at once. After a reconnection, a node reloads the set to catch
 * what it missed while pub/sub was down.
 */
export class RedisRevocationStore implements RevocationStore {
  readonly mirror: InMemoryRevocations;
  private readonly prefix: string;
  private subscribed = false;
  private stopFollowingReconnections: (() => void) | undefined;

  constructor(private readonly options: RedisRevocationStoreOptions) {
    this.mirror = new InMemoryRevocations({ maxTokenLifetimeSeconds: options.maxTokenLifetimeSeconds });
    this.prefix = options.keyPrefix ?? 'relais:';
  }

  private get channel(): string {
    return `${this.prefix}revocations`;
  }

  private get indexKey(): string {
    return `${this.prefix}revocations`;
  }

  private entryKey(target: RevocationTarget): string {
    return 'jti' in target
      ? `${this.prefix}revocation:jti:${target.jti}`
      : `${this.prefix}revocation:sub:${target.sub}`;
  }

  async start(): Promise<void> {
    // Subscribed first: a revocation made while loading is then not missed (restore dedupes).
    await this.options.subscriber.subscribe(this.channel, (message) => this.onMessage(message));
    this.subscribed = true;
    await this.load(false);
    // node-redis resubscribes by itself after a reconnection, but what was published meanwhile is
    // lost: read it back from the keys.
    this.stopFollowingReconnections = this.options.onReconnected(() => {
      void this.load(true).catch((error: unknown) => this.options.onError(error, 'reloading revocations'));
    });
  }

  async revoke(target: RevocationTarget, options: { reason?: string } = {}): Promise<Revocation> {
    const now = Date.now();
    const entry: Revocation = {
      target,
      revokedAt: now,
      forgetAt: now + this.mirror.retentionMs,
      ...(options.reason ? { reason: options.reason } : {}),
    };
    // The mirror's cap, checked before anything is stored.
    if (this.mirror.size >= MAX_REVOCATIONS) {
      throw new RelaisError('CONFLICT', `At most ${MAX_REVOCATIONS} revocations are kept at once.`);
    }
    const key = this.entryKey(target);
    try {
      await this.options.commands
        .multi()
        .set(key, JSON.stringify(entry), { expiration: { type: 'PXAT', value: entry.forgetAt } })
        .zAdd(this.indexKey, { score: entry.forgetAt, value: key })
        .zRemRangeByScore(this.indexKey, '-inf', now)
        // The index lives as long as its newest entry.
        .pExpireAt(this.indexKey, entry.forgetAt)
        .publish(this.channel, JSON.stringify({ node: this.options.nodeId, revocation: entry }))
        .exec();
    } catch (error) {
      this.options.onError(error, 'storing a revocation');
      // Posting it again is harmless: the same target is simply revoked anew.
      throw new RelaisError(
        'INTERNAL',
        'The revocation could not be stored: Redis is unreachable from this node. Nothing was revoked; post it again.',
      );
    }
    this.mirror.restore(entry, now);
    return entry;
  }

  async close(): Promise<void> {
    this.stopFollowingReconnections?.();
    this.stopFollowingReconnections = undefined;
    if (this.subscribed && this.options.subscriber.isReady) {
      await this.options.subscriber.unsubscribe(this.channel).catch(() => undefined);
    }
    this.subscribed = false;
  }

  private onMessage(message: string): void {
    let parsed: z.infer<typeof messageSchema>;
    try {
      const result = messageSchema.safeParse(JSON.parse(message));
      if (!result.success) return;
      parsed = result.data;
    } catch {
      return;
    }
    if (parsed.node === this.options.nodeId) return;
    this.apply(parsed.revocation as Revocation);
  }

  private apply(entry: Revocation): void {
    try {
      if (this.mirror.restore(entry)) this.options.onRemoteRevocation(entry);
    } catch (error) {
      this.options.onError(error, 'applying a revocation');
    }
  }

  /** Reads every revocation in force into the mirror; `endSessions`: also for the ones it lacked. */
  private async load(endSessions: boolean): Promise<void> {
    const now = Date.now();
    const keys = await this.options.commands.zRange(this.indexKey, now, '+inf', { BY: 'SCORE' });
    const entries: Revocation[] = [];
    for (let start = 0; start < keys.length; start += 1000) {
      const values = await this.options.commands.mGet(keys.slice(start, start + 1000));
      for (const value of values) {
        const entry = value === null ? undefined : parseRevocation(value);
        if (entry) entries.push(entry);
      }
    }
    // Oldest first, so the mirror stays ordered by forgetAt.
    entries.sort((a, b) => a.forgetAt - b.forgetAt);
    for (const entry of entries) {
      if (endSessions) this.apply(entry);
      else this.mirror.restore(entry, now);
    }
  }
}
