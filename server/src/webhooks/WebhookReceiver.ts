/**
 * One receiver URL: its bounded queue and its deliveries. A room's events go out one at a time
 * in the order they happened (a lane per room); other rooms' lanes go on meanwhile, up to
 * `concurrency` at once. Full queue: the oldest waiting event is dropped and counted.
 * Owns its retry timers and in-flight requests; `close()` ends them all.
 */
import type { Logger } from '../observability/logger.js';
import { retryDelay, type WebhookRetryPolicy } from './retryPolicy.js';
import type { WebhookMetrics, WebhookOutcome } from './webhookMetrics.js';
import { webhookSignature } from './webhookSignature.js';

/** One event on its way to one receiver. `seq` orders every receiver's queue. */
export interface WebhookMessage {
  seq: number;
  id: string;
  room: string;
  type: string;
  body: string;
}

export interface WebhookReceiverOptions {
  url: URL;
  /** How logs and metrics name it: its origin, never its path or query (they may hold a key). */
  label: string;
  key: Buffer;
  maxQueue: number;
  concurrency: number;
  retry: WebhookRetryPolicy;
  logger: Logger;
  metrics: WebhookMetrics;
  random?: () => number;
}

interface Lane {
  waiting: Set<WebhookMessage>;
  busy: boolean;
}

interface Sleeper {
  timer: NodeJS.Timeout;
  wake: () => void;
}

export const WEBHOOK_USER_AGENT = 'relais-webhooks/1';

export class WebhookReceiver {
  readonly label: string;
  private readonly options: WebhookReceiverOptions;
  /** Every event not yet started, oldest first: what the bound counts and drops from. */
  private readonly waiting = new Map<number, WebhookMessage>();
  private readonly lanes = new Map<string, Lane>();
  private inFlight = 0;
  private pumpScheduled = false;
  private closed = false;
  /** Set while dropping, so that a receiver that is down writes one warning, not one per event. */
  private dropping = false;
  private readonly abort = new AbortController();
  private readonly sleepers = new Set<Sleeper>();
  private readonly deliveries = new Set<Promise<void>>();
  private readonly idleWaiters = new Set<() => void>();

  constructor(options: WebhookReceiverOptions) {
    this.options = options;
    this.label = options.label;
  }

  /** Events waiting and being delivered (retries included). */
  get pending(): { waiting: number; inFlight: number } {
    return { waiting: this.waiting.size, inFlight: this.inFlight };
  }

  /** Queues one event and returns at once; delivery starts after the caller's synchronous code. */
  enqueue(message: WebhookMessage): void {
    if (this.closed) {
      this.count('abandoned');
      return;
    }
    if (this.waiting.size >= this.options.maxQueue) this.dropOldest();
    this.waiting.set(message.seq, message);
    let lane = this.lanes.get(message.room);
    if (!lane) {
      lane = { waiting: new Set(), busy: false };
      this.lanes.set(message.room, lane);
    }
    lane.waiting.add(message);
    this.schedulePump();
  }

  /** Resolves once nothing waits or is in flight (at once if so already). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.add(resolve));
  }

  /** Stops every retry timer and request; what was not delivered is counted `abandoned`. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.waiting.size > 0) {
      this.options.metrics.events.inc({ receiver: this.label, outcome: 'abandoned' }, this.waiting.size);
    }
    this.waiting.clear();
    this.lanes.clear();
    this.abort.abort();
    for (const sleeper of this.sleepers) {
      clearTimeout(sleeper.timer);
      sleeper.wake();
    }
    this.sleepers.clear();
    await Promise.allSettled([...this.deliveries]);
    this.wakeIdleWaiters();
  }

  private dropOldest(): void {
    const oldest = this.waiting.values().next().value;
    if (!oldest) return;
    this.waiting.delete(oldest.seq);
    const lane = this.lanes.get(oldest.room);
    lane?.waiting.delete(oldest);
    if (lane && !lane.busy && lane.waiting.size === 0) this.lanes.delete(oldest.room);
    this.count('dropped');
    if (!this.dropping) {
      this.dropping = true;
      this.options.logger.warn(
        { receiver: this.label, maxQueue: this.options.maxQueue },
        'webhook queue full: dropping the oldest events',
      );
    }
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    queueMicrotask(() => this.pump());
  }

  /** Starts the oldest event of each idle lane, oldest first, while there is room. */
  private pump(): void {
    this.pumpScheduled = false;
    if (this.closed) return;
    // Visits each waiting event at most once: bounded by maxQueue.
    for (const message of this.waiting.values()) {
      if (this.inFlight >= this.options.concurrency) break;
      const lane = this.lanes.get(message.room);
      // Lanes keep their events in arrival order, so the first one met is the lane's oldest.
      if (!lane || lane.busy) continue;
      this.waiting.delete(message.seq);
      lane.waiting.delete(message);
      lane.busy = true;
      this.inFlight += 1;
      const delivery = this.deliver(message).finally(() => {
        this.deliveries.delete(delivery);
        this.inFlight -= 1;
        lane.busy = false;
        if (lane.waiting.size === 0 && this.lanes.get(message.room) === lane) this.lanes.delete(message.room);
        if (this.isIdle()) this.wakeIdleWaiters();
        else this.schedulePump();
      });
      this.deliveries.add(delivery);
    }
    if (this.waiting.size < this.options.maxQueue / 2) this.dropping = false;
  }

  private async deliver(message: WebhookMessage): Promise<void> {
    const { retry, logger } = this.options;
    const firstAttempt = Date.now();
    let lastError = '';
    for (let attempt = 1; attempt <= retry.attempts; attempt += 1) {
      if (this.closed) {
        this.count('abandoned');
        return;
      }
      const error = await this.attempt(message);
      if (error === undefined) {
        this.count('delivered');
        return;
      }
      lastError = error;
      if (this.closed) {
        this.count('abandoned');
        return;
      }
      const delay = retryDelay(retry, attempt, this.options.random);
      if (attempt === retry.attempts || Date.now() + delay - firstAttempt > retry.maxTotalMs) break;
      this.options.metrics.retries.inc({ receiver: this.label });
      logger.debug(
        { receiver: this.label, webhookId: message.id, room: message.room, attempt, error, retryInMs: delay },
        'webhook attempt failed, retrying',
      );
      await this.sleep(delay);
    }
    this.count('failed');
    logger.warn(
      { receiver: this.label, webhookId: message.id, room: message.room, type: message.type, error: lastError },
      'webhook not delivered: attempts exhausted',
    );
  }

  /** One signed POST; `undefined` when the receiver answered 2xx, else what went wrong. */
  private async attempt(message: WebhookMessage): Promise<string | undefined> {
    const timestamp = Math.floor(Date.now() / 1000);
    try {
      const response = await fetch(this.options.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': WEBHOOK_USER_AGENT,
          'webhook-id': message.id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': webhookSignature(this.options.key, message.id, timestamp, message.body),
        },
        body: message.body,
        // A redirect is a failure: relais posts only where it was told to.
        redirect: 'manual',
        signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.options.retry.attemptTimeoutMs)]),
      });
      // The answer's body is not read; cancelling it frees the connection.
      await response.body?.cancel().catch(() => undefined);
      return response.status >= 200 && response.status < 300 ? undefined : `HTTP ${response.status}`;
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      return cause ?? (error instanceof Error ? error.name : 'error');
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const sleeper: Sleeper = {
        timer: setTimeout(() => {
          this.sleepers.delete(sleeper);
          resolve();
        }, ms),
        wake: resolve,
      };
      // A retry waiting must not keep a stopping process alive; close() ends it anyway.
      sleeper.timer.unref();
      this.sleepers.add(sleeper);
    });
  }

  private isIdle(): boolean {
    return this.waiting.size === 0 && this.inFlight === 0;
  }

  private wakeIdleWaiters(): void {
    for (const wake of this.idleWaiters) wake();
    this.idleWaiters.clear();
  }

  private count(outcome: WebhookOutcome): void {
    this.options.metrics.events.inc({ receiver: this.label, outcome });
  }
}
