/**
 * Who enters a room, enforced by the server with real socket.io clients: the lobby (moderators
 * see it live and decide; the waiting person can do nothing else, whatever they send), the
 * locked room (a newcomer is refused, a member who dropped out comes back), and bans (someone
 * refused or removed cannot come back with the same token).
 */
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../support/server.js';
import { SignallingClient } from '../support/signallingClient.js';
import { eventually } from '../support/wait.js';
import { WebhookReceiverStub } from '../support/webhookReceiver.js';

const SECRET = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
const ROOM = 'cellule';

describe('room policy: lobby, locked, bans (real server, socket.io clients)', function () {
  this.timeout(60_000);
  let t: TestServer;
  let receiver: WebhookReceiverStub;
  const clients: SignallingClient[] = [];

  async function connect(
    sub: string,
    role: 'moderator' | 'speaker' | 'listener',
    extra = {},
  ): Promise<SignallingClient> {
    const client = await SignallingClient.connect(
      t.url,
      t.token({ room: ROOM, role, sub, name: `Nom ${sub}`, ...extra }),
    );
    clients.push(client);
    return client;
  }

  before(async () => {
    receiver = await WebhookReceiverStub.start(SECRET);
    t = await startTestServer({ RELAIS_WEBHOOK_URLS: receiver.url, RELAIS_WEBHOOK_SECRET: SECRET });
  });

  after(async () => {
    for (const client of clients) client.close();
    await t?.stop();
    await receiver?.close();
  });

  let chief: SignallingClient;

  it("the first moderator's token puts the room in lobby: a newcomer waits, the moderator sees them", async () => {
    chief = await connect('chief', 'moderator', { policy: 'lobby' });
    const { rtpCapabilities } = await chief.request('getRouterRtpCapabilities', {});
    const joined = await chief.request('join', { rtpCapabilities });
    assert.equal(joined.policy, 'lobby');
    assert.deepEqual(joined.lobby, []);

    const ana = await connect('ana', 'speaker');
    assert.equal(await ana.tryJoin(), 'IN_LOBBY');
    const seen = await chief.next('lobbyChanged', (l) => l.waiting.some((w) => w.id === 'ana'));
    const entry = seen.waiting.find((w) => w.id === 'ana');
    assert.equal(entry?.name, 'Nom ana');
    assert.equal(entry?.role, 'speaker');
    assert.ok(Math.abs((entry?.since ?? 0) - Date.now()) < 10_000);
    // A pre-admitted token does not wait.
    const invited = await connect('invited', 'listener', { preadmitted: true });
    assert.equal(await invited.tryJoin(), 'joined');
  });

  it('while waiting, a crafted join and every media request are refused with IN_LOBBY', async () => {
    const bob = await connect('bob', 'speaker');
    assert.equal(await bob.tryJoin(), 'IN_LOBBY');
    assert.equal(await bob.tryJoin(), 'IN_LOBBY', 'joining again changes nothing');
    const requests = [
      ['createTransport', { direction: 'send' }],
      ['createTransport', { direction: 'recv' }],
      ['connectTransport', { transportId: 'x', dtlsParameters: {} }],
      ['produce', { transportId: 'x', kind: 'audio', rtpParameters: {}, source: 'mic' }],
      ['consume', { producerId: 'x' }],
      ['resumeConsumer', { consumerId: 'x' }],
      ['restartIce', { transportId: 'x' }],
      ['chat', { text: 'bonjour' }],
      ['setHand', { raised: true }],
      ['exportAttendance', { format: 'csv' }],
      ['decideLobby', { decision: 'admit', participantId: 'bob' }],
    ] as const;
    for (const [name, payload] of requests) {
      const refusal = await bob.refusal(name, payload);
      assert.equal(refusal.code, 'IN_LOBBY', `${name}: ${refusal.message}`);
    }
    // The others never heard of them.
    assert.ok(!chief.received('participantJoined').some((p) => p.id === 'bob'));
  });

  it('the moderator admits one (their media may start) and refuses another, who cannot come back', async () => {
    const [, ana] = clients as [SignallingClient, SignallingClient];
    const bob = clients[3] as SignallingClient;
    const admitted = await chief.request('decideLobby', { decision: 'admit', participantId: 'ana' });
    assert.deepEqual(admitted.decided, ['ana']);
    await ana.next('lobbyAdmitted');
    assert.equal(await ana.tryJoin(), 'joined');
    await ana.request('createTransport', { direction: 'send' });
    await chief.next('participantJoined', (p) => p.id === 'ana');

    await chief.request('decideLobby', { decision: 'refuse', participantId: 'bob' });
    assert.deepEqual(await bob.next('sessionEnded'), { reason: 'refused' });
    await eventually('the refused one is disconnected', () => bob.socket.disconnected);
    const again = await connect('bob', 'speaker');
    assert.equal(await again.tryJoin(), 'BANNED');
    const lobby = await chief.next('lobbyChanged', (l) => l.waiting.length === 0);
    assert.deepEqual(lobby.waiting, []);

    const unknown = await chief.requestRefused('decideLobby', { decision: 'admit', participantId: 'nobody' });
    assert.equal(unknown.code, 'NOT_FOUND');
    const notModerator = await ana.requestRefused('setRoomPolicy', { policy: 'open' });
    assert.equal(notModerator.code, 'FORBIDDEN');
  });

  it('locked: a new valid token is refused, a member who dropped out comes back, everyone is told', async () => {
    const ana = clients[1] as SignallingClient;
    await chief.request('setRoomPolicy', { policy: 'locked' });
    assert.deepEqual(await ana.next('roomPolicy'), { policy: 'locked' });
    const newcomer = await connect('carl', 'listener');
    assert.equal(await newcomer.tryJoin(), 'ROOM_LOCKED');
    const moderator = await connect('deputy', 'moderator');
    assert.equal(await moderator.tryJoin(), 'joined', 'moderators still enter');

    ana.close();
    await chief.next('participantLeft', (p) => p.participantId === 'ana');
    const back = await connect('ana', 'speaker');
    assert.equal(await back.tryJoin(), 'joined');
  });

  it('removed: banned until the room ends; opening the room lets the waiting in', async () => {
    const removed = await chief.request('removeParticipant', { participantId: 'ana' });
    assert.deepEqual(removed, {});
    const ana = await connect('ana', 'speaker');
    assert.equal(await ana.tryJoin(), 'BANNED');

    await chief.request('setRoomPolicy', { policy: 'lobby' });
    const dora = await connect('dora', 'listener');
    assert.equal(await dora.tryJoin(), 'IN_LOBBY');
    await chief.request('setRoomPolicy', { policy: 'open' });
    await dora.next('lobbyAdmitted');
    assert.equal(await dora.tryJoin(), 'joined');
  });

  it('operators are told: policy changes, lobby decisions, with the moderator who made them', async () => {
    const events = await eventually('webhooks', () => {
      const got = receiver
        .events(ROOM)
        .map((e) => `${e.type} ${(e.data.participant as { sub?: string })?.sub ?? e.data.policy}`);
      return got.includes('lobby.admitted dora') ? got : undefined;
    });
    for (const expected of [
      'room.started lobby',
      'lobby.admitted ana',
      'lobby.refused bob',
      'policy.changed locked',
      'participant.removed ana',
      'policy.changed open',
      'lobby.admitted dora',
    ]) {
      assert.ok(events.includes(expected), `${expected} in ${events.join(', ')}`);
    }
    const refused = receiver.events(ROOM).find((e) => e.type === 'lobby.refused');
    assert.deepEqual(refused?.data.actor, { kind: 'moderator', sub: 'chief', name: 'Nom chief' });
  });
});
