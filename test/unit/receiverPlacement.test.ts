import assert from 'node:assert/strict';
import {
  type Placement,
  type PlacementInput,
  placeReceiver,
  type RouterLoad,
  routerLoad,
  type WorkerLoad,
} from '../../server/src/media/receiverPlacement.js';

/** A room as RoomMedia keeps it: each placement is reserved before the next one is decided. */
class SimulatedRoom {
  readonly routers: RouterLoad[] = [{ worker: 0, consumers: 0, receivers: 0, origin: true }];
  overflows = 0;

  constructor(
    readonly workers: WorkerLoad[],
    readonly consumersPerRouter: number,
    readonly maxRouters: number,
  ) {}

  input(): PlacementInput {
    return {
      routers: this.routers,
      consumersPerRouter: this.consumersPerRouter,
      maxRouters: this.maxRouters,
      workers: this.workers,
    };
  }

  arrive(): Placement {
    const placement = placeReceiver(this.input());
    if (placement.kind === 'unavailable') throw new Error('no router available');
    if (placement.kind === 'open') {
      assert.ok(!this.routers.some((r) => r.worker === placement.worker), 'a second router on one worker');
      this.routers.push({ worker: placement.worker, consumers: 0, receivers: 1, origin: false });
    } else {
      const router = this.routers.find((r) => r.worker === placement.worker);
      assert.ok(router, `placed on a router the room does not have (${placement.worker})`);
      router.receivers += 1;
      if (placement.overflow) this.overflows += 1;
    }
    return placement;
  }

  spread(): number {
    const loads = this.routers.map(routerLoad);
    return Math.max(...loads) - Math.min(...loads);
  }
}

/** Deterministic pseudo-random numbers, so a failing case can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe('receiver placement', () => {
  it('spreads a burst of arrivals evenly once the room has grown to every router it may use', () => {
    const room = new SimulatedRoom(
      [0, 1, 2, 3].map((index) => ({ index, load: 0 })),
      100,
      3,
    );
    for (let arrival = 1; arrival <= 900; arrival++) {
      room.arrive();
      if (arrival > 300) assert.ok(room.spread() <= 1, `after ${arrival}: ${JSON.stringify(room.routers)}`);
    }
    assert.equal(room.routers.length, 3, 'maxRouters respected');
    assert.deepEqual(
      room.routers.map((r) => r.receivers),
      [300, 300, 300],
    );
    assert.equal(room.overflows, 600);
  });

  it('fills the origin first, then opens one router at a time', () => {
    const room = new SimulatedRoom(
      [0, 1, 2].map((index) => ({ index, load: 0 })),
      10,
      3,
    );
    const kinds = Array.from({ length: 21 }, () => room.arrive().kind);
    assert.deepEqual(kinds.slice(0, 10), Array(10).fill('use'));
    assert.equal(kinds[10], 'open');
    assert.equal(kinds[20], 'open');
    assert.equal(kinds.filter((kind) => kind === 'open').length, 2);
  });

  it('never chooses a full router while another has room or one can be opened', () => {
    const next = random(11);
    for (let trial = 0; trial < 2000; trial++) {
      const consumersPerRouter = 1 + Math.floor(next() * 20);
      const workerCount = 1 + Math.floor(next() * 5);
      const workers = Array.from({ length: workerCount }, (_, index) => ({ index, load: Math.floor(next() * 50) }));
      const used = workers.filter((w) => w.index === 0 || next() < 0.5);
      const routers: RouterLoad[] = used.map((w) => ({
        worker: w.index,
        consumers: Math.floor(next() * 2 * consumersPerRouter),
        receivers: Math.floor(next() * 2 * consumersPerRouter),
        origin: w.index === 0,
      }));
      const maxRouters = 1 + Math.floor(next() * workerCount);
      const input = { routers, consumersPerRouter, maxRouters, workers };
      const placement = placeReceiver(input);
      const anyRoom = routers.some((r) => routerLoad(r) < consumersPerRouter);
      const canOpen = routers.length < maxRouters && workers.length > routers.length;
      const context = JSON.stringify({ input, placement });
      if (placement.kind === 'use') {
        const chosen = routers.find((r) => r.worker === placement.worker);
        assert.ok(chosen, context);
        const full = routerLoad(chosen) >= consumersPerRouter;
        assert.equal(full, placement.overflow, context);
        if (full) assert.ok(!anyRoom && !canOpen, context);
      } else {
        assert.equal(placement.kind, 'open', context);
        assert.ok(!anyRoom && canOpen, context);
      }
    }
  });

  it('prefers the origin while it has room, even when another router is lighter', () => {
    const placement = placeReceiver({
      routers: [
        { worker: 1, consumers: 2, receivers: 2, origin: false },
        { worker: 0, consumers: 90, receivers: 40, origin: true },
      ],
      consumersPerRouter: 100,
      maxRouters: 4,
      workers: [0, 1, 2].map((index) => ({ index, load: 0 })),
    });
    assert.deepEqual(placement, { kind: 'use', worker: 0, overflow: false });
  });

  it('takes the lightest router with room once the origin is full', () => {
    const placement = placeReceiver({
      routers: [
        { worker: 0, consumers: 100, receivers: 10, origin: true },
        { worker: 1, consumers: 60, receivers: 30, origin: false },
        { worker: 2, consumers: 20, receivers: 40, origin: false },
      ],
      consumersPerRouter: 100,
      maxRouters: 4,
      workers: [0, 1, 2, 3].map((index) => ({ index, load: 0 })),
    });
    assert.deepEqual(placement, { kind: 'use', worker: 2, overflow: false });
  });

  it('opens on the least-loaded worker the room does not use yet', () => {
    const placement = placeReceiver({
      routers: [{ worker: 0, consumers: 0, receivers: 5, origin: true }],
      consumersPerRouter: 5,
      maxRouters: 4,
      workers: [
        { index: 0, load: 1 },
        { index: 1, load: 30 },
        { index: 2, load: 10 },
        { index: 3, load: 20 },
      ],
    });
    assert.deepEqual(placement, { kind: 'open', worker: 2 });
  });

  it('overflows onto the lightest router when saturated, and says so', () => {
    const full = (worker: number, receivers: number): RouterLoad => ({
      worker,
      consumers: 0,
      receivers,
      origin: worker === 0,
    });
    const workers = [0, 1, 2].map((index) => ({ index, load: 0 }));
    // maxRouters reached although a worker is free
    assert.deepEqual(
      placeReceiver({ routers: [full(0, 12), full(1, 11)], consumersPerRouter: 10, maxRouters: 2, workers }),
      { kind: 'use', worker: 1, overflow: true },
    );
    // every worker used
    assert.deepEqual(
      placeReceiver({
        routers: [full(0, 10), full(1, 11), full(2, 10)],
        consumersPerRouter: 10,
        maxRouters: 8,
        workers,
      }),
      { kind: 'use', worker: 0, overflow: true },
    );
  });

  it('answers unavailable when the room has no router and cannot open one', () => {
    assert.deepEqual(placeReceiver({ routers: [], consumersPerRouter: 10, maxRouters: 2, workers: [] }), {
      kind: 'unavailable',
    });
  });
});
