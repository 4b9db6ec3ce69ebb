import { Counter, type Registry } from 'prom-client';

/** What operators watch of webhook delivery; `receiver` is a receiver's origin, never its path (it may hold a key). */
export interface WebhookMetrics {
  /** Per event and receiver: delivered, failed (attempts exhausted), dropped (queue full, oldest first), abandoned (at shutdown). */
  events: Counter<'receiver' | 'outcome'>;
  /** Attempts that failed and were tried again. */
  retries: Counter<'receiver'>;
}

export const WEBHOOK_OUTCOMES = ['delivered', 'failed', 'dropped', 'abandoned'] as const;
export type WebhookOutcome = (typeof WEBHOOK_OUTCOMES)[number];

export function createWebhookMetrics(registry: Registry): WebhookMetrics {
  return {
    events: new Counter({
      name: 'relais_webhook_events_total',
      help: 'Webhook events per receiver by outcome: delivered, failed (retries exhausted), dropped (queue full, oldest first), abandoned (shutdown).',
      labelNames: ['receiver', 'outcome'] as const,
      registers: [registry],
    }),
    retries: new Counter({
      name: 'relais_webhook_retries_total',
      help: 'Webhook attempts that failed (network error, timeout or non-2xx answer) and were tried again.',
      labelNames: ['receiver'] as const,
      registers: [registry],
    }),
  };
}
