import { z } from 'zod';
import { ROOM_ID_PATTERN } from '../auth/claims.js';
import { ROLES } from '../domain/roles.js';

/**
 * What one node asks of another about a room's members, over the signed internal API: the
 * node a member is connected to is the one that holds their session and media, so it is the
 * one that acts. The asking node checked the moderator's right before sending.
 */
const roomId = z.string().regex(ROOM_ID_PATTERN);
const memberId = z.string().min(1).max(200);

export const MODERATION_ACTIONS = ['mute', 'remove', 'grantFloor', 'revokeFloor'] as const;
export type ModerationAction = (typeof MODERATION_ACTIONS)[number];

export const roomCommand = z.union([
  /** A moderator (`by`) on the asking node acts on `target`, connected here. */
  z.object({ action: z.enum(MODERATION_ACTIONS), roomId, target: memberId, by: memberId }).strict(),
  /** A moderator (`by`) gives `target`, connected here, another role. */
  z.object({ action: z.literal('setRole'), roomId, target: memberId, by: memberId, role: z.enum(ROLES) }).strict(),
  /**
   * A moderator (`by`) acts on everyone in the room connected here: mute every microphone but
   * the moderators' (and the floor's, with `keepFloor`), lower every hand, or end the meeting.
   */
  z.object({ action: z.literal('muteAll'), roomId, by: memberId, keepFloor: z.boolean() }).strict(),
  z.object({ action: z.literal('lowerHands'), roomId, by: memberId }).strict(),
  z.object({ action: z.literal('endForAll'), roomId, by: memberId }).strict(),
  /** `target` joined the room again through another node: end the session held here. */
  z.object({ action: z.literal('endSession'), roomId, target: memberId, reason: z.literal('replaced') }).strict(),
  /** An operator closed the room (DELETE /admin/rooms/<room> on any node). */
  z.object({ action: z.literal('closeRoom'), roomId }).strict(),
]);
export type RoomCommand = z.infer<typeof roomCommand>;

/** How many sessions a command ended on the node (for the admin API's count). */
export const roomCommandAnswer = z.object({ ended: z.number().int().min(0) }).strict();
export type RoomCommandAnswer = z.infer<typeof roomCommandAnswer>;

/** A node asked to drain answers with its sessions at that moment. */
export const drainAnswer = z.object({ sessions: z.number().int().min(0) }).strict();
