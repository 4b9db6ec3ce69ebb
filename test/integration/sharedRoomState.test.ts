import assert from 'node:assert/strict';
import { createClient } from 'redis';
import { InMemoryRoomState } from '../../server/src/cluster/InMemoryRoomState.js';
import type { RedisClient } from '../../server/src/cluster/RedisConnection.js';
import { RedisRoomState } from '../../server/src/cluster/RedisRoomState.js';
import type { Admission, MemberRecord, SharedRoomState } from '../../server/src/domain/sharedRoomState.js';
import { type PrivateRedis, startPrivateRedis } from '../../tools/redisServer.js';

function member(id: string, node: string, extra: Partial<MemberRecord> = {}): MemberRecord {
  return {
    id,
    name: id.toUpperCase(),
    role: 'listener',
    handRaised: false,
    hasFloor: false,
    node,
    joinedAt: 1,
    muted: false,
    ...extra,
  };
}

/** The same behaviour from both stores: what every node relies on. */
function behaves(make: () => Promise<SharedRoomState>, keysLeft?: () => Promise<string[]>): void {
  let state: SharedRoomState;
  beforeEach(async () => {
    state = await make();
  });

  it('counts one room over every node and refuses the newcomer beyond the limit, even when nodes join at once', async () => {
    const joins = await Promise.all(
      Array.from({ length: 12 }, (_, i) => state.join('briefing', member(`p${i}`, `node-${i % 3}`), 10)),
    );
    assert.equal(joins.filter((j) => j.ok).length, 10);
    assert.equal(joins.filter((j) => !j.ok).length, 2);
    const summary = await state.summary('briefing');
    assert.equal(summary.participants, 10);
    const rooms = await state.rooms();
    assert.equal(rooms.length, 1);
    assert.equal(rooms[0]?.participants, 10);
    assert.equal(
      Object.values(rooms[0]?.byNode ?? {}).reduce((a, b) => a + b, 0),
      10,
    );
  });

  it('a person joining again through another node replaces their record and names the old node', async () => {
    assert.deepEqual(await state.join('cell', member('ana', 'node-a'), 10), {
      ok: true,
      started: true,
      rejoined: false,
      policy: 'open',
    });
    assert.deepEqual(await state.join('cell', member('ana', 'node-b'), 10), {
      ok: true,
      previousNode: 'node-a',
      started: false,
      rejoined: true,
      policy: 'open',
    });
    // The old node's late leave does not remove the new session.
    await state.leave('cell', 'ana', 'node-a');
    assert.equal((await state.member('cell', 'ana'))?.node, 'node-b');
    // Nor can it rewrite the record.
    await state.update('cell', member('ana', 'node-a', { handRaised: true }));
    assert.equal((await state.member('cell', 'ana'))?.handRaised, false);
  });

  it('the join that fills an empty room starts it, the leave that empties it finishes it; the register goes with it', async () => {
    const at = 1_800_000_000_000;
    const person = (sub: string) => ({ sub, name: sub.toUpperCase(), role: 'listener' as const });
    const entries = (sub: string) => ({
      started: { type: 'room.started' as const, room: 'cell', at, policy: 'open' as const },
      joined: { type: 'participant.joined' as const, room: 'cell', at, participant: person(sub) },
    });
    const left = (sub: string) => ({
      left: {
        type: 'participant.left' as const,
        room: 'cell',
        at: at + 1,
        participant: person(sub),
        reason: 'left' as const,
      },
    });
    const [first, second] = await Promise.all([
      state.join('cell', member('ana', 'node-a'), 10, entries('ana')),
      state.join('cell', member('bob', 'node-b'), 10, entries('bob')),
    ]);
    assert.equal([first, second].filter((j) => j.ok && j.started).length, 1, 'one node starts the room');
    await state.appendAttendance('cell', {
      type: 'floor.given',
      room: 'cell',
      at: at + 1,
      participant: person('bob'),
    });
    assert.deepEqual(
      (await state.attendance('cell')).map((e) => e.type),
      ['room.started', 'participant.joined', 'participant.joined', 'floor.given'],
    );
    assert.deepEqual(await state.leave('cell', 'ana', 'node-b', left('ana')), { left: false, finished: false });
    assert.deepEqual(await state.leave('cell', 'ana', 'node-a', left('ana')), { left: true, finished: false });
    assert.equal((await state.attendance('cell')).at(-1)?.type, 'participant.left');
    assert.deepEqual(await state.leave('cell', 'bob', 'node-b', left('bob')), { left: true, finished: true });
    assert.deepEqual(await state.attendance('cell'), []);
    // Written after the end (a late node): kept nowhere.
    await state.appendAttendance('cell', { type: 'floor.taken', room: 'cell', at, participant: person('bob') });
    assert.deepEqual(await state.attendance('cell'), []);
    if (keysLeft) assert.deepEqual(await keysLeft(), []);
  });

  it('admits by the room policy, atomically with the join: lobby, locked with a grace period, bans', async () => {
    const now = 1_800_000_000_000;
    const admission = (role: 'moderator' | 'listener', extra: Partial<Admission> = {}): Admission => ({
      role,
      preadmitted: false,
      defaultPolicy: 'open',
      now,
      ...extra,
    });
    const joinAs = (id: string, node: string, role: 'moderator' | 'listener', extra: Partial<Admission> = {}) =>
      state.join('cell', member(id, node, { role }), 10, undefined, admission(role, extra));
    // The first moderator's token names the policy.
    const first = await joinAs('chief', 'n1', 'moderator', { policy: 'lobby' });
    assert.equal(first.ok && first.policy, 'lobby');
    assert.deepEqual(await joinAs('ana', 'n2', 'listener'), { ok: false, reason: 'lobby' });
    await state.enterLobby('cell', { sub: 'ana', name: 'Ana', role: 'listener', since: now, node: 'n2' });
    await state.enterLobby('cell', { sub: 'bob', name: 'Bob', role: 'listener', since: now + 5, node: 'n3' });
    // Waiting again through the same node keeps the place.
    const again = await state.enterLobby('cell', {
      sub: 'ana',
      name: 'Ana',
      role: 'listener',
      since: now + 9,
      node: 'n2',
    });
    assert.equal(again.since, now);
    assert.deepEqual((await state.lobby('cell')).map((e) => e.sub).sort(), ['ana', 'bob']);
    // A second moderator's claim changes nothing: only the first one's counts.
    const second = await joinAs('deputy', 'n2', 'moderator', { policy: 'open' });
    assert.equal(second.ok && second.policy, 'lobby');
    assert.deepEqual(await joinAs('carl', 'n1', 'listener', { preadmitted: true }), {
      ok: true,
      started: false,
      rejoined: false,
      policy: 'lobby',
    });

    assert.deepEqual(
      (await state.decideLobby('cell', ['ana'], 'admitted')).map((e) => e.sub),
      ['ana'],
    );
    assert.deepEqual(
      (await state.decideLobby('cell', ['ana'], 'admitted')).map((e) => e.sub),
      [],
      'decided once',
    );
    assert.deepEqual(
      (await state.decideLobby('cell', 'all', 'refused')).map((e) => e.sub),
      ['bob'],
    );
    assert.deepEqual(await state.lobby('cell'), []);
    assert.equal((await joinAs('ana', 'n2', 'listener')).ok, true);
    assert.deepEqual(await joinAs('bob', 'n3', 'listener'), { ok: false, reason: 'banned' });

    assert.equal(await state.setPolicy('cell', 'locked'), 'lobby');
    assert.equal(await state.policy('cell'), 'locked');
    // Ana drops out: back within her grace period she keeps her place; a newcomer does not enter.
    const left = (sub: string, graceUntil?: number) => ({
      left: {
        type: 'participant.left' as const,
        room: 'cell',
        at: now,
        participant: { sub, name: sub, role: 'listener' as const },
        reason: 'connection-lost' as const,
      },
      ...(graceUntil !== undefined ? { graceUntil } : {}),
    });
    await state.leave('cell', 'ana', 'n2', left('ana', now + 120_000));
    await state.leave('cell', 'carl', 'n1', left('carl', now - 1));
    assert.deepEqual(await joinAs('dora', 'n1', 'listener'), { ok: false, reason: 'locked' });
    assert.deepEqual(await joinAs('carl', 'n1', 'listener'), { ok: false, reason: 'locked' }, 'grace over');
    assert.equal((await joinAs('ana', 'n3', 'listener')).ok, true);
    // Moderators always enter; a removal bans.
    assert.equal((await joinAs('inspector', 'n3', 'moderator')).ok, true);
    await state.ban('cell', 'ana');
    await state.leave('cell', 'ana', 'n3', left('ana'));
    assert.deepEqual(await joinAs('ana', 'n3', 'listener'), { ok: false, reason: 'banned' });

    // The room ends: its policy and bans with it.
    for (const [id, node] of [
      ['chief', 'n1'],
      ['deputy', 'n2'],
      ['inspector', 'n3'],
    ] as const)
      await state.leave('cell', id, node);
    assert.equal(await state.policy('cell'), undefined);
    assert.equal(await state.setPolicy('cell', 'open'), undefined);
    if (keysLeft) assert.deepEqual(await keysLeft(), []);
    const fresh = await joinAs('ana', 'n3', 'listener');
    assert.equal(fresh.ok && fresh.started, true);
    await state.leave('cell', 'ana', 'n3');
  });

  it('stage and hands follow updates: a listener given the floor is on stage, hands are counted', async () => {
    await state.join('b', member('cmd', 'n1', { role: 'moderator' }), 10);
    await state.join('b', member('l1', 'n2'), 10);
    await state.join('b', member('l2', 'n3'), 10);
    await state.update('b', member('l1', 'n2', { handRaised: true }));
    await state.update('b', member('l2', 'n3', { handRaised: true }));
    let summary = await state.summary('b');
    assert.equal(summary.handsRaised, 2);
    assert.deepEqual(
      summary.speakers.map((s) => s.id),
      ['cmd'],
    );
    await state.update('b', member('l1', 'n2', { hasFloor: true }));
    summary = await state.summary('b');
    assert.equal(summary.handsRaised, 1);
    assert.deepEqual(summary.speakers.map((s) => s.id).sort(), ['cmd', 'l1']);
    assert.deepEqual((await state.onStage('b')).map((m) => m.id).sort(), ['cmd', 'l1']);
    assert.equal((await state.members('b')).length, 3);
  });

  it('producers are written by their node only, leave with their owner, and the last one out leaves no key', async () => {
    await state.join('r', member('spk', 'n1', { role: 'speaker' }), 10);
    await state.join('r', member('lis', 'n2'), 10);
    const mic = {
      producerId: 'p1',
      participantId: 'spk',
      kind: 'audio' as const,
      source: 'mic' as const,
      paused: false,
      node: 'n1',
    };
    await state.producerAdded('r', mic);
    await state.producerAdded('r', { ...mic, producerId: 'p2', node: 'n2' });
    assert.deepEqual(
      (await state.producers('r')).map((p) => p.producerId),
      ['p1'],
      'n2 does not hold spk',
    );
    await state.producerUpdated('r', { ...mic, paused: true, node: 'n2' });
    assert.equal((await state.producers('r'))[0]?.paused, false, 'only n1 may pause it');
    await state.producerUpdated('r', { ...mic, paused: true });
    assert.equal((await state.producers('r'))[0]?.paused, true);
    await state.leave('r', 'spk', 'n1');
    assert.deepEqual(await state.producers('r'), []);
    await state.leave('r', 'lis', 'n2');
    assert.deepEqual(await state.rooms(), []);
    if (keysLeft) assert.deepEqual(await keysLeft(), []);
  });
}

describe('shared room state, in memory (one node)', () => {
  behaves(async () => new InMemoryRoomState());
});

describe('shared room state in a private Redis (several nodes)', () => {
  let redis: PrivateRedis;
  let client: RedisClient;
  before(async () => {
    redis = await startPrivateRedis();
    client = createClient({ url: redis.url }) as RedisClient;
    await client.connect();
  });
  after(async () => {
    await client?.close();
    await redis?.stop();
  });
  beforeEach(async () => {
    await client.flushAll();
  });
  behaves(
    async () => new RedisRoomState(client),
    () => client.keys('relais:room:*'),
  );
});
