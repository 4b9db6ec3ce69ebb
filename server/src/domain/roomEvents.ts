/**
 * What happens in a room that operators may be told (webhooks) or that the attendance register
 * keeps. One schema is both the type and the gate: parsing keeps only the listed fields, so a
 * token, an SDP, an address or a chat message handed in by mistake never goes further.
 */
import { z } from 'zod';
import { ROOM_ID_PATTERN } from '../auth/claims.js';
import { invalid } from './errors.js';
import { ROLES } from './roles.js';

import { ROOM_POLICIES, type RoomPolicy } from './roomPolicy.js';

export { ROOM_POLICIES, type RoomPolicy };

/** A person an event is about, as their token names them. */
const person = z.object({
  sub: z.string().min(1).max(100),
  name: z.string().min(1).max(80),
  role: z.enum(ROLES),
});
export type EventPerson = z.infer<typeof person>;

/**
 * Who made it happen: a moderator in the room, or an operator through the admin API (who has
 * no name in relais). Absent when the participant did it themselves or the server did.
 */
const actor = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('moderator'), sub: z.string().min(1).max(100), name: z.string().min(1).max(80) }),
  z.object({ kind: z.literal('operator') }),
]);
export type EventActor = z.infer<typeof actor>;

/** Why a participant left on their own or was let go by the server (not a moderator's act). */
export const LEAVE_REASONS = [
  'left',
  'connection-lost',
  'replaced',
  'expired',
  'media-lost',
  'rate-limited',
  'server-shutdown',
] as const;
export type LeaveReason = (typeof LEAVE_REASONS)[number];

/** Why someone was made to leave: a moderator removed them, an operator revoked their token or closed the room, or the meeting was ended for all. */
export const REMOVAL_REASONS = ['removed', 'revoked', 'room-closed', 'ended-for-all'] as const;
export type RemovalReason = (typeof REMOVAL_REASONS)[number];

export const ROOM_FINISH_REASONS = ['empty', 'ended-for-all', 'room-closed', 'server-shutdown'] as const;
export type RoomFinishReason = (typeof ROOM_FINISH_REASONS)[number];

const base = {
  room: z.string().regex(ROOM_ID_PATTERN, 'room must be 1-64 characters of A-Z a-z 0-9 _ . -'),
  /** Milliseconds since the epoch, when it happened. */
  at: z.number().int().nonnegative(),
};

export const roomEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('room.started'), ...base, policy: z.enum(ROOM_POLICIES) }),
  z.object({
    type: z.literal('room.finished'),
    ...base,
    reason: z.enum(ROOM_FINISH_REASONS),
    actor: actor.optional(),
  }),
  z.object({ type: z.literal('participant.joined'), ...base, participant: person }),
  z.object({ type: z.literal('participant.left'), ...base, participant: person, reason: z.enum(LEAVE_REASONS) }),
  z.object({
    type: z.literal('participant.removed'),
    ...base,
    participant: person,
    reason: z.enum(REMOVAL_REASONS),
    actor: actor.optional(),
  }),
  z.object({ type: z.literal('floor.given'), ...base, participant: person, actor: actor.optional() }),
  /** Without an actor: the participant gave it back, or lost it by leaving. */
  z.object({ type: z.literal('floor.taken'), ...base, participant: person, actor: actor.optional() }),
  z.object({
    type: z.literal('policy.changed'),
    ...base,
    policy: z.enum(ROOM_POLICIES),
    previous: z.enum(ROOM_POLICIES),
    actor: actor.optional(),
  }),
  /** `waitingSince`: when they entered the lobby (ms since the epoch). */
  z.object({
    type: z.literal('lobby.admitted'),
    ...base,
    participant: person,
    waitingSince: z.number().int().nonnegative(),
    actor: actor.optional(),
  }),
  z.object({
    type: z.literal('lobby.refused'),
    ...base,
    participant: person,
    waitingSince: z.number().int().nonnegative(),
    actor: actor.optional(),
  }),
  /** `participant.role` is the new role. */
  z.object({
    type: z.literal('role.changed'),
    ...base,
    participant: person,
    previous: z.enum(ROLES),
    actor: actor.optional(),
  }),
]);

export type RoomEvent = z.infer<typeof roomEventSchema>;
export type RoomEventType = RoomEvent['type'];
export const ROOM_EVENT_TYPES = roomEventSchema.options.map((option) => option.shape.type.value) as RoomEventType[];

/**
 * The event with only its listed fields, or an `INVALID_REQUEST` error naming the first
 * problem. Anything else the object carries is left behind.
 */
export function parseRoomEvent(value: unknown): RoomEvent {
  const result = roomEventSchema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  throw invalid(`Invalid room event: ${where}${issue?.message ?? 'unknown problem'}`);
}
