import { readFileSync } from 'node:fs';
import type { ListenerReport } from '../../bench/load/rtcListener.js';
import { type Spread, spread } from '../../bench/load/reconnect.js';
import type { RelaisProcess } from './relaisProcess.js';

/** A process still running (a zombie waiting to be reaped does not count). */
export function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

/** `kill -9`: no drain, no goodbye; resolves once the process has exited. */
export async function killHard(node: RelaisProcess): Promise<number> {
  const at = Date.now();
  const exited = new Promise<void>((resolve) => node.child.once('exit', () => resolve()));
  process.kill(node.child.pid ?? 0, 'SIGKILL');
  await exited;
  return at;
}

/**
 * From `since` (wall clock) to each listener's first audio packet after its first interruption;
 * a listener whose audio never came back is `Infinity` (and listed in `silent`).
 */
export function backAfter(listeners: ListenerReport[], since: number): { spread: Spread; silent: number[] } {
  const silent: number[] = [];
  const times: number[] = [];
  for (const listener of listeners) {
    const back = listener.recoveries?.find((r) => r.backAt !== undefined && r.backAt >= since)?.backAt;
    if (back === undefined) silent.push(listener.id);
    times.push(back === undefined ? Number.POSITIVE_INFINITY : back - since);
  }
  return { spread: spread(times), silent };
}

/** Delivered share (%) of a set of listeners' audio, over the whole run. */
export function deliveredPct(listeners: ListenerReport[]): number {
  const expected = listeners.reduce((sum, l) => sum + l.expected, 0);
  const received = listeners.reduce((sum, l) => sum + l.received, 0);
  return expected > 0 ? Number(((100 * received) / expected).toFixed(2)) : 0;
}
