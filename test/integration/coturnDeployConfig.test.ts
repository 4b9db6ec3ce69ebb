/**
 * The coturn configuration operators are given (deploy/coturn/turnserver.conf), run as is by
 * Debian's coturn with only its REPLACE-… values and ports filled in: relay-only clients (the
 * real ConferenceClient in Chromium, `iceTransportPolicy: 'relay'`) exchange media through it
 * with relais, its one allowed peer; pointed at another address, it refuses to relay to relais.
 */
import assert from 'node:assert/strict';
import type { Page } from 'puppeteer-core';
import { busiestInbound, harness, launchChromium, receivesAudioAndVideo } from '../support/harness/chromiumHarness.js';
import { type Coturn, startCoturn } from '../support/coturn.js';
import { startTestServer } from '../support/server.js';
import { eventually } from '../support/wait.js';

async function relayedMeeting(coturn: Coturn, room: string) {
  const server = await startTestServer({
    RELAIS_WORKERS: '1',
    RELAIS_TURN_URLS: coturn.urls.tls,
    RELAIS_TURN_SECRET: coturn.secret,
  });
  const chromium = await launchChromium([`--ignore-certificate-errors-spki-list=${coturn.spki}`]);
  const speaker = await chromium.open(server.url);
  const listener = await chromium.open(server.url);
  await harness(speaker, 'join', 'a', server.token({ room, role: 'speaker', sub: 'alice' }), 'auto', 'relay');
  await harness(speaker, 'publish', 'a', ['mic', 'camera']);
  await harness(listener, 'join', 'b', server.token({ room, role: 'listener', sub: 'bob' }), 'auto', 'relay');
  return {
    server,
    speaker,
    listener,
    close: async () => {
      await chromium.close();
      await server.stop();
    },
  };
}

describe('coturn with the shipped configuration (deploy/coturn/turnserver.conf)', function () {
  this.timeout(120_000);

  it('relays a relay-only client’s audio and video to relais, its allowed peer', async () => {
    const coturn = await startCoturn({ deployConfig: { allowedPeerIp: '127.0.0.1' } });
    let meeting: Awaited<ReturnType<typeof relayedMeeting>> | undefined;
    try {
      meeting = await relayedMeeting(coturn, 'shipped');
      const { listener, speaker } = meeting;
      await receivesAudioAndVideo(
        listener,
        'b',
        'audio packets and decoded video at the listener, through coturn',
        45_000,
      );
      for (const page of [speaker, listener] as Page[])
        await eventually('the client to report a relayed path', async () => {
          const name = page === speaker ? 'a' : 'b';
          return (await harness(page, 'mediaPath', name)) === 'relayed';
        });
      assert.match(coturn.output(), /CREATE_PERMISSION processed, success/);
    } catch (error) {
      console.error(`[coturn output, last lines]\n${coturn.output().split('\n').slice(-30).join('\n')}`);
      throw error;
    } finally {
      await meeting?.close();
      await coturn.stop();
    }
  });

  it('refuses to relay to relais when relais is not its allowed peer (private ranges are denied)', async () => {
    const coturn = await startCoturn({ deployConfig: { allowedPeerIp: '127.0.0.2' } });
    let meeting: Awaited<ReturnType<typeof relayedMeeting>> | undefined;
    try {
      meeting = await relayedMeeting(coturn, 'denied');
      await eventually(
        'coturn to refuse a permission towards relais (127.0.0.1)',
        () => /CREATE_PERMISSION processed, error 403/.test(coturn.output()),
        30_000,
      );
      assert.doesNotMatch(coturn.output(), /CREATE_PERMISSION processed, success/);
      const audio = busiestInbound(await harness(meeting.listener, 'stats', 'b'), 'audio');
      assert.equal(audio?.packetsReceived ?? 0, 0, 'no media reached the listener');
      assert.equal(await harness(meeting.listener, 'mediaPath', 'b'), null);
    } finally {
      await meeting?.close();
      await coturn.stop();
    }
  });
});
