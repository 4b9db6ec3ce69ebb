import assert from 'node:assert/strict';
import { RelaisError } from '../../server/src/domain/errors.js';
import { MAX_CHAT_LENGTH } from '../../server/src/domain/chat.js';
import { Room } from '../../server/src/domain/Room.js';
import { RoomDirectory } from '../../server/src/domain/RoomDirectory.js';

function code(fn: () => unknown, expected: string): void {
  assert.throws(fn, (e: unknown) => e instanceof RelaisError && e.code === expected);
}

describe('room membership and moderation', () => {
  let room: Room;
  beforeEach(() => {
    room = new Room('cellule', { maxParticipants: 3 });
    room.join({ id: 'mod', name: 'Moderator', role: 'moderator' });
    room.join({ id: 'spk', name: 'Speaker', role: 'speaker' });
  });

  it('joins and leaves participants', () => {
    assert.equal(room.size, 2);
    assert.deepEqual(
      room.all().map((p) => p.id),
      ['mod', 'spk'],
    );
    assert.equal(room.leave('spk'), true);
    assert.equal(room.leave('spk'), false);
    assert.equal(room.size, 1);
  });

  it('refuses a second session for the same user, and a full room', () => {
    code(() => room.join({ id: 'spk', name: 'Again', role: 'speaker' }), 'CONFLICT');
    room.join({ id: 'l1', name: 'L1', role: 'listener' });
    code(() => room.join({ id: 'l2', name: 'L2', role: 'listener' }), 'CONFLICT');
    assert.equal(room.size, 3);
  });

  it('lets anyone raise a hand and only moderators act on others', () => {
    room.join({ id: 'lst', name: 'Listener', role: 'listener' });
    assert.equal(room.setHand('lst', true).handRaised, true);
    code(() => room.moderate('spk', 'lst', 'mute someone'), 'FORBIDDEN');
    code(() => room.moderate('mod', 'mod', 'remove someone'), 'FORBIDDEN');
    code(() => room.moderate('mod', 'ghost', 'remove someone'), 'NOT_FOUND');
    assert.equal(room.moderate('mod', 'lst', 'mute someone').id, 'lst');
  });

  it('gives and takes back the floor, lowering the hand', () => {
    room.join({ id: 'lst', name: 'Listener', role: 'listener' });
    room.setHand('lst', true);
    code(() => room.grantFloor('lst', 'lst'), 'FORBIDDEN');
    code(() => room.grantFloor('spk', 'lst'), 'FORBIDDEN');
    const promoted = room.grantFloor('mod', 'lst');
    assert.equal(promoted.hasFloor, true);
    assert.equal(promoted.handRaised, false);
    assert.equal(promoted.can('publishAudio'), true);
    assert.equal(room.revokeFloor('mod', 'lst').can('publishAudio'), false);
  });

  it('refuses the floor to someone whose token forbids audio, telling the moderator why', () => {
    room.join({ id: 'muted', name: 'Muted listener', role: 'listener', grants: { publishAudio: false } });
    room.setHand('muted', true);
    assert.throws(
      () => room.grantFloor('mod', 'muted'),
      (e: unknown) =>
        e instanceof RelaisError &&
        e.code === 'FORBIDDEN' &&
        /this participant's access does not allow speaking/i.test(e.message),
    );
    const muted = room.get('muted');
    assert.equal(muted.hasFloor, false);
    assert.equal(muted.handRaised, true, 'the hand stays up: nothing was given');
    assert.equal(muted.can('publishAudio'), false);
  });

  it('gives the floor to a listener whose token allows audio explicitly', () => {
    room.join({ id: 'ok', name: 'Listener', role: 'listener', grants: { publishAudio: true, publishVideo: false } });
    assert.equal(room.grantFloor('mod', 'ok').can('publishAudio'), true);
    assert.equal(room.get('ok').can('publishVideo'), false);
  });

  it('checks chat messages: permission, emptiness, length', () => {
    assert.equal(room.checkChat('spk', 'bonjour').id, 'spk');
    code(() => room.checkChat('spk', '   '), 'INVALID_REQUEST');
    code(() => room.checkChat('spk', 'x'.repeat(MAX_CHAT_LENGTH + 1)), 'INVALID_REQUEST');
    const muted = new Room('r', { maxParticipants: 5 });
    muted.join({ id: 'quiet', name: 'Q', role: 'speaker', grants: { chat: false } });
    code(() => muted.checkChat('quiet', 'hello'), 'FORBIDDEN');
  });
});

describe('room directory', () => {
  it('creates rooms on demand and forgets them once empty', () => {
    const directory = new RoomDirectory({ maxParticipants: 10 });
    const room = directory.getOrCreate('a');
    assert.equal(directory.getOrCreate('a'), room);
    room.join({ id: 'x', name: 'X', role: 'speaker' });
    assert.equal(directory.releaseIfEmpty('a'), false);
    room.leave('x');
    assert.equal(directory.releaseIfEmpty('a'), true);
    assert.equal(directory.find('a'), undefined);
    assert.equal(directory.count, 0);
  });
});
