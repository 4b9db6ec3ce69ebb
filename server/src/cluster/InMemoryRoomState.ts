import { summarize, type RoomSummary } from '../domain/roomSummary.js';
import type { RoomEvent } from '../domain/roomEvents.js';
import {
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
}

/** The embedded default: one node, the room's state in this process. */
export class InMemoryRoomState implements SharedRoomState {
  private readonly rooms_ = new Map<string, RoomRecords>();

  private room(roomId: string): RoomRecords {
    let room = this.rooms_.get(roomId);
    if (!room) {
      room = { members: new Map(), producers: new Map(), attendance: [] };
      this.rooms_.set(roomId, room);
    }
    return room;
  }

  async join(
    roomId: string,
    member: MemberRecord,
    maxParticipants: number,
    entries?: JoinEntries,
  ): Promise<JoinOutcome> {
    const room = this.room(roomId);
    const previous = room.members.get(member.id);
    if (!previous && room.members.size >= maxParticipants) {
      this.forgetIfEmpty(roomId);
      return { ok: false, reason: 'full' };
    }
    const started = room.members.size === 0;
    room.members.set(member.id, { ...member });
    if (entries && started) this.keep(room, entries.started);
    if (entries && !previous) this.keep(room, entries.joined);
    const outcome = { ok: true as const, started, rejoined: previous !== undefined };
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
