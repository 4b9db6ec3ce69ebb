/**
 * Real WebRTC against the real mediasoup worker: headless Chromium runs mediasoup-client,
 * completes ICE + DTLS with the worker built by scripts/build-mediasoup-worker.sh, and the
 * receiving side decodes what the SFU forwarded. (This is the path where a broken worker
 * build, such as the kTLS BIO crash, shows up: mediasoup's own tests never do a handshake.)
 */
import assert from 'node:assert/strict';
import type { Page } from 'puppeteer-core';
import {
  type ChromiumHarness,
  harness,
  launchChromium,
  receivesAudioAndVideo,
} from '../support/harness/chromiumHarness.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { eventually } from '../support/wait.js';

describe('real media through the SFU (Chromium + mediasoup-client)', function () {
  this.timeout(120_000);
  let server: TestServer;
  let chromium: ChromiumHarness;
  let speaker: Page;
  let listener: Page;

  before(async () => {
    server = await startTestServer({ RELAIS_WORKERS: '1' });
    chromium = await launchChromium();
    speaker = await chromium.open(server.url);
    listener = await chromium.open(server.url);
  });

  after(async () => {
    await chromium?.close();
    await server?.stop();
  });

  it('forwards a speaker’s audio and video to another participant, who decodes them', async () => {
    await harness(speaker, 'join', 'a', server.token({ room: 'ops', role: 'speaker', sub: 'alice', name: 'Alice' }));
    const producers = await harness(speaker, 'publish', 'a', ['mic', 'camera']);
    assert.equal(producers.length, 2);

    await harness(listener, 'join', 'b', server.token({ room: 'ops', role: 'listener', sub: 'bob', name: 'Bob' }));
    const tracks = await eventually(
      'two remote tracks',
      async () => {
        const t = await harness(listener, 'remoteTracks', 'b');
        return t.length === 2 ? t : undefined;
      },
      20_000,
    );
    assert.deepEqual(tracks.map((t) => `${t.participantId}/${t.source}`).sort(), ['alice/camera', 'alice/mic']);

    const received = await receivesAudioAndVideo(
      listener,
      'b',
      'audio packets and decoded video frames at the listener',
    );
    assert.ok(received.audio.packetsReceived > 50);
    assert.ok(received.video.framesDecoded > 10);

    const room = server.server.signalling.room('ops');
    assert.ok(room, 'room is live on the server');
    assert.deepEqual(room.media.counts(), { peers: 2, transports: 3, producers: 2, consumers: 2, routers: 1 });
  });

  it('lets a briefing listener receive audio only, and the video on request at the lowest layer', async () => {
    const light = await chromium.open(server.url);
    try {
      const joined = await harness(
        light,
        'join',
        'c',
        server.token({ room: 'ops', role: 'listener', sub: 'carol' }),
        'on-request',
      );
      assert.equal(joined.activeSpeaker, 'alice', 'a late joiner is told who is speaking');
      const offered = await eventually(
        'the speaker’s video to be offered',
        async () => {
          const video = await harness(light, 'availableVideo', 'c');
          return video.length === 1 ? video : undefined;
        },
        10_000,
      );
      await eventually('audio track', async () => (await harness(light, 'remoteTracks', 'c')).length === 1, 10_000);
      assert.deepEqual(
        (await harness(light, 'remoteTracks', 'c')).map((tr) => tr.kind),
        ['audio'],
        'no video until asked',
      );

      const video = offered[0];
      assert.ok(video);
      await harness(light, 'watchVideo', 'c', video.producerId);
      await eventually(
        'decoded video after asking for it',
        async () => {
          const stats = await harness(light, 'stats', 'c');
          return stats.some((s) => s.kind === 'video' && s.framesDecoded > 5);
        },
        30_000,
      );
      const room = server.server.signalling.room('ops');
      assert.ok(room, 'the room is live');
      const videoTrack = (await harness(light, 'remoteTracks', 'c')).find((tr) => tr.kind === 'video');
      assert.ok(videoTrack, 'a video track');
      const consumer = room.media.ownConsumer('carol', videoTrack.consumerId);
      assert.equal(consumer.preferredLayers?.spatialLayer, 0, 'lowest simulcast layer');

      await harness(light, 'stopVideo', 'c', video.producerId);
      await eventually(
        'the video consumer to be closed on the server',
        async () => room.media.counts().consumers === 3,
        10_000,
      );
      await harness(light, 'leave', 'c');
    } finally {
      await light.close();
    }
  });

  it('frees every transport, producer and consumer when both leave', async () => {
    await harness(listener, 'leave', 'b');
    await harness(speaker, 'leave', 'a');
    await eventually('room to close', async () => server.server.signalling.room('ops') === undefined, 10_000);
    assert.equal(server.server.signalling.roomCount(), 0);
    const workerLoads = server.server.pool.all().map((w) => w.load);
    assert.deepEqual(workerLoads, [0]);
    const [slot] = server.server.pool.all();
    assert.ok(slot);
    const dump = await slot.worker.dump();
    assert.equal(dump.routerIds.length, 0, 'no router left on the worker');
  });
});
