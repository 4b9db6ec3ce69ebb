/**
 * The JSON a receiver gets: `{ type, timestamp, data }` (Standard Webhooks' payload shape).
 * `timestamp` is when it happened (ISO 8601 UTC); `data` holds the event's other fields,
 * only those the room event schema lists.
 */
import { parseRoomEvent, type RoomEvent, type RoomEventType } from '../domain/roomEvents.js';

export interface WebhookPayload {
  type: RoomEventType;
  timestamp: string;
  data: Omit<RoomEvent, 'type' | 'at'>;
}

/** The payload of a validated event; throws `INVALID_REQUEST` for anything else. */
export function webhookPayload(value: RoomEvent): WebhookPayload {
  const { type, at, ...data } = parseRoomEvent(value);
  return { type, timestamp: new Date(at).toISOString(), data };
}
