/**
 * Tells operators' systems what happens in rooms: each room event is POSTed as signed JSON to
 * every configured URL (see config/README.md, "Webhooks"). `dispatch` only queues, so a slow
 * or dead receiver never holds up a room; each URL has its own bounded queue and retries.
 */
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { invalid } from '../domain/errors.js';
import type { RoomEvent } from '../domain/roomEvents.js';
import type { Logger } from '../observability/logger.js';
import { DEFAULT_RETRY_POLICY, type WebhookRetryPolicy } from './retryPolicy.js';
import { createWebhookMetrics, type WebhookMetrics } from './webhookMetrics.js';
import { webhookPayload } from './webhookPayload.js';
import { WebhookReceiver } from './WebhookReceiver.js';
import { webhookKey } from './webhookSecret.js';

export interface WebhookDispatcherOptions {
  /** http(s) URLs, each receiving every event. */
  urls: readonly string[];
  /** `whsec_<base64>` or a text of at least 32 characters, see `webhookKey`. */
  secret: string;
  /** Events waiting per URL before the oldest is dropped. */
  maxQueue: number;
  logger: Logger;
  /** The process's counters, or a registry to create them in; without either they count privately. */
  metrics?: WebhookMetrics | Registry;
  retry?: Partial<WebhookRetryPolicy>;
  /** Rooms delivered to one URL at once (each room's events stay one at a time). */
  concurrencyPerUrl?: number;
}

export const DEFAULT_WEBHOOK_CONCURRENCY = 4;

/** A URL's name in logs and metrics: its origin, numbered when two URLs share one. */
function receiverLabels(urls: readonly URL[]): string[] {
  return urls.map((url, index) => {
    const shared = urls.filter((other) => other.origin === url.origin).length > 1;
    return shared ? `${url.origin}#${index + 1}` : url.origin;
  });
}

function receiverUrl(text: string, index: number): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid(`webhook URL ${index + 1} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalid(`webhook URL ${index + 1} must start with http:// or https://`);
  }
  // fetch refuses URLs with credentials: say it at start rather than at each event.
  if (url.username || url.password) throw invalid(`webhook URL ${index + 1} must not hold a user name or password`);
  return url;
}

export class WebhookDispatcher {
  readonly metrics: WebhookMetrics;
  private readonly receivers: WebhookReceiver[];
  private sequence = 0;
  private closing: Promise<void> | undefined;

  /** Throws `INVALID_REQUEST` for a bad URL, secret, queue size or policy; nothing is started then. */
  constructor(options: WebhookDispatcherOptions) {
    if (options.urls.length === 0) throw invalid('webhooks need at least one URL');
    const urls = options.urls.map(receiverUrl);
    const key = webhookKey(options.secret);
    if (!Number.isInteger(options.maxQueue) || options.maxQueue < 1) {
      throw invalid('the webhook queue size must be a positive integer');
    }
    const retry: WebhookRetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    for (const [name, value] of Object.entries(retry)) {
      if (!Number.isInteger(value) || value < (name === 'attempts' ? 1 : 0)) {
        throw invalid(`webhook retry ${name} must be a non-negative integer (attempts at least 1)`);
      }
    }
    const concurrency = options.concurrencyPerUrl ?? DEFAULT_WEBHOOK_CONCURRENCY;
    if (!Number.isInteger(concurrency) || concurrency < 1) throw invalid('webhook concurrency must be at least 1');
    this.metrics =
      options.metrics instanceof Registry
        ? createWebhookMetrics(options.metrics)
        : (options.metrics ?? createWebhookMetrics(new Registry()));
    const logger = options.logger.child({ component: 'webhooks' });
    const labels = receiverLabels(urls);
    this.receivers = urls.map(
      (url, index) =>
        new WebhookReceiver({
          url,
          label: labels[index] ?? url.origin,
          key,
          maxQueue: options.maxQueue,
          concurrency,
          retry,
          logger,
          metrics: this.metrics,
        }),
    );
  }

  /**
   * Queues the event for every URL and returns at once. A malformed event is refused with
   * `INVALID_REQUEST` and queued nowhere; only the fields the event schema lists are sent.
   * After `close()`, events are counted `abandoned`.
   */
  dispatch(event: RoomEvent): void {
    const payload = webhookPayload(event);
    const body = JSON.stringify(payload);
    // One id for every attempt and every URL: receivers drop duplicates by it.
    const id = `msg_${randomUUID().replaceAll('-', '')}`;
    for (const receiver of this.receivers) {
      this.sequence += 1;
      receiver.enqueue({ seq: this.sequence, id, room: payload.data.room, type: payload.type, body });
    }
  }

  /** What each URL has waiting and in flight, by receiver label. */
  pending(): Record<string, { waiting: number; inFlight: number }> {
    return Object.fromEntries(this.receivers.map((receiver) => [receiver.label, receiver.pending]));
  }

  /**
   * Stops every timer and request. With `flushWithinMs`, first lets deliveries go on for up
   * to that long (a graceful shutdown); what is left then is counted `abandoned`.
   */
  close(options: { flushWithinMs?: number } = {}): Promise<void> {
    this.closing ??= this.shutDown(options.flushWithinMs ?? 0);
    return this.closing;
  }

  private async shutDown(flushWithinMs: number): Promise<void> {
    if (flushWithinMs > 0) {
      let deadline: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(this.receivers.map((receiver) => receiver.idle())),
        new Promise((resolve) => {
          deadline = setTimeout(resolve, flushWithinMs);
        }),
      ]);
      clearTimeout(deadline);
    }
    await Promise.all(this.receivers.map((receiver) => receiver.close()));
  }
}
