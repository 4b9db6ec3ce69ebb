import type { Logger } from '../observability/logger.js';
import type { NodeRegistry } from './NodeRegistry.js';
import type { RedisClient } from './RedisConnection.js';
import { roomNodesKey } from './RedisRoomNodes.js';
import { RedisScript } from './redisScript.js';

/**
 * KEYS: the room state's keys in its order (roomStateScripts.ts): members, stage, hands,
 * producers, then the others, deleted with the last member — all but the 7th, the lobby, which
 * outlives the members (people wait there for a moderator to come); then the set of nodes
 * hosting the room (RedisRoomNodes).
 * ARGV: the ids of the live nodes. Removes every member, producer, lobby entry and hosting entry
 * of a node not in the list; returns the ids of the members removed and how many lobby entries went.
 */
const PURGE_DEAD_NODES = new RedisScript(`
local live = {}
for _, id in ipairs(ARGV) do live[id] = true end
local removed = {}
local members = redis.call('HGETALL', KEYS[1])
for i = 1, #members, 2 do
  if not live[cjson.decode(members[i + 1]).node] then
    redis.call('HDEL', KEYS[1], members[i])
    redis.call('HDEL', KEYS[2], members[i])
    redis.call('SREM', KEYS[3], members[i])
    table.insert(removed, members[i])
  end
end
local producers = redis.call('HGETALL', KEYS[4])
for i = 1, #producers, 2 do
  if not live[cjson.decode(producers[i + 1]).node] then redis.call('HDEL', KEYS[4], producers[i]) end
end
for _, node in ipairs(redis.call('SMEMBERS', KEYS[#KEYS])) do
  if not live[node] then redis.call('SREM', KEYS[#KEYS], node) end
end
local lobbyRemoved = 0
local waiting = redis.call('HGETALL', KEYS[7])
for i = 1, #waiting, 2 do
  if not live[cjson.decode(waiting[i + 1]).node] then
    redis.call('HDEL', KEYS[7], waiting[i])
    lobbyRemoved = lobbyRemoved + 1
  end
end
-- The rest of the room goes with its last member, as when a member leaves (not for a room
-- where people wait alone: it has nothing else, and no one was removed from it).
if (#removed > 0 or lobbyRemoved > 0) and redis.call('HLEN', KEYS[1]) == 0 then
  for k = 2, #KEYS - 1 do if k ~= 7 then redis.call('DEL', KEYS[k]) end end
end
return {removed, lobbyRemoved}
`);

/** Without a change in the registry, rooms are still swept every this many periods. */
const SLOW_SWEEP_TICKS = 15;

export interface DeadNodeReaperOptions {
  nodeId: string;
  redis: RedisClient;
  nodes: NodeRegistry;
  /** The keys of one room, in the room state's order (members, stage, hands, producers, others). */
  keys: (roomId: string) => string[];
  keyPrefix?: string;
  /** Members removed because their node died: the room's members are told. */
  gone: (roomId: string, memberIds: string[]) => void;
  /** People waiting in the lobby through a node that died, removed: the moderators are told. */
  lobbyGone?: (roomId: string) => void;
  /** Nodes that left the registry since the last look (every node hears it, for its own links). */
  nodesGone?: (nodeIds: string[]) => void;
  logger: Logger;
  periodMs?: number;
  /** Nodes that start together see each other only after a heartbeat or two. */
  holdAfterStartMs?: number;
}

/**
 * A node killed (kill -9, machine lost) cannot say its members left. Once its registry entry
 * has expired, one live node — the first by id, so that members are told once — removes its
 * members and producers from every room's shared state and has the room told.
 */
export class DeadNodeReaper {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private lastLive = '';
  private ticks = 0;
  private heldUntil = 0;

  constructor(private readonly options: DeadNodeReaperOptions) {}

  /**
   * No sweep for a while: after Redis came back (perhaps empty) the registry fills again only as
   * nodes beat, and a node missing meanwhile is not dead.
   */
  holdFor(ms: number): void {
    this.heldUntil = Math.max(this.heldUntil, Date.now() + ms);
  }

  start(): void {
    this.holdFor(this.options.holdAfterStartMs ?? 0);
    this.timer = setInterval(() => void this.sweep(), this.options.periodMs ?? 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One pass; returns how many members were removed. */
  async sweep(): Promise<number> {
    if (this.running || Date.now() < this.heldUntil) return 0;
    this.running = true;
    try {
      const live = (await this.options.nodes.list()).map((node) => node.id);
      if (!live.includes(this.options.nodeId)) live.push(this.options.nodeId);
      live.sort();
      // Rooms are scanned when a node has gone from the registry, and now and then in case the
      // node that should have swept died too.
      const changed = live.join(',') !== this.lastLive;
      const departed = this.lastLive ? this.lastLive.split(',').filter((id) => !live.includes(id)) : [];
      this.lastLive = live.join(',');
      if (departed.length > 0) this.options.nodesGone?.(departed);
      this.ticks += 1;
      if (live[0] !== this.options.nodeId || (!changed && this.ticks % SLOW_SWEEP_TICKS !== 0)) return 0;
      let removed = 0;
      for (const roomId of await this.roomIds()) {
        const [gone, lobbyRemoved] = (await PURGE_DEAD_NODES.run(
          this.options.redis,
          [...this.options.keys(roomId), roomNodesKey(roomId, this.options.keyPrefix)],
          live,
        )) as [string[], number];
        if (lobbyRemoved > 0) {
          this.options.logger.warn({ room: roomId, waiting: lobbyRemoved }, 'lobby entries of a dead node removed');
          this.options.lobbyGone?.(roomId);
        }
        if (gone.length === 0) continue;
        removed += gone.length;
        this.options.logger.warn(
          { room: roomId, members: gone.length },
          'members of a dead node removed from the room',
        );
        this.options.gone(roomId, gone);
      }
      return removed;
    } catch (error) {
      this.options.logger.debug({ err: error }, 'dead node sweep failed');
      return 0;
    } finally {
      this.running = false;
    }
  }

  /** Rooms with members, and rooms where people wait for a moderator who has not come yet. */
  private async roomIds(): Promise<string[]> {
    const prefix = this.options.keyPrefix ?? 'relais:';
    const ids = new Set<string>();
    // One pass over the keyspace: `[ml]*` lets through the members and lobby keys (and meta).
    let cursor = '0';
    do {
      const reply = await this.options.redis.scan(cursor, { MATCH: `${prefix}room:{*}:[ml]*`, COUNT: 500 });
      cursor = String(reply.cursor);
      for (const key of reply.keys) {
        const id = /room:\{(.+)\}:(members|lobby)$/.exec(key)?.[1];
        if (id) ids.add(id);
      }
    } while (cursor !== '0');
    return [...ids];
  }
}
