import { z } from 'zod';
import { RelaisError } from '../domain/errors.js';
import { MEDIA_SOURCES, ROLES } from '../domain/roles.js';
import { parseRoomEvent, type RoomEvent } from '../domain/roomEvents.js';
import { type AdmissionRefusal, ROOM_POLICIES, type RoomPolicy } from '../domain/roomPolicy.js';
import type { RoomSummary } from '../domain/roomSummary.js';
import {
  type Admission,
  type LobbyEntry,
  type JoinEntries,
  type JoinOutcome,
  type LeaveEntries,
  type LeaveOutcome,
  MAX_ATTENDANCE_ENTRIES,
  type MemberRecord,
  overviewOf,
  type ProducerRecord,
  type SharedRoomOverview,
  type SharedRoomState,
  viewOf,
} from '../domain/sharedRoomState.js';
import { isOnStage } from '../domain/stage.js';
import type { RedisClient } from './RedisConnection.js';
import {
  APPEND_ATTENDANCE,
  BAN,
  DECIDE_LOBBY,
  ENTER_LOBBY,
  JOIN,
  LEAVE,
  LEAVE_LOBBY,
  PRODUCER_ADDED,
  PRODUCER_CHANGED,
  SET_POLICY,
  SET_SPOTLIGHT,
  SUMMARY,
  UPDATE,
} from './roomStateScripts.js';

const memberRecord = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  handRaised: z.boolean(),
  hasFloor: z.boolean(),
  node: z.string(),
  joinedAt: z.number(),
  muted: z.boolean(),
});
const lobbyEntry = z.object({
  sub: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  since: z.number(),
  node: z.string(),
});
const policy = z.enum(ROOM_POLICIES);
const producerRecord = z.object({
  producerId: z.string(),
  participantId: z.string(),
  kind: z.enum(['audio', 'video']),
  source: z.enum(MEDIA_SOURCES),
  paused: z.boolean(),
  node: z.string(),
});

/** Rooms listed per SCAN step by the admin API. */
const SCAN_COUNT = 500;

/**
 * The room state in Redis (or Valkey), per room: `members` and `stage` hashes of JSON records,
 * a `hands` set, a `producers` hash, an `attendance` list. Every write is one Lua script (see roomStateScripts.ts):
 * a node never reads, modifies and writes another node's record. The keys of a room disappear
 * with its last member.
 */
export class RedisRoomState implements SharedRoomState {
  private readonly prefix: string;

  constructor(
    private readonly redis: RedisClient,
    options: { keyPrefix?: string } = {},
  ) {
    this.prefix = options.keyPrefix ?? 'relais:';
  }

  /** The keys of one room, in the scripts' KEYS order. */
  keys(roomId: string): string[] {
    const base = `${this.prefix}room:{${roomId}}:`;
    return [
      `${base}members`,
      `${base}stage`,
      `${base}hands`,
      `${base}producers`,
      `${base}attendance`,
      `${base}meta`,
      `${base}lobby`,
      `${base}admitted`,
      `${base}bans`,
      `${base}grace`,
    ];
  }

  async join(
    roomId: string,
    member: MemberRecord,
    maxParticipants: number,
    entries?: JoinEntries,
    admission?: Admission,
  ): Promise<JoinOutcome> {
    const answer = (await this.run(JOIN, roomId, [
      member.id,
      JSON.stringify(member),
      String(maxParticipants),
      ...flags(member),
      entries ? JSON.stringify(entries.started) : '',
      entries ? JSON.stringify(entries.joined) : '',
      String(MAX_ATTENDANCE_ENTRIES),
      admission?.role ?? member.role,
      admission?.policy ?? '',
      admission?.preadmitted ? '1' : '0',
      admission?.defaultPolicy ?? 'open',
      String(admission?.now ?? Date.now()),
    ])) as [number, string, number?, number?, string?, string?];
    if (answer[0] === 0) return { ok: false, reason: answer[1] as AdmissionRefusal };
    const previousNode = answer[1];
    const changedFrom = answer[5] ? policy.parse(answer[5]) : undefined;
    const outcome = {
      ok: true as const,
      started: answer[2] === 1,
      rejoined: answer[3] === 1,
      policy: policy.parse(answer[4]),
      ...(changedFrom ? { policyChangedFrom: changedFrom } : {}),
    };
    return previousNode && previousNode !== member.node ? { ...outcome, previousNode } : outcome;
  }

  async update(roomId: string, member: MemberRecord): Promise<void> {
    await this.run(UPDATE, roomId, [member.id, JSON.stringify(member), member.node, ...flags(member)]);
  }

  async leave(roomId: string, memberId: string, node: string, entries?: LeaveEntries): Promise<LeaveOutcome> {
    const [left, finished] = (await this.run(LEAVE, roomId, [
      memberId,
      node,
      entries ? JSON.stringify(entries.left) : '',
      String(MAX_ATTENDANCE_ENTRIES),
      entries?.graceUntil !== undefined ? String(entries.graceUntil) : '',
    ])) as [number, number];
    return { left: left === 1, finished: finished === 1 };
  }

  async appendAttendance(roomId: string, event: RoomEvent): Promise<void> {
    await this.run(APPEND_ATTENDANCE, roomId, [JSON.stringify(event), String(MAX_ATTENDANCE_ENTRIES)]);
  }

  async attendance(roomId: string): Promise<RoomEvent[]> {
    const raw = await this.redis.lRange(this.keys(roomId)[4] as string, 0, -1);
    // Each entry was checked by the node that wrote it; checked again, as anything read off Redis.
    return raw.flatMap((text) => {
      try {
        return [parseRoomEvent(JSON.parse(text))];
      } catch {
        return [];
      }
    });
  }

  async policy(roomId: string): Promise<RoomPolicy | undefined> {
    const keys = this.keys(roomId);
    if ((await this.redis.exists(keys[0] as string)) === 0) return undefined;
    const raw = await this.redis.hGet(keys[5] as string, 'policy');
    return raw ? policy.parse(raw) : undefined;
  }

  async setPolicy(roomId: string, next: RoomPolicy): Promise<RoomPolicy | undefined> {
    const [done, previous] = (await this.run(SET_POLICY, roomId, [next])) as [number, string];
    return done === 1 && previous ? policy.parse(previous) : undefined;
  }

  async spotlight(roomId: string): Promise<string | undefined> {
    const keys = this.keys(roomId);
    if ((await this.redis.exists(keys[0] as string)) === 0) return undefined;
    return (await this.redis.hGet(keys[5] as string, 'spotlight')) ?? undefined;
  }

  async setSpotlight(roomId: string, participantId: string | null): Promise<void> {
    await this.run(SET_SPOTLIGHT, roomId, [participantId ?? '']);
  }

  async ban(roomId: string, sub: string): Promise<void> {
    await this.run(BAN, roomId, [sub]);
  }

  async enterLobby(roomId: string, entry: LobbyEntry): Promise<LobbyEntry> {
    const kept = (await this.run(ENTER_LOBBY, roomId, [entry.sub, JSON.stringify(entry), entry.node])) as string;
    return lobbyEntry.parse(JSON.parse(kept));
  }

  async leaveLobby(roomId: string, sub: string, node: string): Promise<void> {
    await this.run(LEAVE_LOBBY, roomId, [sub, node]);
  }

  async lobby(roomId: string): Promise<LobbyEntry[]> {
    return parseAll(lobbyEntry, await this.redis.hVals(this.keys(roomId)[6] as string));
  }

  async decideLobby(
    roomId: string,
    subs: readonly string[] | 'all',
    outcome: 'admitted' | 'refused',
  ): Promise<LobbyEntry[]> {
    if (subs !== 'all' && subs.length === 0) return [];
    const targets = subs === 'all' ? ['*'] : [...subs];
    return parseAll(lobbyEntry, (await this.run(DECIDE_LOBBY, roomId, [outcome, ...targets])) as string[]);
  }

  async member(roomId: string, memberId: string): Promise<MemberRecord | undefined> {
    const [members] = this.keys(roomId);
    const raw = await this.redis.hGet(members as string, memberId);
    return raw ? memberRecord.parse(JSON.parse(raw)) : undefined;
  }

  async members(roomId: string): Promise<MemberRecord[]> {
    const [members] = this.keys(roomId);
    return parseAll(memberRecord, await this.redis.hVals(members as string));
  }

  async onStage(roomId: string): Promise<MemberRecord[]> {
    const [, stage] = this.keys(roomId);
    return parseAll(memberRecord, await this.redis.hVals(stage as string));
  }

  async summary(roomId: string): Promise<RoomSummary> {
    const [participants, handsRaised, stage] = (await this.run(SUMMARY, roomId, [])) as [number, number, string[]];
    const speakers = parseAll(memberRecord, stage).filter(isOnStage).map(viewOf);
    return { participants, speakers, handsRaised };
  }

  async producerAdded(roomId: string, producer: ProducerRecord): Promise<void> {
    await this.run(PRODUCER_ADDED, roomId, [
      producer.producerId,
      JSON.stringify(producer),
      producer.participantId,
      producer.node,
    ]);
  }

  async producerUpdated(roomId: string, producer: ProducerRecord): Promise<void> {
    await this.run(PRODUCER_CHANGED, roomId, [producer.producerId, JSON.stringify(producer), producer.node]);
  }

  async producerRemoved(roomId: string, producerId: string, node: string): Promise<void> {
    await this.run(PRODUCER_CHANGED, roomId, [producerId, '', node]);
  }

  async producers(roomId: string): Promise<ProducerRecord[]> {
    const keys = this.keys(roomId);
    return parseAll(producerRecord, await this.redis.hVals(keys[3] as string));
  }

  async rooms(): Promise<SharedRoomOverview[]> {
    const pattern = `${this.prefix}room:{*}:members`;
    const ids = new Set<string>();
    let cursor = '0';
    do {
      const reply = await this.redis.scan(cursor, { MATCH: pattern, COUNT: SCAN_COUNT });
      cursor = String(reply.cursor);
      for (const key of reply.keys) {
        const id = /room:\{(.+)\}:members$/.exec(key)?.[1];
        if (id) ids.add(id);
      }
    } while (cursor !== '0');
    const overviews: SharedRoomOverview[] = [];
    for (const id of [...ids].sort()) {
      const [members, producers] = await Promise.all([this.members(id), this.redis.hLen(this.keys(id)[3] as string)]);
      if (members.length > 0) overviews.push(overviewOf(id, members, producers));
    }
    return overviews;
  }

  private async run(script: typeof JOIN, roomId: string, args: string[]): Promise<unknown> {
    try {
      return await script.run(this.redis, this.keys(roomId), args);
    } catch (error) {
      // The caller's request fails with a code the client understands; the cause is logged upstream.
      throw new RelaisError('UNAVAILABLE', `The cluster's shared state is unreachable (${(error as Error).message}).`);
    }
  }
}

function flags(member: MemberRecord): [string, string] {
  return [isOnStage(member) ? '1' : '0', member.handRaised ? '1' : '0'];
}

function parseAll<T>(schema: z.ZodType<T>, raw: string[]): T[] {
  return raw.map((text) => schema.parse(JSON.parse(text)));
}
