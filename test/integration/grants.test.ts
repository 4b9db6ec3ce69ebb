/**
 * A token's explicit `publishAudio: false` is a ceiling, through a running server: a moderator
 * cannot give such a listener the floor (FORBIDDEN, with a message saying why), and the listener
 * still cannot open a send transport or produce; a listener whose token allows audio is given the
 * floor and produces. Real server, real worker, real socket.io clients (signalling only).
 */
import assert from 'node:assert/strict';
import type { Grants } from '../../server/src/domain/roles.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { SignallingClient } from '../support/signallingClient.js';

const ROOM = 'briefing-grants';

/** Opus as a browser would send it: enough for mediasoup to accept a producer. */
const OPUS = {
  codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }],
  encodings: [{ ssrc: 1111 }],
  rtcp: { cname: 'floor' },
};

describe('grants: an explicit false is a ceiling the floor does not lift (real server)', function () {
  this.timeout(30_000);
  let t: TestServer;
  let moderator: SignallingClient;
  const clients: SignallingClient[] = [];

  async function join(sub: string, role: 'moderator' | 'listener', grants?: Grants) {
    const entered = await SignallingClient.join(
      t.url,
      t.token({ room: ROOM, role, sub, name: sub, ...(grants ? { grants } : {}) }),
    );
    clients.push(entered.client);
    return entered;
  }

  before(async () => {
    t = await startTestServer();
    ({ client: moderator } = await join('commander', 'moderator'));
  });
  after(async () => {
    for (const client of clients.splice(0)) client.close();
    await t?.stop();
  });

  it('refuses the floor to a listener whose token says publishAudio: false, who still cannot publish', async () => {
    const { client: capped, joined } = await join('prefecture-59', 'listener', { publishAudio: false });
    assert.equal(joined.permissions.publishAudio, false);
    await capped.request('setHand', { raised: true });
    await moderator.next('participantUpdated', (p) => p.id === 'prefecture-59' && p.handRaised);

    const refused = await moderator.requestRefused('grantFloor', { participantId: 'prefecture-59' });
    assert.equal(refused.code, 'FORBIDDEN');
    assert.match(refused.message, /this participant's access does not allow speaking/i);

    const session = t.server.signalling.room(ROOM);
    assert.ok(session, 'the room is live');
    const room = session.members;
    assert.equal(room.get('prefecture-59').hasFloor, false);
    assert.equal(room.get('prefecture-59').handRaised, true, 'the hand stays up for the moderator to see');
    assert.deepEqual(capped.received('permissionsChanged'), [], 'the listener was told of no new permission');
    const transport = await capped.requestRefused('createTransport', { direction: 'send' });
    assert.equal(transport.code, 'FORBIDDEN');
    const produce = await capped.requestRefused('produce', {
      transportId: 'none',
      kind: 'audio',
      source: 'mic',
      rtpParameters: OPUS,
    });
    assert.equal(produce.code, 'FORBIDDEN');
    assert.equal(
      session.media.producerList().some((r) => r.peerId === 'prefecture-59'),
      false,
    );
  });

  it('gives the floor to a listener whose token allows audio, who then produces', async () => {
    const { client: listener, joined } = await join('prefecture-13', 'listener', { publishVideo: false });
    assert.equal(joined.permissions.publishAudio, false);
    await listener.request('setHand', { raised: true });
    await moderator.next('participantUpdated', (p) => p.id === 'prefecture-13' && p.handRaised);

    await moderator.request('grantFloor', { participantId: 'prefecture-13' });
    const { permissions } = await listener.next('permissionsChanged', (p) => p.permissions.publishAudio);
    assert.equal(permissions.publishVideo, false, 'the floor is audio only, and publishVideo: false stays');

    const send = await listener.request('createTransport', { direction: 'send' });
    const { producerId } = await listener.request('produce', {
      transportId: send.id,
      kind: 'audio',
      source: 'mic',
      rtpParameters: OPUS,
    });
    assert.ok(producerId);
    await moderator.next('producerAdded', (p) => p.producerId === producerId);
  });
});
