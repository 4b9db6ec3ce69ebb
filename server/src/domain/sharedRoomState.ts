import type { ParticipantView } from './Participant.js';
import type { MediaSource, Role } from './roles.js';
import type { AdmissionRefusal, RoomPolicy } from './roomPolicy.js';
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
  | {
      ok: true;
      previousNode?: string;
      started: boolean;
      rejoined: boolean;
      /** The room's policy now. */
      policy: RoomPolicy;
      /** The first moderator's token changed the policy the room started with (from this one). */
      policyChangedFrom?: RoomPolicy;
    }
  | { ok: false; reason: AdmissionRefusal };

/**
 * What decides a newcomer's admission, checked in the same atomic step as the join (so that
 * no crafted or repeated join gets around it): banned people never enter; moderators and
 * people already in always do; in a locked room only those back within their grace period;
 * in a lobby room those back within it, pre-admitted tokens and people a moderator admitted.
 */
export interface Admission {
  role: Role;
  /** The token's `policy` claim: the room's first moderator sets the policy with it. */
  policy?: RoomPolicy;
  preadmitted: boolean;
  /** RELAIS_ROOM_POLICY: the policy of a room that starts without such a claim. */
  defaultPolicy: RoomPolicy;
  now: number;
}

/** Someone waiting in a room's lobby, on the node holding their connection. */
export interface LobbyEntry {
  sub: string;
  name: string;
  role: Role;
  /** When they started waiting (ms since the epoch). */
  since: number;
  node: string;
}

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
  /** Until when (ms) they may come back into a locked room; absent for someone removed. */
  graceUntil?: number;
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
  join(
    roomId: string,
    member: MemberRecord,
    maxParticipants: number,
    entries?: JoinEntries,
    admission?: Admission,
  ): Promise<JoinOutcome>;
  /** Rewrites a member's record; ignored unless the stored record belongs to `member.node`. */
  update(roomId: string, member: MemberRecord): Promise<void>;
  /** Removes a member (and their producers) if the stored record belongs to `node`. */
  leave(roomId: string, memberId: string, node: string, entries?: LeaveEntries): Promise<LeaveOutcome>;
  /** Adds an entry to the room's attendance register; ignored when nobody is in the room. */
  appendAttendance(roomId: string, event: RoomEvent): Promise<void>;
  /** The room's attendance entries in the order they were written (empty once the room ended). */
  attendance(roomId: string): Promise<RoomEvent[]>;
  /** The room's policy; undefined when nobody is in it. */
  policy(roomId: string): Promise<RoomPolicy | undefined>;
  /** Sets the policy of a live room; resolves with the previous one (undefined: not live, nothing set). */
  setPolicy(roomId: string, policy: RoomPolicy): Promise<RoomPolicy | undefined>;
  /** The participant a moderator put in front of everyone; undefined when none (or not live). */
  spotlight(roomId: string): Promise<string | undefined>;
  /** Sets (or clears, with null) the spotlight of a live room. */
  setSpotlight(roomId: string, participantId: string | null): Promise<void>;
  /** Keeps `sub` out of the room until it ends (refused or removed); ignored when nobody is in it. */
  ban(roomId: string, sub: string): Promise<void>;
  /** Puts someone in the lobby (or back, keeping when they first waited); resolves with their entry. */
  enterLobby(roomId: string, entry: LobbyEntry): Promise<LobbyEntry>;
  /** Removes `sub`'s entry if `node` holds it (they left, or entered the room). */
  leaveLobby(roomId: string, sub: string, node: string): Promise<void>;
  lobby(roomId: string): Promise<LobbyEntry[]>;
  /**
   * Admits (they may join) or refuses (banned) those waiting among `subs`, or everyone waiting
   * with 'all'; resolves with the entries decided (those no longer waiting are left out).
   */
  decideLobby(roomId: string, subs: readonly string[] | 'all', outcome: 'admitted' | 'refused'): Promise<LobbyEntry[]>;
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
