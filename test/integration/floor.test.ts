/**
 * Giving the floor in a briefing, end to end: a listener in Chromium raises a hand, the
 * moderator grants the floor, the listener publishes its microphone without reconnecting or
 * a new token, another listener hears it; take-back closes the producer everywhere.
 */
import assert from 'node:assert/strict';
import type { Page } from 'puppeteer-core';
import { type ChromiumHarness, harness, launchChromium } from '../support/harness/chromiumHarness.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { SignallingClient } from '../support/signallingClient.js';
import { eventually } from '../support/wait.js';

describe('give the floor and take it back (Chromium listeners, real SFU)', function () {
  this.timeout(120_000);
  let t: TestServer;
  let chromium: ChromiumHarness;
  let asker: Page;
  let audience: Page;
  let moderator: SignallingClient;

  before(async () => {
    // One receiver per router: the audience sits on the second worker, so the promoted
    // listener's voice must be piped there, and un-piped on take-back.
    t = await startTestServer({ RELAIS_WORKERS: '2', RELAIS_CONSUMERS_PER_ROUTER: '1' });
    chromium = await launchChromium();
    asker = await chromium.open(t.url);
    audience = await chromium.open(t.url);
    ({ client: moderator } = await SignallingClient.join(
      t.url,
      t.token({ room: 'briefing', role: 'moderator', sub: 'commander', name: 'Commander' }),
    ));
  });

  after(async () => {
    moderator?.close();
    await chromium?.close();
    await t?.stop();
  });

  it('a listener cannot publish, promote itself or see the participant list', async () => {
    const joined = await harness(
      asker,
      'join',
      'asker',
      t.token({ room: 'briefing', role: 'listener', sub: 'prefecture-13', name: 'Préfecture 13' }),
    );
    assert.equal(joined.permissions.publishAudio, false);
    assert.equal(joined.permissions.seeParticipantList, false);
    await harness(
      audience,
      'join',
      'audience',
      t.token({ room: 'briefing', role: 'listener', sub: 'prefecture-69', name: 'Préfecture 69' }),
    );

    const produce = await harness(asker, 'request', 'asker', 'createTransport', { direction: 'send' });
    assert.equal(produce.ok, false);
    assert.equal(produce.error?.code, 'FORBIDDEN');
    const self = await harness(asker, 'request', 'asker', 'grantFloor', { participantId: 'prefecture-13' });
    assert.equal(self.error?.code, 'FORBIDDEN');
    assert.equal(await harness(asker, 'hasSendTransport', 'asker'), false);
  });

  it('raise hand → moderator grants the floor → the listener is heard by another listener', async () => {
    await harness(asker, 'request', 'asker', 'setHand', { raised: true });
    const raised = await moderator.next('participantUpdated', (p) => p.id === 'prefecture-13' && p.handRaised);
    assert.equal(raised.role, 'listener');

    await moderator.request('grantFloor', { participantId: 'prefecture-13' });
    // Live: the same connection, the same token; the client learns it may now speak.
    await eventually(
      'permissionsChanged at the listener',
      async () => (await harness(asker, 'permissions', 'asker')).publishAudio,
      10_000,
    );
    const producers = await harness(asker, 'publish', 'asker', ['mic']);
    assert.equal(producers.length, 1);
    assert.equal(await harness(asker, 'hasSendTransport', 'asker'), true);

    const heard = await eventually(
      'the other listener to receive the promoted listener’s audio',
      async () => {
        const tracks = await harness(audience, 'remoteTracks', 'audience');
        const stats = await harness(audience, 'stats', 'audience');
        const audio = stats.filter((s) => s.kind === 'audio').sort((a, b) => b.packetsReceived - a.packetsReceived)[0];
        return tracks.some((tr) => tr.participantId === 'prefecture-13') && audio && audio.packetsReceived > 50
          ? audio
          : undefined;
      },
      30_000,
    );
    assert.ok(heard.packetsReceived > 50);
    const loads = t.server.signalling.room('briefing')?.media.routerLoads() ?? {};
    assert.equal(Object.keys(loads).length, 2, `the room spans both workers: ${JSON.stringify(loads)}`);
  });

  it('take-back closes the promoted listener’s producer everywhere', async () => {
    const room = t.server.signalling.room('briefing');
    assert.ok(room, 'the briefing is live');
    const producer = room.media.producerList().find((r) => r.peerId === 'prefecture-13');
    assert.ok(producer, 'producer exists before take-back');
    await moderator.request('revokeFloor', { participantId: 'prefecture-13' });
    await moderator.next('producerClosed', (p) => p.producerId === producer.producer.id);
    await eventually(
      'the audience to drop the track',
      async () => {
        const tracks = await harness(audience, 'remoteTracks', 'audience');
        return !tracks.some((tr) => tr.participantId === 'prefecture-13');
      },
      10_000,
    );
    assert.equal(
      room.media.producerList().some((r) => r.peerId === 'prefecture-13'),
      false,
    );
    const retry = await harness(asker, 'request', 'asker', 'produce', {
      transportId: 'x',
      kind: 'audio',
      rtpParameters: {},
      source: 'mic',
    });
    assert.equal(retry.error?.code, 'FORBIDDEN');
  });
});
