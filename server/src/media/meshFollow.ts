/**
 * The rules by which a room's copy on one node follows its copies on other nodes. Each opening
 * of a room on a node has its own id (`instance`); a receiver follows one opening of the room on
 * one other node, known once that node answered the watch (`theirs`, undefined if the room was
 * not open there then).
 */
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
  return current.theirs === instance ? 'keep' : 'replace';
}

/** The opening `instance` closed on the other node: stop following only if it is the one followed (not a newer one). */
export function stopsFollowing(current: FollowedOpening | undefined, instance: string): boolean {
  return current?.settled === true && current.theirs === instance;
}

/** A producer event sent by the opening `instance` concerns the receiver (events may arrive before the watch's answer). */
export function concerns(current: FollowedOpening, instance: string): boolean {
  return current.theirs === undefined || current.theirs === instance;
}
