import assert from 'node:assert/strict';
import { concerns, newOpeningId, onWatched, openedBefore, stopsFollowing } from '../../server/src/media/meshFollow.js';

const following = (theirs: string | undefined) => ({ settled: true, theirs });
const asking = { settled: false, theirs: undefined };

describe('how a room on one node follows its copies on other nodes', () => {
  it('follows a node that watches it, once', () => {
    assert.equal(onWatched(undefined, 'b1'), 'follow');
    assert.equal(onWatched(following('b1'), 'b1'), 'keep');
    // Both nodes opened at once: the answer to its own watch says what it follows.
    assert.equal(onWatched(asking, 'b1'), 'wait');
  });

  it('follows again a node whose room reopened, or had not opened when it asked', () => {
    assert.equal(onWatched(following('b1'), 'b2'), 'replace');
    assert.equal(onWatched(following(undefined), 'b1'), 'replace');
  });

  it('orders the openings of a room on one node', () => {
    const first = newOpeningId(1_000);
    const second = newOpeningId(1_000);
    const later = newOpeningId(2_000);
    assert.notEqual(first, second);
    assert.equal(openedBefore(first, second), true);
    assert.equal(openedBefore(second, first), false);
    assert.equal(openedBefore(second, later), true);
    assert.equal(openedBefore(first, first), false);
    // Ids it did not make (another version's) are not ordered: treated as different, not older.
    assert.equal(openedBefore('b1', first), false);
    assert.equal(openedBefore(first, 'b1'), false);
  });

  it('ignores the watch of an earlier opening that arrives after the newer one’s', () => {
    const earlier = newOpeningId(1_000);
    const newer = newOpeningId(2_000);
    assert.equal(onWatched(following(newer), earlier), 'keep');
    assert.equal(onWatched(following(earlier), newer), 'replace');
  });

  it('stops following only the opening that closed', () => {
    assert.equal(stopsFollowing(following('b1'), 'b1'), true);
    // A late close of an earlier opening must not undo the newer one.
    assert.equal(stopsFollowing(following('b2'), 'b1'), false);
    assert.equal(stopsFollowing(asking, 'b1'), false);
    assert.equal(stopsFollowing(undefined, 'b1'), false);
  });

  it('takes events from the opening it follows, and any before the answer', () => {
    assert.equal(concerns(following('b1'), 'b1'), true);
    assert.equal(concerns(following('b2'), 'b1'), false);
    assert.equal(concerns(asking, 'b1'), true);
  });
});
