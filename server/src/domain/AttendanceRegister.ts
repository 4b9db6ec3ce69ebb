/**
 * Who was present in one room while it lived: fed with the room's events, exported as JSON or
 * CSV (see config/README.md, "Attendance register"). Pure: no clock, no I/O; it disappears
 * with its owner (the live room) unless someone exports it. Chat is never part of it.
 */
import { attendanceCsv } from './attendanceCsv.js';
import { conflict, invalid } from './errors.js';
import type { Role } from './roles.js';
import {
  type EventActor,
  type EventPerson,
  type LeaveReason,
  parseRoomEvent,
  type RemovalReason,
  type RoomEvent,
  type RoomFinishReason,
} from './roomEvents.js';

/** Why a presence ended: the participant's leaving, a removal, or the end of the room. */
export type PresenceEnd = LeaveReason | RemovalReason | RoomFinishReason;

export interface AttendancePresence {
  joinedAt: string;
  /** null while they are still in the room. */
  leftAt: string | null;
  /** Their role when they joined. */
  role: Role;
  leaveReason: PresenceEnd | null;
  removedBy?: EventActor;
}

export interface AttendanceFloor {
  givenAt: string;
  /** null while they hold it. */
  takenAt: string | null;
  givenBy?: EventActor;
  takenBy?: EventActor;
}

export interface AttendanceRoleChange {
  at: string;
  from: Role;
  to: Role;
  /** Absent when the change came with a new token at a rejoin. */
  by?: EventActor;
}

export interface AttendanceLobbyDecision {
  waitingSince: string;
  decidedAt: string;
  outcome: 'admitted' | 'refused';
  by?: EventActor;
}

export interface AttendancePerson {
  sub: string;
  /** As their latest token names them. */
  name: string;
  /** Their latest role. */
  role: Role;
  presences: AttendancePresence[];
  floor: AttendanceFloor[];
  roleChanges: AttendanceRoleChange[];
  lobby: AttendanceLobbyDecision[];
}

export interface AttendanceJson {
  room: string;
  startedAt: string | null;
  finishedAt: string | null;
  finishReason: RoomFinishReason | null;
  /** false once `omittedEntries` > 0: the register hit its bound and stopped adding entries. */
  complete: boolean;
  omittedEntries: number;
  /** In the order they first appeared. */
  people: AttendancePerson[];
}

export interface AttendanceRegisterOptions {
  /**
   * Most entries (people, presences, floor grants, role changes, lobby decisions) kept; beyond,
   * new ones are counted in `omittedEntries` and the export says it is incomplete. Keeps a room
   * that someone joins and leaves in a loop from growing the server's memory without bound.
   */
  maxEntries?: number;
}

export const DEFAULT_MAX_ATTENDANCE_ENTRIES = 50_000;

/** Times stay in milliseconds inside; exports show them as ISO 8601 UTC. */
interface Presence {
  joinedAt: number;
  leftAt: number | null;
  role: Role;
  leaveReason: PresenceEnd | null;
  removedBy?: EventActor;
}
interface Floor {
  givenAt: number;
  takenAt: number | null;
  givenBy?: EventActor;
  takenBy?: EventActor;
}
interface RoleChange {
  at: number;
  from: Role;
  to: Role;
  by?: EventActor;
}
interface LobbyDecision {
  waitingSince: number;
  decidedAt: number;
  outcome: 'admitted' | 'refused';
  by?: EventActor;
}
interface Person {
  sub: string;
  name: string;
  role: Role;
  presences: Presence[];
  floor: Floor[];
  roleChanges: RoleChange[];
  lobby: LobbyDecision[];
}

const iso = (ms: number): string => new Date(ms).toISOString();
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));
const withActor = <K extends string>(key: K, value: EventActor | undefined): Partial<Record<K, EventActor>> =>
  (value ? { [key]: value } : {}) as Partial<Record<K, EventActor>>;

export class AttendanceRegister {
  readonly room: string;
  private readonly maxEntries: number;
  private readonly people = new Map<string, Person>();
  private entries = 0;
  private omitted = 0;
  private startedAt: number | null = null;
  private finishedAt: number | null = null;
  private finishReason: RoomFinishReason | null = null;

  constructor(room: string, options: AttendanceRegisterOptions = {}) {
    this.room = room;
    const maxEntries = options.maxEntries ?? DEFAULT_MAX_ATTENDANCE_ENTRIES;
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw invalid('maxEntries must be a positive integer');
    this.maxEntries = maxEntries;
  }

  /**
   * Takes in one event of this room. A malformed event or one of another room is refused with
   * `INVALID_REQUEST`, one that contradicts the register (a second join without a leave, a
   * leave without a join, anything after the room finished) with `CONFLICT`; either way the
   * register is unchanged. The event is checked again here: it may come from another node.
   */
  record(value: RoomEvent): void {
    const event = parseRoomEvent(value);
    if (event.room !== this.room) throw invalid(`This register is room ${this.room}'s, not room ${event.room}'s.`);
    if (this.finishedAt !== null) throw conflict(`Room ${this.room} has finished; its register is closed.`);
    switch (event.type) {
      case 'room.started':
        if (this.startedAt !== null) throw conflict(`Room ${this.room} has already started.`);
        this.startedAt = event.at;
        return;
      case 'room.finished':
        this.finish(event.at, event.reason);
        return;
      case 'participant.joined':
        this.join(event.participant, event.at);
        return;
      case 'participant.left':
        this.leave(event.participant, event.at, event.reason);
        return;
      case 'participant.removed':
        this.leave(event.participant, event.at, event.reason, event.actor);
        return;
      case 'floor.given':
        this.giveFloor(event.participant, event.at, event.actor);
        return;
      case 'floor.taken':
        this.takeFloor(event.participant, event.at, event.actor);
        return;
      case 'role.changed':
        this.changeRole(event.participant, event.previous, event.at, event.actor);
        return;
      case 'lobby.admitted':
      case 'lobby.refused':
        this.decideLobby(event.participant, event.waitingSince, event.at, event.type, event.actor);
        return;
      case 'policy.changed':
        // The policy is the room's state, not anyone's attendance.
        return;
    }
  }

  toJson(): AttendanceJson {
    return {
      room: this.room,
      startedAt: isoOrNull(this.startedAt),
      finishedAt: isoOrNull(this.finishedAt),
      finishReason: this.finishReason,
      complete: this.omitted === 0,
      omittedEntries: this.omitted,
      people: [...this.people.values()].map((person) => ({
        sub: person.sub,
        name: person.name,
        role: person.role,
        presences: person.presences.map((p) => ({
          joinedAt: iso(p.joinedAt),
          leftAt: isoOrNull(p.leftAt),
          role: p.role,
          leaveReason: p.leaveReason,
          ...withActor('removedBy', p.removedBy),
        })),
        floor: person.floor.map((f) => ({
          givenAt: iso(f.givenAt),
          takenAt: isoOrNull(f.takenAt),
          ...withActor('givenBy', f.givenBy),
          ...withActor('takenBy', f.takenBy),
        })),
        roleChanges: person.roleChanges.map((r) => ({
          at: iso(r.at),
          from: r.from,
          to: r.to,
          ...withActor('by', r.by),
        })),
        lobby: person.lobby.map((l) => ({
          waitingSince: iso(l.waitingSince),
          decidedAt: iso(l.decidedAt),
          outcome: l.outcome,
          ...withActor('by', l.by),
        })),
      })),
    };
  }

  /**
   * One row per interval (a presence, a floor grant, a lobby wait; a role change is an instant),
   * safe to open in a spreadsheet; see `attendanceCsv`.
   */
  toCsv(options: { excelBom?: boolean } = {}): string {
    return attendanceCsv(this.toJson(), options);
  }

  private finish(at: number, reason: RoomFinishReason): void {
    for (const person of this.people.values()) {
      const presence = openPresence(person);
      if (presence) {
        presence.leftAt = at;
        presence.leaveReason = reason;
      }
      const floor = openFloor(person);
      if (floor) floor.takenAt = at;
    }
    this.finishedAt = at;
    this.finishReason = reason;
  }

  private join(who: EventPerson, at: number): void {
    const known = this.people.get(who.sub);
    if (known && openPresence(known)) throw conflict(`${who.sub} is already present in room ${this.room}.`);
    const person = known ?? this.addPerson(who);
    if (!person) return;
    if (!this.take(1)) return;
    // A rejoin with a new token may bring a new name or role: the register follows it.
    if (person.role !== who.role && (person.presences.length > 0 || person.roleChanges.length > 0)) {
      if (this.take(1)) person.roleChanges.push({ at, from: person.role, to: who.role });
    }
    person.name = who.name;
    person.role = who.role;
    person.presences.push({ joinedAt: at, leftAt: null, role: who.role, leaveReason: null });
  }

  private leave(who: EventPerson, at: number, reason: PresenceEnd, by?: EventActor): void {
    const person = this.people.get(who.sub);
    const presence = person && openPresence(person);
    if (!person || !presence) {
      // Its join may be among the omitted entries: nothing to close then.
      if (this.omitted > 0) return;
      throw conflict(`${who.sub} is not present in room ${this.room}.`);
    }
    presence.leftAt = at;
    presence.leaveReason = reason;
    if (by) presence.removedBy = by;
    // Leaving hands the floor back.
    const floor = openFloor(person);
    if (floor) floor.takenAt = at;
  }

  private giveFloor(who: EventPerson, at: number, by?: EventActor): void {
    const person = this.people.get(who.sub);
    if (!person || !openPresence(person)) {
      if (this.omitted > 0) return;
      throw conflict(`${who.sub} is not present in room ${this.room}.`);
    }
    if (openFloor(person)) throw conflict(`${who.sub} already has the floor.`);
    if (!this.take(1)) return;
    person.floor.push({ givenAt: at, takenAt: null, ...withActor('givenBy', by) });
  }

  private takeFloor(who: EventPerson, at: number, by?: EventActor): void {
    const person = this.people.get(who.sub);
    const floor = person && openFloor(person);
    if (!floor) {
      if (this.omitted > 0) return;
      throw conflict(`${who.sub} does not have the floor.`);
    }
    floor.takenAt = at;
    if (by) floor.takenBy = by;
  }

  private changeRole(who: EventPerson, previous: Role, at: number, by?: EventActor): void {
    const person = this.people.get(who.sub) ?? this.addPerson({ ...who, role: previous });
    if (!person) return;
    if (!this.take(1)) return;
    person.roleChanges.push({ at, from: previous, to: who.role, ...withActor('by', by) });
    person.role = who.role;
    person.name = who.name;
  }

  private decideLobby(
    who: EventPerson,
    waitingSince: number,
    at: number,
    type: 'lobby.admitted' | 'lobby.refused',
    by?: EventActor,
  ): void {
    const person = this.people.get(who.sub) ?? this.addPerson(who);
    if (!person) return;
    if (!this.take(1)) return;
    const outcome = type === 'lobby.admitted' ? 'admitted' : 'refused';
    person.lobby.push({ waitingSince, decidedAt: at, outcome, ...withActor('by', by) });
  }

  private addPerson(who: EventPerson): Person | undefined {
    if (!this.take(1)) return undefined;
    const person: Person = {
      sub: who.sub,
      name: who.name,
      role: who.role,
      presences: [],
      floor: [],
      roleChanges: [],
      lobby: [],
    };
    this.people.set(who.sub, person);
    return person;
  }

  /** Room for `count` more entries? When not, counts them as omitted. */
  private take(count: number): boolean {
    if (this.entries + count > this.maxEntries) {
      this.omitted += count;
      return false;
    }
    this.entries += count;
    return true;
  }
}

function openPresence(person: Person): Presence | undefined {
  const last = person.presences.at(-1);
  return last && last.leftAt === null ? last : undefined;
}

function openFloor(person: Person): Floor | undefined {
  const last = person.floor.at(-1);
  return last && last.takenAt === null ? last : undefined;
}
