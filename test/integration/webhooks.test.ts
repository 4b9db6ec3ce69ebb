import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import type { RoomEvent } from '../../server/src/domain/roomEvents.js';
import { createLogger } from '../../server/src/observability/logger.js';
import { verifyWebhook } from '../../server/src/webhooks/verifyWebhook.js';
import { WebhookDispatcher, type WebhookDispatcherOptions } from '../../server/src/webhooks/WebhookDispatcher.js';
import type { WebhookOutcome } from '../../server/src/webhooks/webhookMetrics.js';
import { eventually } from '../support/wait.js';

const SECRET = `whsec_${Buffer.alloc(32, 42).toString('base64')}`;
const logger = createLogger({ level: 'silent', pretty: false });

interface Delivery {
  id: string;
  room: string;
  type: string;
  /** Event time in ms, from the payload's `timestamp`. */
  at: number;
  raw: string;
  /** Position among every request any receiver got in this test. */
  arrival: number;
}

let arrivals = 0;

/**
 * A receiver as an operator would write one, on loopback: verifies every request's signature
 * and decides its answer with `respond` (200 by default). Records requests per room in flight.
 */
class Receiver {
  readonly requests: Delivery[] = [];
  readonly refused: string[] = [];
  maxInFlightPerRoom = 0;
  maxInFlight = 0;
  private readonly inFlight = new Map<string, number>();
  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(respond: (delivery: Delivery) => number | Promise<number> = () => 200): Promise<Receiver> {
    const server = http.createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const receiver = new Receiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/relais`);
    server.on('request', (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        void receiver.handle(request, Buffer.concat(chunks), respond).then((status) => {
          response.writeHead(status).end();
        });
      });
    });
    return receiver;
  }

  get origin(): string {
    return new URL(this.url).origin;
  }

  delivered(room?: string): Delivery[] {
    return this.requests.filter((d) => room === undefined || d.room === room);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private async handle(
    request: http.IncomingMessage,
    body: Buffer,
    respond: (delivery: Delivery) => number | Promise<number>,
  ): Promise<number> {
    let verified: ReturnType<typeof verifyWebhook>;
    try {
      verified = verifyWebhook({ secret: SECRET, headers: request.headers, body });
    } catch (error) {
      this.refused.push((error as Error).message);
      return 401;
    }
    assert.equal(request.headers['content-type'], 'application/json');
    const payload = verified.payload as { type: string; timestamp: string; data: { room: string } };
    arrivals += 1;
    const delivery: Delivery = {
      id: verified.id,
      room: payload.data.room,
      type: payload.type,
      at: Date.parse(payload.timestamp),
      raw: body.toString('utf8'),
      arrival: arrivals,
    };
    this.requests.push(delivery);
    const inRoom = (this.inFlight.get(delivery.room) ?? 0) + 1;
    this.inFlight.set(delivery.room, inRoom);
    this.maxInFlightPerRoom = Math.max(this.maxInFlightPerRoom, inRoom);
    this.maxInFlight = Math.max(
      this.maxInFlight,
      [...this.inFlight.values()].reduce((a, b) => a + b, 0),
    );
    try {
      return await respond(delivery);
    } finally {
      this.inFlight.set(delivery.room, (this.inFlight.get(delivery.room) ?? 1) - 1);
    }
  }
}

/** A loopback port nobody listens on: the receiver is down. */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function counted(dispatcher: WebhookDispatcher, receiver: string, outcome: WebhookOutcome): Promise<number> {
  const { values } = await dispatcher.metrics.events.get();
  return values.find((v) => v.labels.receiver === receiver && v.labels.outcome === outcome)?.value ?? 0;
}

const T0 = Date.parse('2027-01-15T08:00:00.000Z');

/** Event number `n` of a room: a join or a leave of one of its people, at T0 + n ms. */
function roomEvent(room: string, n: number): RoomEvent {
  const participant = { sub: `${room}-p${Math.floor(n / 2)}`, name: `Agent ${n}`, role: 'speaker' as const };
  return n % 2 === 0
    ? { type: 'participant.joined', room, at: T0 + n, participant }
    : { type: 'participant.left', room, at: T0 + n, participant, reason: 'left' };
}

describe('signed webhooks (real loopback receivers)', function () {
  this.timeout(30_000);
  const receivers: Receiver[] = [];
  const dispatchers: WebhookDispatcher[] = [];

  function dispatcher(options: Partial<WebhookDispatcherOptions> & { urls: string[] }): WebhookDispatcher {
    const created = new WebhookDispatcher({
      secret: SECRET,
      maxQueue: 1000,
      logger,
      metrics: new Registry(),
      retry: { baseDelayMs: 20, maxDelayMs: 200 },
      ...options,
    });
    dispatchers.push(created);
    return created;
  }

  async function receiver(respond?: (delivery: Delivery) => number | Promise<number>): Promise<Receiver> {
    const started = await Receiver.start(respond);
    receivers.push(started);
    return started;
  }

  afterEach(async () => {
    await Promise.all(dispatchers.splice(0).map((d) => d.close()));
    await Promise.all(receivers.splice(0).map((r) => r.close()));
  });

  it('delivers every event to every URL, signed, one at a time and in order per room', async () => {
    // Answers take a random while, so that rooms overtake one another if anything lets them.
    const slow = () => new Promise<number>((resolve) => setTimeout(() => resolve(200), Math.random() * 15));
    const a = await receiver(slow);
    const b = await receiver(slow);
    const hooks = dispatcher({ urls: [a.url, b.url] });
    const rooms = ['crisis-59', 'crisis-62', 'briefing-1', 'briefing-2', 'cell.north'];
    for (let n = 0; n < 20; n += 1) for (const room of rooms) hooks.dispatch(roomEvent(room, n));

    for (const r of [a, b]) {
      await eventually('all 100 events at each receiver', () => r.requests.length === 100);
      assert.deepEqual(r.refused, [], 'every signature verified');
      for (const room of rooms) {
        assert.deepEqual(
          r.delivered(room).map((d) => d.at - T0),
          Array.from({ length: 20 }, (_, n) => n),
          `${room}'s events in order`,
        );
      }
      assert.equal(r.maxInFlightPerRoom, 1, 'a room’s events go one at a time');
      assert.ok(r.maxInFlight > 1, 'rooms are delivered side by side');
      await eventually('100 counted delivered', async () => (await counted(hooks, r.origin, 'delivered')) === 100);
    }
    // One id per event, the same at every URL.
    assert.deepEqual(a.requests.map((d) => d.id).sort(), b.requests.map((d) => d.id).sort());
    assert.equal(new Set(a.requests.map((d) => d.id)).size, 100);
  });

  it('sends only the event’s listed fields: no token, SDP, address or chat text', async () => {
    const r = await receiver();
    const hooks = dispatcher({ urls: [r.url] });
    const leaky = {
      ...roomEvent('crisis-59', 0),
      token: 'eyJhbGciOiJIUzI1NiJ9.secret-token',
      sdp: 'v=0 o=- 4611 2 IN IP4 192.0.2.7',
      ip: '192.0.2.7',
      text: 'chat: the code is 1234',
      participant: { sub: 'alice', name: 'Alice', role: 'speaker', token: 'eyJ.inner', address: '192.0.2.8' },
    } as unknown as RoomEvent;
    hooks.dispatch(leaky);
    hooks.dispatch({
      type: 'floor.given',
      room: 'crisis-59',
      at: T0 + 1,
      participant: { sub: 'alice', name: 'Alice', role: 'speaker' },
      actor: { kind: 'moderator', sub: 'chief', name: 'Chief' },
      chat: 'hello all',
    } as unknown as RoomEvent);
    await eventually('both events', () => r.requests.length === 2);
    for (const { raw } of r.requests) {
      for (const secret of ['token', 'sdp', 'eyJ', '192.0.2', 'chat', 'hello all', 'address']) {
        assert.ok(!raw.includes(secret), `${secret} in ${raw}`);
      }
    }
    assert.deepEqual(JSON.parse(r.requests[0]?.raw ?? ''), {
      type: 'participant.joined',
      timestamp: new Date(T0).toISOString(),
      data: { room: 'crisis-59', participant: { sub: 'alice', name: 'Alice', role: 'speaker' } },
    });
  });

  it('retries a receiver that fails twice, while other rooms and other URLs go on', async () => {
    let releaseAlpha: () => void = () => undefined;
    const othersArrived = new Promise<void>((resolve) => {
      releaseAlpha = resolve;
    });
    let alphaAttempts = 0;
    const flaky = await receiver(async (delivery) => {
      if (delivery.room !== 'alpha') return 200;
      alphaAttempts += 1;
      // Alpha's first answer waits for beta's events: if alpha held anything up, this never ends.
      if (alphaAttempts === 1) await othersArrived;
      return alphaAttempts <= 2 ? 500 : 200;
    });
    const healthy = await receiver();
    const hooks = dispatcher({ urls: [flaky.url, healthy.url] });
    hooks.dispatch(roomEvent('alpha', 0));
    hooks.dispatch(roomEvent('alpha', 1));
    for (let n = 0; n < 3; n += 1) hooks.dispatch(roomEvent('beta', n));

    await eventually(
      'beta at both receivers and alpha at the healthy one while alpha waits at the flaky one',
      () => flaky.delivered('beta').length === 3 && healthy.requests.length === 5,
    );
    releaseAlpha();
    await eventually('alpha delivered after two failures', () => flaky.delivered('alpha').length === 4);

    const alpha = flaky.delivered('alpha');
    assert.deepEqual(
      alpha.map((d) => d.at - T0),
      [0, 0, 0, 1],
      'the first event three times, then the second: order kept',
    );
    assert.equal(new Set(alpha.slice(0, 3).map((d) => d.id)).size, 1, 'every attempt carries the same webhook-id');
    assert.equal(healthy.delivered('alpha')[0]?.id, alpha[0]?.id);
    assert.ok(
      flaky.delivered('beta').every((d) => d.arrival < (alpha[1]?.arrival ?? 0)),
      'beta was not held up by alpha',
    );
    assert.deepEqual(flaky.refused, []);
    assert.deepEqual(healthy.refused, []);
    await eventually('counters settled', async () => (await counted(hooks, flaky.origin, 'delivered')) === 5);
    assert.equal(await counted(hooks, flaky.origin, 'failed'), 0);
    assert.equal((await hooks.metrics.retries.get()).values.find((v) => v.labels.receiver === flaky.origin)?.value, 2);
    await eventually('healthy counted', async () => (await counted(hooks, healthy.origin, 'delivered')) === 5);
  });

  it('gives up after its attempts on a receiver that always fails, and goes on with the next event', async () => {
    const broken = await receiver((delivery) => (delivery.at === T0 ? 503 : 200));
    const hooks = dispatcher({ urls: [broken.url], retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 20 } });
    hooks.dispatch(roomEvent('alpha', 0));
    hooks.dispatch(roomEvent('alpha', 1));
    await eventually('the second event delivered', () => broken.delivered('alpha').some((d) => d.at === T0 + 1));
    assert.deepEqual(
      broken.requests.map((d) => d.at - T0),
      [0, 0, 0, 1],
    );
    assert.equal(await counted(hooks, broken.origin, 'failed'), 1);
    await eventually('second counted', async () => (await counted(hooks, broken.origin, 'delivered')) === 1);
  });

  it('with a receiver down, keeps the newest events up to the bound, counts the dropped, and never waits', async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}/hooks`;
    const hooks = dispatcher({ urls: [url], maxQueue: 10, retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 20 } });
    for (let n = 0; n < 1000; n += 1) {
      const returned: unknown = hooks.dispatch(roomEvent(`room-${n % 3}`, n));
      assert.equal(returned, undefined, 'dispatch returns nothing to await');
    }
    // Still within the caller's synchronous code: nothing has been sent yet, the queue is at its bound.
    assert.deepEqual(hooks.pending(), { [`http://127.0.0.1:${port}`]: { waiting: 10, inFlight: 0 } });
    assert.equal(await counted(hooks, `http://127.0.0.1:${port}`, 'dropped'), 990);
    await eventually(
      'the ten kept events tried and given up',
      async () => (await counted(hooks, `http://127.0.0.1:${port}`, 'failed')) === 10,
    );
    assert.equal(await counted(hooks, `http://127.0.0.1:${port}`, 'dropped'), 990);
    assert.equal(await counted(hooks, `http://127.0.0.1:${port}`, 'delivered'), 0);
  });

  it('drops the oldest waiting events, not the newest', async () => {
    const held: (() => void)[] = [];
    const r = await receiver(() => new Promise<number>((resolve) => held.push(() => resolve(200))));
    const hooks = dispatcher({ urls: [r.url], maxQueue: 3 });
    hooks.dispatch(roomEvent('alpha', 0));
    await eventually('the first event in flight', () => r.requests.length === 1);
    for (let n = 1; n <= 6; n += 1) hooks.dispatch(roomEvent('alpha', n));
    assert.equal(await counted(hooks, r.origin, 'dropped'), 3);
    // Answer each request as it comes: the three newest follow the first.
    for (let i = 0; i < 4; i += 1) {
      await eventually(`request ${i + 1} waiting for its answer`, () => held.length > 0);
      held.shift()?.();
    }
    await eventually('four delivered', async () => (await counted(hooks, r.origin, 'delivered')) === 4);
    assert.deepEqual(
      r.requests.map((d) => d.at - T0),
      [0, 4, 5, 6],
    );
  });

  it('close() stops waiting retries at once and counts what was not delivered', async () => {
    const port = await closedPort();
    const label = `http://127.0.0.1:${port}`;
    // A retry ten minutes away: if close() left its timer running, this test would time out.
    const hooks = dispatcher({
      urls: [`${label}/x`],
      retry: { attempts: 5, baseDelayMs: 600_000, maxDelayMs: 600_000, maxTotalMs: 3_600_000 },
    });
    hooks.dispatch(roomEvent('alpha', 0));
    hooks.dispatch(roomEvent('alpha', 1));
    await eventually('the first attempt failed', async () => {
      const { values } = await hooks.metrics.retries.get();
      return values.some((v) => v.labels.receiver === label && v.value === 1);
    });
    await hooks.close();
    assert.equal(await counted(hooks, label, 'abandoned'), 2);
    hooks.dispatch(roomEvent('alpha', 2));
    assert.equal(await counted(hooks, label, 'abandoned'), 3, 'after close, events are counted, not sent');
    assert.deepEqual(hooks.pending(), { [label]: { waiting: 0, inFlight: 0 } });
  });

  it('close() with a flush delivers what is queued before it returns', async () => {
    const r = await receiver(() => new Promise<number>((resolve) => setTimeout(() => resolve(200), 5)));
    const hooks = dispatcher({ urls: [r.url] });
    for (let n = 0; n < 5; n += 1) hooks.dispatch(roomEvent('alpha', n));
    await hooks.close({ flushWithinMs: 20_000 });
    assert.equal(r.requests.length, 5);
    assert.equal(await counted(hooks, r.origin, 'delivered'), 5);
    assert.equal(await counted(hooks, r.origin, 'abandoned'), 0);
  });

  it('refuses a malformed event with a typed error and sends nothing', async () => {
    const r = await receiver();
    const hooks = dispatcher({ urls: [r.url] });
    assert.throws(
      () => hooks.dispatch({ type: 'chat.message', room: 'alpha', at: T0, text: 'hi' } as unknown as RoomEvent),
      (error: unknown) => (error as { code?: string }).code === 'INVALID_REQUEST',
    );
    assert.deepEqual(hooks.pending(), { [r.origin]: { waiting: 0, inFlight: 0 } });
    hooks.dispatch(roomEvent('alpha', 0));
    await eventually('the good event', () => r.requests.length === 1);
    assert.equal(r.requests[0]?.type, 'participant.joined');
  });
});
