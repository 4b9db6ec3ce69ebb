import nodeDataChannel from 'node-datachannel';
import type { SessionEndReason } from '../../server/src/signalling/catalog.js';

export const { PeerConnection, Audio, Video } = nodeDataChannel;
export type PeerConnectionT = InstanceType<typeof PeerConnection>;
export type TrackT = ReturnType<PeerConnectionT['addTrack']>;

/** What the load generator's peers share (the speaker in opusSpeaker.ts, the listener in rtcListener.ts). */

/** A router header extension, as the capabilities carry it. */
export type RouterExtension = { kind: string; uri: string; preferredId: number };

/** Session ends a page recovers from by itself (the others it shows and stops). */
export const RECOVERABLE_ENDS: ReadonlySet<SessionEndReason> = new Set([
  'server-shutdown',
  'media-lost',
  'node-draining',
]);

/** What the generator's peers offer: Chrome's capabilities, or the lean set of the first benchmarks. */
export type Fidelity = 'chrome' | 'lean';

/** A libdatachannel peer bound to loopback: no STUN server, no other interface. */
export function loopbackPeer(name: string): PeerConnectionT {
  return new PeerConnection(name, { iceServers: [], bindAddress: '127.0.0.1', enableIceTcp: false });
}

/**
 * Resolves with the first value `register`'s callback is given: a one-shot event, bounded in time.
 * Marked handled: a join that fails at an earlier step never awaits it, and its timeout must not
 * then end the process as an unhandled rejection (a caller that awaits it still sees the rejection).
 */
export function nextEvent<T>(
  register: (done: (value: T) => void) => void,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const event = new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
    register((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
  event.catch(() => undefined);
  return event;
}

/** Runs `task` over `items` with at most `limit` in flight. */
export async function boundedConcurrency<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: Math.min(limit, queue.length) }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await task(item);
    }),
  );
}
