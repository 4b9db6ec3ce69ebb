import type { RoomEvent } from '../domain/roomEvents.js';
import type { Logger } from '../observability/logger.js';
import type { WebhookDispatcher } from '../webhooks/WebhookDispatcher.js';

/**
 * Where a live room tells what happened in it, once per event in a cluster: the node where it
 * happened calls `emit`. It must return at once and never throw: a room never waits for, nor
 * fails because of, an operator's receiver. (The attendance register is written by the room
 * into the shared state, in the same atomic step as the join or leave it records.)
 */
export interface RoomEventSink {
  emit(event: RoomEvent): void;
}

/** No webhooks configured: events go nowhere. */
export const SILENT_EVENTS: RoomEventSink = { emit: () => undefined };

/** Every event POSTed, signed, to the operators' receivers (RELAIS_WEBHOOK_URLS). */
export function webhookEvents(dispatcher: WebhookDispatcher, logger: Logger): RoomEventSink {
  return {
    emit(event) {
      try {
        dispatcher.dispatch(event);
      } catch (error) {
        logger.warn({ err: error, type: event.type }, 'room event not sent to the webhooks');
      }
    },
  };
}
