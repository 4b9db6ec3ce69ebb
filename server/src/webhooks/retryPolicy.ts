/** How a receiver's failures are retried: bounded in attempts and in time. */
export interface WebhookRetryPolicy {
  /** Attempts per event and receiver, the first included. */
  attempts: number;
  /** Wait after the first failure; doubles after each further one. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** An attempt without an answer by then counts as failed. */
  attemptTimeoutMs: number;
  /** No retry starts later than this after the first attempt. */
  maxTotalMs: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<WebhookRetryPolicy> = {
  attempts: 5,
  baseDelayMs: 1000,
  maxDelayMs: 30_000,
  attemptTimeoutMs: 10_000,
  maxTotalMs: 120_000,
};

/**
 * The wait before retry number `failures` (1 after the first failure): exponential, capped,
 * with half of it random so that receivers coming back are not hit by every node at once.
 */
export function retryDelay(policy: WebhookRetryPolicy, failures: number, random: () => number = Math.random): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(30, failures - 1));
  return Math.round(exponential / 2 + (random() * exponential) / 2);
}
