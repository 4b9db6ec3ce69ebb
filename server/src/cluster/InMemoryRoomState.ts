import { summarize, type RoomSummary } from '../domain/roomSummary.js';
import type { RoomEvent } from '../domain/roomEvents.js';
import type { RoomPolicy } from '../domain/roomPolicy.js';
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

interface RoomRecords {
  members: Map<string, MemberRecord>;
  producers: Map<string, ProducerRecord>;
  attendance: RoomEvent[];
  policy?: { policy: RoomPolicy; source: 'default' | 'token' | 'moderator' };
  spotlight?: string;
  admitted: Set<string>;
  bans: Set<string>;
  /** sub → until when (ms) they may come back into a locked room. */
  grace: Map<string, number>;
}

const OPEN_ADMISSION = (member: MemberRecord): Admission => ({
  role: member.role,
  preadmitted: false,
  defaultPolicy: 'open',
  now: Date.now(),
});

/** The embedded default: one node, the room's state in this process. */
export class InMemoryRoomState implements SharedRoomState {
  private readonly rooms_ = new Map<string, RoomRecords>();
  /** Apart from the rooms: people may wait in the lobby of a room nobody is in yet. */
  private readonly lobbies = new Map<string, Map<string, LobbyEntry>>();

  private room(roomId: string): RoomRecords {
    let room = this.rooms_.get(roomId);
    if (!room) {
      room = {
        members: new Map(),
        producers: new Map(),
        attendance: [],
        admitted: new Set(),
        bans: new Set(),
        grace: new Map(),
      };
      this.rooms_.set(roomId, room);
    }
    return room;
  }

  async join(
    roomId: string,
    member: MemberRecord,
    maxParticipants: number,
    entries?: JoinEntries,
    admission: Admission = OPEN_ADMISSION(member),
  ): Promise<JoinOutcome> {
    const room = this.room(roomId);
    const previous = room.members.get(member.id);
    const started = room.members.size === 0;
    let { policy, source } =
      !started && room.policy ? room.policy : { policy: admission.defaultPolicy, source: 'default' as const };
    let policyChangedFrom: RoomPolicy | undefined;
    if (admission.role === 'moderator' && source === 'default') {
      if (admission.policy && admission.policy !== policy) {
        if (!started) policyChangedFrom = policy;
        policy = admission.policy;
      }
      source = 'token';
    }
    const refusal = ((): 'banned' | 'locked' | 'lobby' | 'full' | undefined => {
      if (room.bans.has(member.id)) return 'banned';
      if (previous) return undefined;
      const returning = (room.grace.get(member.id) ?? 0) >= admission.now;
      if (admission.role !== 'moderator' && !returning) {
        if (policy === 'locked') return 'locked';
        if (policy === 'lobby' && !admission.preadmitted && !room.admitted.has(member.id)) return 'lobby';
      }
      return room.members.size >= maxParticipants ? 'full' : undefined;
    })();
    if (refusal) {
      this.forgetIfEmpty(roomId);
      return { ok: false, reason: refusal };
    }
    room.members.set(member.id, { ...member });
    room.policy = { policy, source };
    room.grace.delete(member.id);
    this.lobbies.get(roomId)?.delete(member.id);
    if (entries && started) this.keep(room, entries.started);
    if (entries && !previous) this.keep(room, entries.joined);
    const outcome = {
      ok: true as const,
      started,
      rejoined: previous !== undefined,
      policy,
      ...(policyChangedFrom ? { policyChangedFrom } : {}),
    };
    return previous && previous.node !== member.node ? { ...outcome, previousNode: previous.node } : outcome;
  }

  async update(roomId: string, member: MemberRecord): Promise<void> {
    const room = this.rooms_.get(roomId);
    if (room?.members.get(member.id)?.node === member.node) room.members.set(member.id, { ...member });
  }

  async leave(roomId: string, memberId: string, node: string, entries?: LeaveEntries): Promise<LeaveOutcome> {
    const room = this.rooms_.get(roomId);
    if (!room || room.members.get(memberId)?.node !== node) return { left: false, finished: false };
    room.members.delete(memberId);
    for (const [id, producer] of room.producers)
      if (producer.participantId === memberId && producer.node === node) room.producers.delete(id);
    if (entries) this.keep(room, entries.left);
    if (entries?.graceUntil !== undefined) room.grace.set(memberId, entries.graceUntil);
    this.forgetIfEmpty(roomId);
    return { left: true, finished: room.members.size === 0 };
  }

  async appendAttendance(roomId: string, event: RoomEvent): Promise<void> {
    const room = this.rooms_.get(roomId);
    if (room && room.members.size > 0) this.keep(room, event);
  }

  async attendance(roomId: string): Promise<RoomEvent[]> {
    return [...(this.rooms_.get(roomId)?.attendance ?? [])];
  }

  async policy(roomId: string): Promise<RoomPolicy | undefined> {
    const room = this.rooms_.get(roomId);
    return room && room.members.size > 0 ? room.policy?.policy : undefined;
  }

  async setPolicy(roomId: string, policy: RoomPolicy): Promise<RoomPolicy | undefined> {
    const room = this.rooms_.get(roomId);
    if (!room || room.members.size === 0 || !room.policy) return undefined;
    const previous = room.policy.policy;
    room.policy = { policy, source: 'moderator' };
    return previous;
  }

  async spotlight(roomId: string): Promise<string | undefined> {
    const room = this.rooms_.get(roomId);
    return room && room.members.size > 0 ? room.spotlight : undefined;
  }

  async setSpotlight(roomId: string, participantId: string | null): Promise<void> {
    const room = this.rooms_.get(roomId);
    if (!room || room.members.size === 0) return;
    if (participantId === null) delete room.spotlight;
    else room.spotlight = participantId;
  }

  async ban(roomId: string, sub: string): Promise<void> {
    const room = this.rooms_.get(roomId);
    if (!room || room.members.size === 0) return;
    room.bans.add(sub);
    room.admitted.delete(sub);
    room.grace.delete(sub);
  }

  async enterLobby(roomId: string, entry: LobbyEntry): Promise<LobbyEntry> {
    let lobby = this.lobbies.get(roomId);
    if (!lobby) {
      lobby = new Map();
      this.lobbies.set(roomId, lobby);
    }
    const kept = { ...entry, since: lobby.get(entry.sub)?.since ?? entry.since };
    lobby.set(entry.sub, kept);
    return { ...kept };
  }

  async leaveLobby(roomId: string, sub: string, node: string): Promise<void> {
    const lobby = this.lobbies.get(roomId);
    if (lobby?.get(sub)?.node !== node) return;
    lobby.delete(sub);
    if (lobby.size === 0) this.lobbies.delete(roomId);
  }

  async lobby(roomId: string): Promise<LobbyEntry[]> {
    return [...(this.lobbies.get(roomId)?.values() ?? [])].map((entry) => ({ ...entry }));
  }

  async decideLobby(
    roomId: string,
    subs: readonly string[] | 'all',
    outcome: 'admitted' | 'refused',
  ): Promise<LobbyEntry[]> {
    const lobby = this.lobbies.get(roomId);
    const room = this.rooms_.get(roomId);
    if (!lobby || !room) return [];
    const decided = [...lobby.values()].filter((entry) => subs === 'all' || subs.includes(entry.sub));
    for (const entry of decided) {
      lobby.delete(entry.sub);
      if (outcome === 'admitted') room.admitted.add(entry.sub);
      else room.bans.add(entry.sub);
    }
    if (lobby.size === 0) this.lobbies.delete(roomId);
    return decided;
  }

  private keep(room: RoomRecords, event: RoomEvent): void {
    if (room.attendance.length < MAX_ATTENDANCE_ENTRIES) room.attendance.push(event);
  }

  async member(roomId: string, memberId: string): Promise<MemberRecord | undefined> {
    const member = this.rooms_.get(roomId)?.members.get(memberId);
    return member ? { ...member } : undefined;
  }

  async members(roomId: string): Promise<MemberRecord[]> {
    return [...(this.rooms_.get(roomId)?.members.values() ?? [])].map((member) => ({ ...member }));
  }

  async onStage(roomId: string): Promise<MemberRecord[]> {
    return (await this.members(roomId)).filter(isOnStage);
  }

  async summary(roomId: string): Promise<RoomSummary> {
    return summarize((await this.members(roomId)).map(viewOf));
  }

  async producerAdded(roomId: string, producer: ProducerRecord): Promise<void> {
    const room = this.rooms_.get(roomId);
    if (room?.members.get(producer.participantId)?.node === producer.node)
      room.producers.set(producer.producerId, { ...producer });
  }

  async producerUpdated(roomId: string, producer: ProducerRecord): Promise<void> {
    const room = this.rooms_.get(roomId);
    if (room?.producers.get(producer.producerId)?.node === producer.node)
      room.producers.set(producer.producerId, { ...producer });
  }

  async producerRemoved(roomId: string, producerId: string, node: string): Promise<void> {
    const room = this.rooms_.get(roomId);
    if (room?.producers.get(producerId)?.node === node) room.producers.delete(producerId);
  }

  async producers(roomId: string): Promise<ProducerRecord[]> {
    return [...(this.rooms_.get(roomId)?.producers.values() ?? [])].map((producer) => ({ ...producer }));
  }

  async rooms(): Promise<SharedRoomOverview[]> {
    return [...this.rooms_].map(([id, room]) => overviewOf(id, [...room.members.values()], room.producers.size));
  }

  private forgetIfEmpty(roomId: string): void {
    if (this.rooms_.get(roomId)?.members.size === 0) this.rooms_.delete(roomId);
  }
}
