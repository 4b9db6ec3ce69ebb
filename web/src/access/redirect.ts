import type { RedirectTarget } from '../../../server/src/domain/errors.js';

/** How many times a page follows a node's redirect in a row before it gives up (no loop). */
const MAX_MOVES = 3;
const MOVES_PARAM = 'moved';

/**
 * Where the page goes when its node sends it to another node of the cluster: the same page at
 * the other node's address, the token in the fragment again (it never reaches a server log),
 * and a count of moves so two full nodes cannot bounce a page forever. Undefined: do not move.
 */
export function redirectedUrl(target: RedirectTarget, token: string, here: Location = location): string | undefined {
  let next: URL;
  try {
    next = new URL(here.pathname, target.url);
  } catch {
    return undefined;
  }
  if (next.protocol !== 'https:' && next.protocol !== 'http:') return undefined;
  const moves = Number(new URLSearchParams(here.search).get(MOVES_PARAM) ?? '0') || 0;
  if (moves >= MAX_MOVES) return undefined;
  const search = new URLSearchParams(here.search);
  search.set(MOVES_PARAM, String(moves + 1));
  next.search = search.toString();
  next.hash = new URLSearchParams({ token }).toString();
  return next.toString();
}
