/** Who may enter a room: anyone with a valid token, after a moderator's admission, or nobody new. */
export const ROOM_POLICIES = ['open', 'lobby', 'locked'] as const;
export type RoomPolicy = (typeof ROOM_POLICIES)[number];

/**
 * Why the room would not take a newcomer: it waits in the lobby, the room is locked, the person
 * was refused or removed (banned until the room ends), or the room is full.
 */
export type AdmissionRefusal = 'lobby' | 'locked' | 'banned' | 'full';

/** The room's policy when it starts: the starting moderator's token may name one, else the configured default. */
export function startingPolicy(defaultPolicy: RoomPolicy, joiner: { role: string; policy?: RoomPolicy }): RoomPolicy {
  return joiner.role === 'moderator' && joiner.policy ? joiner.policy : defaultPolicy;
}
