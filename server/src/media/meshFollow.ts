import { randomBytes } from 'node:crypto';

/**
 * The rules by which a room's copy on one node follows its copies on other nodes. Each opening
 * of a room on a node has its own id (`instance`); a receiver follows one opening of the room on
 * one other node, known once that node answered the watch (`theirs`, undefined if the room was
 * not open there then).
 */

let openings = 0;

/**
 * A new opening's id: its time and a sequence number (so that two openings of a room on the
 * same node are ordered, and a message of the earlier one arriving late is recognised), then
 * random bytes so that ids never collide across nodes.
 */
export function newOpeningId(now = Date.now()): string {
  openings += 1;
  return `${now.toString(36)}.${openings.toString(36)}.${randomBytes(6).toString('hex')}`;
}

function orderOf(id: string): [number, number] | undefined {
  const [time, sequence] = id.split('.');
  const t = Number.parseInt(time ?? '', 36);
  const s = Number.parseInt(sequence ?? '', 36);
  return Number.isFinite(t) && Number.isFinite(s) ? [t, s] : undefined;
}

/** Opening `a` of a room on a node came before opening `b` on the same node (false when unknown). */
export function openedBefore(a: string, b: string): boolean {
  const first = orderOf(a);
  const second = orderOf(b);
  if (!first || !second) return false;
  return first[0] < second[0] || (first[0] === second[0] && first[1] < second[1]);
}
export interface FollowedOpening {
  /** The other node answered the watch (or could not be reached). */
  settled: boolean;
  theirs: string | undefined;
}

/**
 * What to do when the opening `instance` of the room on another node watches this one:
 * `follow` it (no receiver yet), `wait` for the receiver's answer before deciding, `keep` the
 * receiver (it follows that very opening), or `replace` it (it followed an earlier opening, or
 * the room was not open there yet when it asked: the watching node would never send it anything).
 */
export function onWatched(
  current: FollowedOpening | undefined,
  instance: string,
): 'follow' | 'wait' | 'keep' | 'replace' {
  if (!current) return 'follow';
  if (!current.settled) return 'wait';
  if (current.theirs === instance) return 'keep';
  // A watch of an earlier opening, overtaken on the way by the newer one's: nothing to change.
  if (current.theirs !== undefined && openedBefore(instance, current.theirs)) return 'keep';
  return 'replace';
}

/** The opening `instance` closed on the other node: stop following only if it is the one followed (not a newer one). */
export function stopsFollowing(current: FollowedOpening | undefined, instance: string): boolean {
  return current?.settled === true && current.theirs === instance;
}

/** A producer event sent by the opening `instance` concerns the receiver (events may arrive before the watch's answer). */
export function concerns(current: FollowedOpening, instance: string): boolean {
  return current.theirs === undefined || current.theirs === instance;
}
