import { z } from 'zod';
import { ROLES } from '../domain/roles.js';
import { ROOM_POLICIES } from '../domain/roomPolicy.js';

/** Room ids appear in URLs and logs: keep them to a safe alphabet. */
export const ROOM_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export const claimsSchema = z.object({
  sub: z.string().min(1).max(100),
  name: z.string().trim().min(1).max(80),
  room: z.string().regex(ROOM_ID_PATTERN, 'room must be 1-64 characters of A-Z a-z 0-9 _ . -'),
  role: z.enum(ROLES),
  grants: z
    .object({
      publishAudio: z.boolean().optional(),
      publishVideo: z.boolean().optional(),
      publishScreen: z.boolean().optional(),
      chat: z.boolean().optional(),
    })
    .strict()
    .optional(),
  /** A moderator's token may set the room's policy when they are its first moderator. */
  policy: z.enum(ROOM_POLICIES).optional(),
  /** Enters a room in `lobby` policy without waiting (invited by name beforehand). */
  preadmitted: z.boolean().optional(),
  exp: z.number().int(),
  iat: z.number().int().optional(),
  jti: z.string().max(200).optional(),
  iss: z.string().optional(),
  aud: z.union([z.string(), z.array(z.string())]).optional(),
});

export type RelaisClaims = z.infer<typeof claimsSchema>;
