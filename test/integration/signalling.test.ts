/**
 * The signalling contract, against the real server and real mediasoup workers, with real
 * socket.io clients: authentication, the join flow, roles, typed errors, clean-up.
 */
import assert from 'node:assert/strict';
import type { Socket } from 'socket.io-client';
import { startTestServer, type TestServer } from '../support/server.js';
import { type RequestFailed, SignallingClient } from '../support/signallingClient.js';
import { eventually } from '../support/wait.js';

/** Opus as a browser would send it: enough for mediasoup to accept a producer. */
function opusParameters(ssrc: number) {
  return {
    codecs: [
      { mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2, parameters: { useinbandfec: 1 } },
    ],
    encodings: [{ ssrc }],
    rtcp: { cname: `c${ssrc}` },
  };
}

describe('signalling (real server, real worker, socket.io clients)', function () {
  this.timeout(30_000);
  let t: TestServer;
  const clients: SignallingClient[] = [];

  async function joinAs(room: string, role: 'moderator' | 'speaker' | 'listener', sub: string, ttlSeconds = 600) {
    const joined = await SignallingClient.join(t.url, t.token({ room, role, sub, name: sub, ttlSeconds }));
    clients.push(joined.client);
    return joined;
  }

  before(async () => {
    t = await startTestServer({ RELAIS_WORKERS: '2' });
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });
  after(async () => {
    await t?.stop();
  });

  describe('authentication in the handshake', () => {
    it('refuses a connection without a token, with a typed error and an audit event', async () => {
      await assert.rejects(
        SignallingClient.connect(t.url, undefined),
        (e: RequestFailed) => e.error.code === 'UNAUTHORIZED',
      );
      assert.ok(t.logs.some((l) => l.audit === true && l.event === 'auth.failed'));
    });

    it('refuses a forged token and never logs it', async () => {
      const forged = t.token({ room: 'r', role: 'moderator' }).replace(/.{6}$/, 'AAAAAA');
      await assert.rejects(
        SignallingClient.connect(t.url, forged),
        (e: RequestFailed) => e.error.code === 'UNAUTHORIZED',
      );
      const signature = forged.split('.')[2] ?? '';
      assert.ok(
        signature.length > 20 && !JSON.stringify(t.logs).includes(signature),
        'token signature absent from logs',
      );
    });

    it('refuses an expired token', async () => {
      const expired = t.token({ room: 'r', role: 'speaker', ttlSeconds: 1 });
      await new Promise((resolve) => setTimeout(resolve, 2100));
      await assert.rejects(SignallingClient.connect(t.url, expired), (e: RequestFailed) =>
        /expired/.test(e.error.message),
      );
    });

    it('ends a session when its token expires during the meeting', async () => {
      const { client } = await joinAs('exp', 'speaker', 'short', 2);
      assert.deepEqual(await client.next('sessionEnded', () => true, 10_000), { reason: 'expired' });
      await eventually('the room freed', () => t.server.signalling.room('exp') === undefined);
    });
  });

  describe('join flow', () => {
    it('gives router capabilities, a join result and transports with ICE/DTLS parameters on the worker ports', async () => {
      const { client, joined } = await joinAs('flow', 'speaker', 'alice');
      assert.equal(joined.self.id, 'alice');
      assert.equal(joined.self.role, 'speaker');
      assert.deepEqual(joined.participants, []);
      assert.equal(joined.permissions.publishAudio, true);

      const send = await client.request('createTransport', { direction: 'send' });
      assert.ok(send.id);
      assert.ok((send.iceParameters as { usernameFragment?: string }).usernameFragment);
      const fingerprints = (send.dtlsParameters as { fingerprints: { algorithm: string }[] }).fingerprints;
      assert.ok(fingerprints.some((f) => f.algorithm === 'sha-256'));
      const candidates = send.iceCandidates as { protocol: string; address: string; port: number }[];
      assert.deepEqual(candidates.map((c) => c.protocol).sort(), ['tcp', 'udp']);
      assert.ok(candidates.every((c) => c.address === '127.0.0.1'));
      const ports = new Set(candidates.map((c) => c.port));
      assert.equal(ports.size, 1, 'one port for UDP and TCP');
      await assert.rejects(
        client.request('createTransport', { direction: 'send' }),
        (e: RequestFailed) => e.error.code === 'CONFLICT',
      );
    });

    it('lets a speaker produce and another participant consume it, and tells each about the other', async () => {
      const alice = await joinAs('meet', 'speaker', 'alice');
      const bob = await joinAs('meet', 'listener', 'bob');
      assert.deepEqual(
        bob.joined.participants.map((p) => p.id),
        ['alice'],
        'a listener sees the speakers',
      );
      // Alice sees everybody, so she hears of Bob's arrival.
      assert.equal((await alice.client.next('participantJoined')).id, 'bob');

      const send = await alice.client.request('createTransport', { direction: 'send' });
      const { producerId } = await alice.client.request('produce', {
        transportId: send.id,
        kind: 'audio',
        rtpParameters: opusParameters(1111),
        source: 'mic',
      });
      const added = await bob.client.next('producerAdded');
      assert.deepEqual(added, { producerId, participantId: 'alice', kind: 'audio', source: 'mic', paused: false });

      await bob.client.request('createTransport', { direction: 'recv' });
      const consumed = await bob.client.request('consume', { producerId });
      assert.equal(consumed.kind, 'audio');
      assert.equal(consumed.participantId, 'alice');
      assert.equal((consumed.rtpParameters as { codecs: { mimeType: string }[] }).codecs[0]?.mimeType, 'audio/opus');
      await bob.client.request('resumeConsumer', { consumerId: consumed.consumerId });

      // Mute is seen by everyone; closing the producer closes Bob's consumer.
      await alice.client.request('pauseProducer', { producerId });
      assert.deepEqual(await bob.client.next('producerPaused'), { producerId, paused: true });
      await alice.client.request('closeProducer', { producerId });
      assert.deepEqual(await bob.client.next('consumerClosed'), { consumerId: consumed.consumerId });
      assert.deepEqual(await bob.client.next('producerClosed'), { producerId });

      // Leaving closes the rest, and each closure is told exactly once.
      const camera = await alice.client.request('produce', {
        transportId: send.id,
        kind: 'audio',
        rtpParameters: opusParameters(1112),
        source: 'mic',
      });
      await bob.client.next('producerAdded', (p) => p.producerId === camera.producerId);
      await alice.client.request('leave', {});
      await bob.client.next('producerClosed', (p) => p.producerId === camera.producerId);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const closures = bob.client.received('producerClosed');
      assert.equal(closures.length, 2, JSON.stringify(closures));
    });
  });

  describe('roles and boundaries', () => {
    it('refuses a listener’s send transport and produce with FORBIDDEN', async () => {
      const { client } = await joinAs('brief', 'listener', 'lea');
      const transport = await client.requestRefused('createTransport', { direction: 'send' });
      assert.equal(transport.code, 'FORBIDDEN');
      const produce = await client.requestRefused('produce', {
        transportId: 'x',
        kind: 'audio',
        rtpParameters: opusParameters(5),
        source: 'mic',
      });
      assert.equal(produce.code, 'FORBIDDEN');
      assert.match(produce.message, /listener/);
    });

    it('refuses moderation by a non-moderator, and self-promotion to the floor', async () => {
      const { client } = await joinAs('brief2', 'listener', 'lou');
      await joinAs('brief2', 'speaker', 'sam');
      assert.equal((await client.requestRefused('grantFloor', { participantId: 'lou' })).code, 'FORBIDDEN');
      assert.equal((await client.requestRefused('muteParticipant', { participantId: 'sam' })).code, 'FORBIDDEN');
      assert.equal((await client.requestRefused('removeParticipant', { participantId: 'sam' })).code, 'FORBIDDEN');
    });

    it('keeps a participant inside its own room', async () => {
      const alice = await joinAs('room-a', 'speaker', 'alice');
      const send = await alice.client.request('createTransport', { direction: 'send' });
      const { producerId } = await alice.client.request('produce', {
        transportId: send.id,
        kind: 'audio',
        rtpParameters: opusParameters(2222),
        source: 'mic',
      });
      const eve = await joinAs('room-b', 'moderator', 'eve');
      await eve.client.request('createTransport', { direction: 'recv' });
      assert.equal((await eve.client.requestRefused('consume', { producerId })).code, 'NOT_FOUND');
      assert.equal((await eve.client.requestRefused('muteParticipant', { participantId: 'alice' })).code, 'NOT_FOUND');
      assert.equal((await eve.client.requestRefused('closeProducer', { producerId })).code, 'NOT_FOUND');
      assert.deepEqual(eve.client.received('producerAdded'), []);
    });

    it('answers malformed messages with typed errors and keeps serving', async () => {
      const { client } = await joinAs('junk', 'speaker', 'mallory');
      assert.equal((await client.refusal('formatDisk', {})).code, 'INVALID_REQUEST');
      assert.equal((await client.refusal('createTransport', { direction: 42 })).code, 'INVALID_REQUEST');
      assert.equal((await client.refusal('join', 'not an object')).code, 'INVALID_REQUEST');
      assert.equal(
        (await client.requestRefused('join', { rtpCapabilities: { codecs: [] } })).code,
        'CONFLICT',
        'already joined',
      );
      const send = await client.request('createTransport', { direction: 'send' });
      const garbage = await client.refusal('produce', {
        transportId: send.id,
        kind: 'audio',
        rtpParameters: { codecs: 'no' },
        source: 'mic',
      });
      assert.equal(garbage.code, 'INVALID_REQUEST');
      assert.equal(
        (await client.refusal('produce', { transportId: send.id, kind: 'video', rtpParameters: {}, source: 'mic' }))
          .code,
        'INVALID_REQUEST',
      );
      // Off the catalog on purpose: no acknowledgement callback, a null payload.
      const untyped = client.socket as unknown as Socket;
      untyped.emit('chat', { text: 'no ack callback' });
      untyped.emit('produce', null, () => undefined);
      assert.deepEqual(await client.request('setHand', { raised: true }), {});
    });

    it('rate-limits chat floods', async () => {
      const { client } = await joinAs('chatty', 'speaker', 'flood');
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) => client.request('chat', { text: `m${i}` })),
      );
      const refused = results.filter(
        (r) => r.status === 'rejected' && (r.reason as RequestFailed).error.code === 'RATE_LIMITED',
      );
      assert.ok(refused.length >= 2, `expected refusals, got ${JSON.stringify(results)}`);
    });
  });

  describe('metrics', () => {
    it('exposes joins, participants, requests by outcome and messages sent in Prometheus format', async () => {
      await joinAs('metered', 'speaker', 'm1');
      const second = await joinAs('metered', 'listener', 'm2');
      await second.client.requestRefused('createTransport', { direction: 'send' });
      const res = await fetch(`${t.url}/metrics`);
      assert.equal(res.status, 200);
      const text = await res.text();
      const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? NaN);
      assert.ok(value(/^relais_joins_total (\d+)/m) >= 2);
      assert.ok(value(/^relais_participants (\d+)/m) >= 2);
      assert.ok(
        value(/^relais_signalling_requests_total\{request="createTransport",outcome="FORBIDDEN"\} (\d+)/m) >= 1,
      );
      assert.ok(value(/^relais_signalling_messages_sent_total (\d+)/m) > 0);
      assert.equal(value(/^relais_workers (\d+)/m), 2);
    });
  });

  describe('leaving, replacement and moderation', () => {
    it('frees everything when the last participant leaves', async () => {
      const alice = await joinAs('tidy', 'speaker', 'alice');
      const send = await alice.client.request('createTransport', { direction: 'send' });
      await alice.client.request('createTransport', { direction: 'recv' });
      await alice.client.request('produce', {
        transportId: send.id,
        kind: 'audio',
        rtpParameters: opusParameters(3333),
        source: 'mic',
      });
      assert.deepEqual(t.server.signalling.room('tidy')?.media.counts(), {
        peers: 1,
        transports: 2,
        producers: 1,
        consumers: 0,
        routers: 1,
      });
      await alice.client.request('leave', {});
      alice.client.close();
      await eventually('the room closed', () => t.server.signalling.room('tidy') === undefined);
    });

    it('replaces an older session of the same user without leaving a ghost', async () => {
      const watcher = await joinAs('twice', 'moderator', 'mod');
      const first = await joinAs('twice', 'speaker', 'claire');
      const second = await joinAs('twice', 'speaker', 'claire');
      assert.deepEqual(await first.client.next('sessionEnded'), { reason: 'replaced' });
      assert.deepEqual(
        second.joined.participants.map((p) => p.id),
        ['mod'],
      );
      assert.deepEqual(
        t.server.signalling
          .room('twice')
          ?.members.all()
          .map((p) => p.id)
          .sort(),
        ['claire', 'mod'],
      );
      await watcher.client.next('participantLeft', (p) => p.participantId === 'claire');
    });

    it('lets a moderator mute and remove a participant', async () => {
      const mod = await joinAs('mod', 'moderator', 'chief');
      const spk = await joinAs('mod', 'speaker', 'noisy');
      const send = await spk.client.request('createTransport', { direction: 'send' });
      const { producerId } = await spk.client.request('produce', {
        transportId: send.id,
        kind: 'audio',
        rtpParameters: opusParameters(4444),
        source: 'mic',
      });
      await mod.client.request('muteParticipant', { participantId: 'noisy' });
      assert.deepEqual(await spk.client.next('mutedByModerator'), { producerId });
      await mod.client.request('removeParticipant', { participantId: 'noisy' });
      assert.deepEqual(await spk.client.next('sessionEnded'), { reason: 'removed' });
      await mod.client.next('participantLeft', (p) => p.participantId === 'noisy');
      assert.ok(t.logs.some((l) => l.audit === true && l.event === 'participant.removed' && l.target === 'noisy'));
    });

    it('gives listeners a throttled summary instead of every join', async () => {
      const listener = await joinAs('large', 'listener', 'l0');
      await joinAs('large', 'speaker', 'commander');
      for (let i = 1; i <= 4; i++) await joinAs('large', 'listener', `l${i}`);
      const summary = await listener.client.next('roomSummary', (s) => s.participants === 6);
      assert.deepEqual(
        summary.speakers.map((p) => p.id),
        ['commander'],
      );
      assert.deepEqual(listener.client.received('participantJoined'), []);
    });
  });
});
