import assert from 'node:assert/strict';
import { createClient } from 'redis';
import { InMemoryRoomState } from '../../server/src/cluster/InMemoryRoomState.js';
import type { RedisClient } from '../../server/src/cluster/RedisConnection.js';
import { RedisRoomState } from '../../server/src/cluster/RedisRoomState.js';
import type { MemberRecord, SharedRoomState } from '../../server/src/domain/sharedRoomState.js';
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
    assert.deepEqual(await state.join('cell', member('ana', 'node-a'), 10), { ok: true });
    assert.deepEqual(await state.join('cell', member('ana', 'node-b'), 10), { ok: true, previousNode: 'node-a' });
    // The old node's late leave does not remove the new session.
    await state.leave('cell', 'ana', 'node-a');
    assert.equal((await state.member('cell', 'ana'))?.node, 'node-b');
    // Nor can it rewrite the record.
    await state.update('cell', member('ana', 'node-a', { handRaised: true }));
    assert.equal((await state.member('cell', 'ana'))?.handRaised, false);
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
