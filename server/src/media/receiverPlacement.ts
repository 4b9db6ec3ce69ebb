/**
 * Where a room's next receive transport goes: a pure decision on plain figures, so that it can
 * be tested like a scheduler and so that the cluster's choice of a node can plug in at the same
 * seam later. `RoomMedia` feeds it, acts on the answer, and reserves the place in the same
 * synchronous step.
 */

/** One of the room's routers, as placement sees it. */
export interface RouterLoad {
  /** Index of the worker the router is on (a room has at most one router per worker). */
  worker: number;
  consumers: number;
  /** Receive transports placed here, counted from placement, before any consumer exists. */
  receivers: number;
  /** The router the room's producers live on: no pipe needed to consume there. */
  origin: boolean;
}

/** A worker of the pool with its load (producers + consumers of every room on it). */
export interface WorkerLoad {
  index: number;
  load: number;
}

export interface PlacementInput {
  /** The room's usable routers. */
  routers: readonly RouterLoad[];
  /** A router is full once its consumers or its receivers reach this. */
  consumersPerRouter: number;
  /** Most routers (workers) a room may spread over. */
  maxRouters: number;
  /** The pool's running workers. */
  workers: readonly WorkerLoad[];
}

export type Placement =
  /** Put the receiver on the room's router on this worker; `overflow` when every router is full. */
  | { kind: 'use'; worker: number; overflow: boolean }
  /** Open a router for the room on this worker, then put the receiver there. */
  | { kind: 'open'; worker: number }
  /** No router left and none can be opened (the room's workers died). */
  | { kind: 'unavailable' };

/** How full a router is: receivers reserve their place before they consume anything. */
export function routerLoad(router: RouterLoad): number {
  return Math.max(router.consumers, router.receivers);
}

function lightest<T>(items: readonly T[], load: (item: T) => number): T | undefined {
  return items.reduce<T | undefined>(
    (best, item) => (best === undefined || load(item) < load(best) ? item : best),
    undefined,
  );
}

/**
 * The origin while it has room; otherwise the lightest router with room; otherwise a router
 * opened on the least-loaded worker the room does not use yet; and when nothing can be opened
 * (the room reached `maxRouters` or uses every worker), the lightest router all the same, marked
 * `overflow`. Refusing a listener would be worse than a router past its rule-of-thumb figure:
 * the threshold is a spreading target, not a hard capacity, so the caller logs a warning and an
 * operator can add workers.
 */
export function placeReceiver(input: PlacementInput): Placement {
  const { routers, consumersPerRouter } = input;
  const hasRoom = (router: RouterLoad): boolean => routerLoad(router) < consumersPerRouter;
  const origin = routers.find((router) => router.origin);
  if (origin && hasRoom(origin)) return { kind: 'use', worker: origin.worker, overflow: false };
  const open = lightest(routers.filter(hasRoom), routerLoad);
  if (open) return { kind: 'use', worker: open.worker, overflow: false };

  const used = new Set(routers.map((router) => router.worker));
  if (routers.length < input.maxRouters) {
    const fresh = lightest(
      input.workers.filter((worker) => !used.has(worker.index)),
      (worker) => worker.load,
    );
    if (fresh) return { kind: 'open', worker: fresh.index };
  }
  const any = lightest(routers, routerLoad);
  return any ? { kind: 'use', worker: any.worker, overflow: true } : { kind: 'unavailable' };
}
