import type { Role } from '../domain/roles.js';
import {
  type EventActor,
  type EventPerson,
  LEAVE_REASONS,
  type LeaveReason,
  REMOVAL_REASONS,
  type RemovalReason,
  ROOM_FINISH_REASONS,
  type RoomEvent,
  type RoomFinishReason,
} from '../domain/roomEvents.js';

/**
 * What happened to a member, as a room event: a live room's free-text leave reasons (its own
 * and the session end reasons) mapped onto the event schema's.
 */

export function personOf(participant: { id: string; name: string; role: Role }): EventPerson {
  return { sub: participant.id, name: participant.name, role: participant.role };
}

/**
 * How a leave is told: a moderator's or an operator's act is a removal, anything else the
 * participant's own leaving (a lost connection among them).
 */
export function leaveEvent(
  room: string,
  participant: EventPerson,
  at: number,
  reason: string,
  by?: EventActor,
): RoomEvent {
  if ((REMOVAL_REASONS as readonly string[]).includes(reason)) {
    const actor: EventActor | undefined =
      by ?? (reason === 'revoked' || reason === 'room-closed' ? { kind: 'operator' } : undefined);
    return {
      type: 'participant.removed',
      room,
      at,
      participant,
      reason: reason as RemovalReason,
      ...(actor ? { actor } : {}),
    };
  }
  const own: LeaveReason = (LEAVE_REASONS as readonly string[]).includes(reason)
    ? (reason as LeaveReason)
    : 'connection-lost';
  return { type: 'participant.left', room, at, participant, reason: own };
}

/** The room emptied by a leave: closed by an operator, ended for all, a shutdown, or simply empty. */
export function finishEvent(room: string, at: number, reason: string): RoomEvent {
  const why: RoomFinishReason = (ROOM_FINISH_REASONS as readonly string[]).includes(reason)
    ? (reason as RoomFinishReason)
    : 'empty';
  return {
    type: 'room.finished',
    room,
    at,
    reason: why,
    ...(why === 'room-closed' ? { actor: { kind: 'operator' as const } } : {}),
  };
}
