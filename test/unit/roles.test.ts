import assert from 'node:assert/strict';
import { Participant } from '../../server/src/domain/Participant.js';
import { floorAllowed, permissionsFor, permissionToPublish, ROLE_PERMISSIONS } from '../../server/src/domain/roles.js';

describe('role permissions', () => {
  it('gives each role exactly the documented rights', () => {
    assert.deepEqual(ROLE_PERMISSIONS.moderator, {
      publishAudio: true,
      publishVideo: true,
      publishScreen: true,
      chat: true,
      raiseHand: true,
      moderate: true,
      seeParticipantList: true,
    });
    assert.deepEqual(ROLE_PERMISSIONS.speaker, {
      publishAudio: true,
      publishVideo: true,
      publishScreen: true,
      chat: true,
      raiseHand: true,
      moderate: false,
      seeParticipantList: true,
    });
    assert.deepEqual(ROLE_PERMISSIONS.listener, {
      publishAudio: false,
      publishVideo: false,
      publishScreen: false,
      chat: true,
      raiseHand: true,
      moderate: false,
      seeParticipantList: false,
    });
  });

  it('lets token grants narrow a role but never widen it', () => {
    const narrowed = permissionsFor('speaker', { publishVideo: false, chat: false });
    assert.equal(narrowed.publishVideo, false);
    assert.equal(narrowed.chat, false);
    assert.equal(narrowed.publishAudio, true);
    const widened = permissionsFor('listener', { publishAudio: true, publishVideo: true });
    assert.equal(widened.publishAudio, false);
    assert.equal(widened.publishVideo, false);
  });

  it('maps each media source to its permission', () => {
    assert.equal(permissionToPublish('mic'), 'publishAudio');
    assert.equal(permissionToPublish('camera'), 'publishVideo');
    assert.equal(permissionToPublish('screen'), 'publishScreen');
  });

  it('lets a listener given the floor publish audio, and only audio', () => {
    const listener = new Participant({ id: 'l', name: 'L', role: 'listener' }, 0);
    assert.equal(listener.can('publishAudio'), false);
    listener.hasFloor = true;
    assert.equal(listener.can('publishAudio'), true);
    assert.equal(listener.can('publishVideo'), false);
    assert.equal(listener.can('moderate'), false);
  });

  it('keeps an explicit false grant as a ceiling the floor does not lift', () => {
    assert.equal(permissionsFor('listener', {}, { hasFloor: true }).publishAudio, true);
    assert.equal(permissionsFor('listener', { publishAudio: false }, { hasFloor: true }).publishAudio, false);
    assert.equal(permissionsFor('speaker', { publishAudio: false }, { hasFloor: true }).publishAudio, false);
    assert.equal(permissionsFor('listener', { publishAudio: true }, { hasFloor: true }).publishAudio, true);
    assert.equal(permissionsFor('listener', {}, { hasFloor: true }).publishVideo, false, 'the floor is audio only');
    assert.equal(floorAllowed({ publishAudio: false }), false);
    assert.equal(floorAllowed({ publishVideo: false }), true);
    assert.equal(floorAllowed(), true);

    const capped = new Participant({ id: 'c', name: 'C', role: 'listener', grants: { publishAudio: false } }, 0);
    assert.equal(capped.mayTakeFloor, false);
    capped.hasFloor = true;
    assert.equal(capped.can('publishAudio'), false);
    assert.equal(capped.permissions.publishAudio, false);
  });
});
