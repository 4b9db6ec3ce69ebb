/**
 * The load generator's opt-in recovery (resilience scenarios): a peer whose signalling drops
 * comes back through the balancer with its token, as a page does, and a listener follows the
 * commander's microphone when it is published again elsewhere. What each recovery cost is
 * recorded in wall-clock time (Date.now()), comparable across the generator's processes.
 */
import { RequestFailed } from '../../server/src/signalling/catalogRequest.js';
import { type Backoff, retryDelay } from '../../web/src/rtc/reconnectPolicy.js';
import { percentile } from './procStat.js';

/**
 * Faster than the page's (1 s doubling to 5 s): the figure measured is the cluster's failover,
 * not the page's patience; the jitter still spreads a node's hundred listeners coming back.
 */
export const LOAD_RECONNECT_BACKOFF: Backoff = { baseMs: 200, maxMs: 2000 };
/** Attempts before a peer gives up: with the delays above, a minute and more of trying. */
export const MAX_RECONNECT_ATTEMPTS = 40;
/** One attempt (connect, join, transport, consumer or producer) must finish within this. */
export const ATTEMPT_TIMEOUT_MS = 10_000;

/** One interruption of a listener's audio, from when it noticed to the first packet after. */
export interface Recovery {
  /** What the listener noticed: its signalling dropped, it was sent elsewhere, or the commander's producer changed. */
  cause: 'signalling-lost' | 'redirected' | 'producer-changed';
  /** Wall clock (ms since the epoch). */
  noticedAt: number;
  backAt?: number;
  /** Connection attempts (a producer change on the same signalling: 1). */
  attempts: number;
  /** Audio packets due between the last before the gap and the first after (one per 20 ms). */
  lostAcrossGap: number;
  /** The last failed attempt's error, if any. */
  error?: string;
}

/** The speaker's side: its signalling dropped at `noticedAt`, it published again at `republishedAt`. */
export interface SpeakerRecovery {
  noticedAt: number;
  republishedAt?: number;
  attempts: number;
  error?: string;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Delay before attempt `attempt` (0 first): the web client's policy, at the generator's pace. */
export function reconnectDelay(attempt: number): number {
  return retryDelay(attempt, LOAD_RECONNECT_BACKOFF);
}

/**
 * Where a refusal sends the client, if anywhere: a join reaching a draining node (through the
 * balancer) is refused `REDIRECT` with the node to go to, as the page follows it.
 */
export function redirectOf(error: unknown): string | undefined {
  let current = error;
  for (let depth = 0; current && depth < 5; depth++) {
    if (current instanceof RequestFailed && current.error.redirect) return current.error.redirect.url;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Rejects after `ms` naming `what`: a hung step must not hold the recovery loop. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface Spread {
  count: number;
  p50: number;
  p95: number;
  max: number;
}

export function spread(values: number[]): Spread {
  return {
    count: values.length,
    p50: Math.round(percentile(values, 50)),
    p95: Math.round(percentile(values, 95)),
    max: values.length ? Math.round(Math.max(...values)) : Number.NaN,
  };
}
