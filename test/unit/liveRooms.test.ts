import assert from 'node:assert/strict';
import { LiveRooms } from '../../server/src/signalling/LiveRooms.js';

interface FakeRoom {
  id: string;
  close(): void;
}

/** A registry whose openings are resolved or failed by the test, one at a time. */
function registry() {
  const openings: { roomId: string; resolve: () => void; reject: (error: Error) => void }[] = [];
  const rooms = new LiveRooms<FakeRoom>(
    (roomId, closed) =>
      new Promise<FakeRoom>((resolve, reject) => {
        openings.push({ roomId, resolve: () => resolve({ id: roomId, close: closed }), reject });
      }),
  );
  const opening = (index: number) => {
    const found = openings[index];
    assert.ok(found, `opening ${index} was started`);
    return found;
  };
  return { rooms, openings, opening };
}

describe('live rooms registry', () => {
  it('shares one opening between visitors who arrive while the room opens', async () => {
    const { rooms, openings, opening } = registry();
    const first = rooms.getOrOpen('cellule');
    const second = rooms.getOrOpen('cellule');
    assert.equal(openings.length, 1, 'one opening for two concurrent first joins');
    assert.equal(rooms.get('cellule'), undefined, 'not live before its media is ready');
    const waiting = rooms.whenOpen('cellule');
    assert.ok(waiting, 'a request behind the first join waits for the opening');
    assert.equal(rooms.whenOpen('elsewhere'), undefined, 'and never opens a room itself');
    opening(0).resolve();
    const [a, b, c] = await Promise.all([first, second, waiting]);
    assert.equal(a, b);
    assert.equal(a, c);
    assert.equal(rooms.get('cellule'), a);
    assert.equal(await rooms.getOrOpen('cellule'), a);
    assert.equal(openings.length, 1);
    assert.equal(rooms.size, 1);
  });

  it('forgets a failed opening, so the next visitor tries again', async () => {
    const { rooms, openings, opening } = registry();
    const failed = rooms.getOrOpen('cellule');
    opening(0).reject(new Error('no worker'));
    await assert.rejects(failed, /no worker/);
    assert.equal(rooms.size, 0);
    const retry = rooms.getOrOpen('cellule');
    assert.equal(openings.length, 2);
    opening(1).resolve();
    assert.equal((await retry).id, 'cellule');
  });

  it('forgets a room once it closes, and a closed room never removes its successor', async () => {
    const { rooms, opening } = registry();
    const pending = rooms.getOrOpen('cellule');
    opening(0).resolve();
    const old = await pending;
    old.close();
    assert.equal(rooms.get('cellule'), undefined);
    const next = rooms.getOrOpen('cellule');
    opening(1).resolve();
    const successor = await next;
    old.close();
    assert.equal(rooms.get('cellule'), successor);
    assert.deepEqual(rooms.all(), [successor]);
  });
});
