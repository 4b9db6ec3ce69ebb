import assert from 'node:assert/strict';
import { encodeTone } from '../../bench/load/opusTone.js';
import { OpusSpeaker } from '../../bench/load/opusSpeaker.js';
import { RtcListener } from '../../bench/load/rtcListener.js';
import { internalKey, SIGNATURE_HEADER, signRequest, TIMESTAMP_HEADER } from '../../server/src/http/internalAuth.js';
import { freePortRange } from '../../tools/freePorts.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { SignallingClient } from '../support/signallingClient.js';
import { eventually } from '../support/wait.js';

const ROOM = 'node-pipe';
const SECRET = 'cluster-secret-for-tests-0123456789abcdef';
const LISTENERS = 6;
const TONE_HZ = 440;

async function nodeEnv(extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const pipeBase = await freePortRange(10);
  return {
    RELAIS_CLUSTER_SECRET: SECRET,
    RELAIS_CLUSTER_ADDRESS: '127.0.0.1',
    RELAIS_PIPE_PORT_MIN: String(pipeBase),
    RELAIS_PIPE_PORT_MAX: String(pipeBase + 9),
    RELAIS_LOG_LEVEL: 'warn',
    ...extra,
  };
}

/**
 * Two relais nodes in this process: the speaker publishes a real Opus tone on node A, real
 * WebRTC listeners (ICE + DTLS-SRTP, libdatachannel) join the same room on node B, which
 * receives the speaker once over a PipeTransport pair negotiated on A's internal API.
 */
describe('media across nodes: a speaker on node A, listeners on node B', function () {
  this.timeout(120_000);
  let a: TestServer;
  let b: TestServer;
  let speaker: OpusSpeaker | undefined;
  let observer: SignallingClient | undefined;
  const listeners: RtcListener[] = [];

  const joinListeners = async (count: number, from: number): Promise<RtcListener[]> => {
    const joined = Array.from(
      { length: count },
      (_, i) =>
        new RtcListener(from + i, {
          url: b.url,
          token: b.token({ room: ROOM, role: 'listener', sub: `listener-${from + i}`, name: `L${from + i}` }),
          decode: i < 2,
          toneHz: TONE_HZ,
        }),
    );
    listeners.push(...joined);
    await Promise.all(joined.map((l) => l.join(30_000)));
    return joined;
  };

  before(async () => {
    a = await startTestServer(await nodeEnv());
    // B spreads its listeners over two workers: the piped producer fans out there with pipeToRouter.
    b = await startTestServer(await nodeEnv({ RELAIS_WORKERS: '2', RELAIS_CONSUMERS_PER_ROUTER: '3' }));
    // Without Redis, each node is told by hand that the other may host the room too.
    b.server.staticRoomNodes.addPeer(ROOM, a.server.node);
    a.server.staticRoomNodes.addPeer(ROOM, b.server.node);
    speaker = await OpusSpeaker.start(
      a.url,
      a.token({ room: ROOM, role: 'speaker', sub: 'speaker', name: 'Speaker' }),
      encodeTone(TONE_HZ),
    );
  });

  after(async () => {
    for (const l of listeners) l.close();
    observer?.close();
    speaker?.close();
    await b?.stop();
    await a?.stop();
    if (process.env.NODE_PIPE_LOGS) for (const line of [...a.rawLogs, ...b.rawLogs]) console.log(line);
  });

  it('offers node A’s speaker to a participant joining on node B', async () => {
    const entered = await SignallingClient.join(
      b.url,
      b.token({ room: ROOM, role: 'listener', sub: 'observer', name: 'Observer' }),
    );
    observer = entered.client;
    assert.deepEqual(
      entered.joined.producers.map((p) => [p.producerId, p.participantId, p.kind]),
      [[speaker?.producerId, 'speaker', 'audio']],
    );
    // Listing is not piping: nothing crosses until someone consumes.
    assert.equal(a.server.pipeCounts().out.consumers, 0);
  });

  it('every listener on B hears the tone, through one pipe consumer on A', async () => {
    const joined = await joinListeners(LISTENERS, 0);
    for (const l of joined) assert.ok(await l.firstAudio(10_000), `listener ${l.id} received no audio`);
    // Sampled listeners keep a second of audio to decode.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    for (const l of joined) {
      const report = l.report();
      assert.ok(report.ok && report.received > 0, JSON.stringify(report));
      if (report.toneDominance !== undefined)
        assert.ok(report.toneDominance > 0.9, `listener ${l.id}: tone dominance ${report.toneDominance}`);
    }
    assert.equal(joined.filter((l) => l.report().toneDominance !== undefined).length, 2);
    assert.deepEqual(a.server.pipeCounts().out, { transports: 1, consumers: 1 });
    assert.deepEqual(a.server.pipeCounts(ROOM).out, { transports: 1, consumers: 1 });
    assert.deepEqual(a.server.pipeCounts('another-room').out, { transports: 0, consumers: 0 });
    // A's worker forwards the speaker once, to the pipe: its load is one producer and one consumer.
    assert.equal(
      a.server.pool.all().reduce((sum, worker) => sum + worker.load, 0),
      2,
    );
    assert.deepEqual(b.server.pipeCounts().in, { transports: 1, producers: 1 });
    assert.equal(b.server.signalling.room(ROOM)?.media.counts().consumers, LISTENERS);
    const loads = b.server.signalling.room(ROOM)?.media.routerLoads() ?? {};
    assert.equal(Object.keys(loads).length, 2, `B's routers: ${JSON.stringify(loads)}`);
    const metrics = await (await fetch(`${a.url}/metrics`)).text();
    assert.match(metrics, /relais_pipes\{direction="out"\} 1/);
  });

  it('closes the pipe on both nodes when B’s last listener leaves', async () => {
    for (const l of listeners.splice(0)) l.close();
    await eventually('A to close its pipe', () => a.server.pipeCounts().out.transports === 0);
    assert.deepEqual(a.server.pipeCounts().out, { transports: 0, consumers: 0 });
    assert.equal(
      a.server.pool.all().reduce((sum, worker) => sum + worker.load, 0),
      1,
    );
    await eventually('B to close its pipe', () => b.server.pipeCounts().in.transports === 0);
    assert.deepEqual(b.server.pipeCounts().in, { transports: 0, producers: 0 });
  });

  it('pipes again for a new listener, and tells B’s participants when the speaker stops', async () => {
    const [again] = await joinListeners(1, 100);
    assert.ok(await again?.firstAudio(10_000), 'the new listener received no audio');
    assert.deepEqual(a.server.pipeCounts().out, { transports: 1, consumers: 1 });
    const producerId = speaker?.producerId;
    speaker?.close();
    speaker = undefined;
    await observer?.next('producerClosed', (p) => p.producerId === producerId, 10_000);
    await eventually('both nodes to close the pipe', () => {
      const out = a.server.pipeCounts().out;
      const inn = b.server.pipeCounts().in;
      return out.transports + out.consumers + inn.transports + inn.producers === 0;
    });
    // B's listener's consumer closes with the piped producer (mediasoup tells it asynchronously).
    await eventually(
      'B’s listener consumer to close',
      () => b.server.signalling.room(ROOM)?.media.counts().consumers === 0,
    );
  });

  it('announces on B a speaker who starts later on A, and B’s listeners hear them', async () => {
    speaker = await OpusSpeaker.start(
      a.url,
      a.token({ room: ROOM, role: 'speaker', sub: 'speaker-2', name: 'Second' }),
      encodeTone(TONE_HZ),
    );
    const producerId = speaker.producerId;
    const added = await observer?.next('producerAdded', (p) => p.producerId === producerId, 10_000);
    assert.equal(added?.participantId, 'speaker-2');
    const [late] = await joinListeners(1, 200);
    assert.ok(await late?.firstAudio(10_000), 'the listener received no audio from the second speaker');
    assert.deepEqual(a.server.pipeCounts().out, { transports: 1, consumers: 1 });
    // A moderator on A mutes the speaker: B's participants are told, as A's would be.
    const { client: moderator } = await SignallingClient.join(
      a.url,
      a.token({ room: ROOM, role: 'moderator', sub: 'moderator', name: 'Moderator' }),
    );
    try {
      await moderator.request('muteParticipant', { participantId: 'speaker-2' });
      await observer?.next('producerPaused', (p) => p.producerId === producerId && p.paused, 10_000);
    } finally {
      moderator.close();
    }
    for (const l of listeners.splice(0)) l.close();
    await eventually('the pipe to close on A', () => a.server.pipeCounts().out.transports === 0);
  });

  it('opens the room on B with its own media when another node hosting it cannot be reached', async () => {
    // Nothing listens on the discard port on loopback: that node is down.
    b.server.staticRoomNodes.addPeer('unreachable', { id: 'gone', url: 'http://127.0.0.1:9' });
    const { client, joined } = await SignallingClient.join(
      b.url,
      b.token({ room: 'unreachable', role: 'listener', sub: 'stranded', name: 'Stranded' }),
    );
    try {
      assert.deepEqual(joined.producers, []);
      const media = b.server.signalling.room('unreachable')?.media;
      assert.deepEqual(media?.followedNodes(), []);
    } finally {
      client.close();
    }
    await eventually('the room to close on B', () => b.server.signalling.room('unreachable') === undefined);
  });

  it('refuses an internal request without the cluster key (401) and creates nothing', async () => {
    const body = JSON.stringify({
      roomId: ROOM,
      node: { id: 'intruder', url: 'http://127.0.0.1:9/' },
      producerId: 'p',
      transport: {
        ip: '127.0.0.1',
        port: 9,
        srtpParameters: { cryptoSuite: 'AEAD_AES_256_GCM', keyBase64: 'x'.repeat(60) },
      },
    });
    const unsigned = await fetch(`${a.url}/internal/pipes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    assert.equal(unsigned.status, 401);
    const timestamp = String(Date.now());
    const wrongKey = internalKey('another-secret-that-is-long-enough-0123456789');
    const forged = await fetch(`${a.url}/internal/watch`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [TIMESTAMP_HEADER]: timestamp,
        [SIGNATURE_HEADER]: signRequest(wrongKey, timestamp, 'POST', '/internal/watch', body),
      },
      body,
    });
    assert.equal(forged.status, 401);
    assert.deepEqual(a.server.pipeCounts(), {
      out: { transports: 0, consumers: 0 },
      in: { transports: 0, producers: 0 },
    });
  });

  it('closes the origin’s pipes to a node that stops', async () => {
    // The second speaker is muted (previous test): the listener consumes, the pipe opens, no audio flows.
    await joinListeners(1, 300);
    assert.deepEqual(a.server.pipeCounts().out, { transports: 1, consumers: 1 });
    await b.stop();
    await eventually('A to close its pipe to the stopped node', () => a.server.pipeCounts().out.transports === 0);
    assert.deepEqual(a.server.pipeCounts().out, { transports: 0, consumers: 0 });
  });
});
