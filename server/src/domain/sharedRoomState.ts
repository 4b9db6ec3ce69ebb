import type { ParticipantView } from './Participant.js';
import type { MediaSource, Role } from './roles.js';
import type { RoomEvent } from './roomEvents.js';
import type { RoomSummary } from './roomSummary.js';

/**
 * A room as every node of a cluster sees it. Each node writes only what it owns (the members
 * connected to it, the producers they send) and reads the whole room. In memory without Redis,
 * in Redis with it: the same calls either way.
 */

/** A member of the room and the node holding their session. */
export interface MemberRecord extends ParticipantView {
  node: string;
  joinedAt: number;
  /** Their microphone is paused (by them or by a moderator). */
  muted: boolean;
}

/** A producer of the room and the node it is sent to. */
export interface ProducerRecord {
  producerId: string;
  participantId: string;
  kind: 'audio' | 'video';
  source: MediaSource;
  paused: boolean;
  node: string;
}

/**
 * `previousNode`: the person was already in the room through that node (a session to end there).
 * `started`: this join made the room non-empty (this node tells the world the room started).
 * `rejoined`: the person was already in the room (their presence goes on: no new `joined`).
 */
export type JoinOutcome =
  | { ok: true; previousNode?: string; started: boolean; rejoined: boolean }
  | { ok: false; reason: 'full' };

/** `left`: this call removed the member; `finished`: and the room is now empty (its keys are gone). */
export interface LeaveOutcome {
  left: boolean;
  finished: boolean;
}

/**
 * The attendance entries written with a join or a leave, in the same atomic step: `started` is
 * kept only if the room was empty, `joined` only if the person was not already in it, and a
 * room emptied by the leave forgets its register with its other records.
 */
export interface JoinEntries {
  started: RoomEvent;
  joined: RoomEvent;
}
export interface LeaveEntries {
  left: RoomEvent;
}

/** Attendance entries kept per room at most; later ones are not kept (the export says it is incomplete). */
export const MAX_ATTENDANCE_ENTRIES = 50_000;

/** One room as operators see it, cluster-wide: counts only. */
export interface SharedRoomOverview {
  id: string;
  participants: number;
  byRole: Record<Role, number>;
  /** Node id → members connected there. */
  byNode: Record<string, number>;
  producers: number;
}

export interface SharedRoomState {
  /**
   * Adds (or replaces) a member, atomically refusing a newcomer when the room already has
   * `maxParticipants` members on all nodes together.
   */
  join(roomId: string, member: MemberRecord, maxParticipants: number, entries?: JoinEntries): Promise<JoinOutcome>;
  /** Rewrites a member's record; ignored unless the stored record belongs to `member.node`. */
  update(roomId: string, member: MemberRecord): Promise<void>;
  /** Removes a member (and their producers) if the stored record belongs to `node`. */
  leave(roomId: string, memberId: string, node: string, entries?: LeaveEntries): Promise<LeaveOutcome>;
  /** Adds an entry to the room's attendance register; ignored when nobody is in the room. */
  appendAttendance(roomId: string, event: RoomEvent): Promise<void>;
  /** The room's attendance entries in the order they were written (empty once the room ended). */
  attendance(roomId: string): Promise<RoomEvent[]>;
  member(roomId: string, memberId: string): Promise<MemberRecord | undefined>;
  members(roomId: string): Promise<MemberRecord[]>;
  /** Those a listener hears and sees (moderators, speakers, a listener holding the floor). */
  onStage(roomId: string): Promise<MemberRecord[]>;
  /** What listeners are told: counts over every node, those on stage. */
  summary(roomId: string): Promise<RoomSummary>;
  producerAdded(roomId: string, producer: ProducerRecord): Promise<void>;
  /** Rewrites a producer's record; ignored unless it belongs to `producer.node`. */
  producerUpdated(roomId: string, producer: ProducerRecord): Promise<void>;
  producerRemoved(roomId: string, producerId: string, node: string): Promise<void>;
  producers(roomId: string): Promise<ProducerRecord[]>;
  /** Every room with someone in it, on any node. */
  rooms(): Promise<SharedRoomOverview[]>;
}

/** The wire view of a record (no node, no times). */
export function viewOf(member: MemberRecord): ParticipantView {
  return {
    id: member.id,
    name: member.name,
    role: member.role,
    handRaised: member.handRaised,
    hasFloor: member.hasFloor,
  };
}

/** Counts of one room from its records: the same figures whichever store holds them. */
export function overviewOf(id: string, members: readonly MemberRecord[], producers: number): SharedRoomOverview {
  const byRole: Record<Role, number> = { moderator: 0, speaker: 0, listener: 0 };
  const byNode: Record<string, number> = {};
  for (const member of members) {
    byRole[member.role] += 1;
    byNode[member.node] = (byNode[member.node] ?? 0) + 1;
  }
  return { id, participants: members.length, byRole, byNode, producers };
}
