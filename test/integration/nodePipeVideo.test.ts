/**
 * Video across nodes: a Chromium speaker (fake camera and microphone) publishes on node A; a
 * Chromium listener joins the room on node B, which receives both streams over one SRTP
 * PipeTransport pair (RTX on, for video), and decodes them.
 */
import assert from 'node:assert/strict';
import type { Page } from 'puppeteer-core';
import { freePortRange } from '../../tools/freePorts.js';
import {
  type ChromiumHarness,
  harness,
  launchChromium,
  receivesAudioAndVideo,
} from '../support/harness/chromiumHarness.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { eventually } from '../support/wait.js';

const ROOM = 'node-pipe-video';
const SECRET = 'cluster-secret-for-tests-0123456789abcdef';

async function nodeEnv(): Promise<Record<string, string>> {
  const pipeBase = await freePortRange(10);
  return {
    RELAIS_CLUSTER_SECRET: SECRET,
    RELAIS_CLUSTER_ADDRESS: '127.0.0.1',
    RELAIS_PIPE_PORT_MIN: String(pipeBase),
    RELAIS_PIPE_PORT_MAX: String(pipeBase + 9),
    RELAIS_LOG_LEVEL: 'warn',
  };
}

describe('media across nodes: a Chromium speaker on node A, seen and heard on node B', function () {
  this.timeout(120_000);
  let a: TestServer;
  let b: TestServer;
  let chromium: ChromiumHarness;
  let speaker: Page;
  let listener: Page;

  before(async () => {
    a = await startTestServer(await nodeEnv());
    b = await startTestServer(await nodeEnv());
    b.server.staticRoomNodes.addPeer(ROOM, a.server.node);
    a.server.staticRoomNodes.addPeer(ROOM, b.server.node);
    chromium = await launchChromium();
    speaker = await chromium.open(a.url);
    listener = await chromium.open(b.url);
  });

  after(async () => {
    await chromium?.close();
    await b?.stop();
    await a?.stop();
  });

  it('pipes the speaker’s audio and video once to B, where the listener decodes both', async () => {
    await harness(speaker, 'join', 'a', a.token({ room: ROOM, role: 'speaker', sub: 'alice', name: 'Alice' }));
    assert.equal((await harness(speaker, 'publish', 'a', ['mic', 'camera'])).length, 2);

    await harness(listener, 'join', 'b', b.token({ room: ROOM, role: 'listener', sub: 'bob', name: 'Bob' }));
    const tracks = await eventually(
      'two remote tracks on B',
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
      'audio packets and decoded video frames at the listener on B',
    );
    assert.ok(received.video.framesDecoded > 10);
    // One transport to B, one pipe consumer per producer.
    assert.deepEqual(a.server.pipeCounts().out, { transports: 1, consumers: 2 });
    assert.deepEqual(b.server.pipeCounts().in, { transports: 1, producers: 2 });
  });

  it('closes both pipes and the transports when the listener leaves', async () => {
    await listener.close();
    await eventually('A to close its pipes', () => a.server.pipeCounts().out.transports === 0);
    assert.deepEqual(a.server.pipeCounts().out, { transports: 0, consumers: 0 });
    assert.deepEqual(b.server.pipeCounts().in, { transports: 0, producers: 0 });
  });
});
