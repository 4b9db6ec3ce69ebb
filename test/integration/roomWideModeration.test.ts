/**
 * Moderation of everyone at once, with real socket.io clients and the real SFU: mute every
 * microphone but the moderators' (and the floor's), lower every hand, change a role live (what
 * the person may do follows at once, without reconnecting), put someone in the spotlight for
 * every page, end the meeting for everyone with a reason each page can put in words.
 */
import assert from 'node:assert/strict';
import { fakeMicrophone } from '../support/fakeMicrophone.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { SignallingClient } from '../support/signallingClient.js';
import { eventually } from '../support/wait.js';

const ROOM = 'briefing';
const ADMIN_KEY = 'relais-admin-key-for-tests-0123456789abcdef';

describe('moderation for everyone at once (real server, socket.io clients)', function () {
  this.timeout(60_000);
  let t: TestServer;
  const clients: SignallingClient[] = [];
  const mics: Record<string, string> = {};

  async function join(sub: string, role: 'moderator' | 'speaker' | 'listener') {
    const joined = await SignallingClient.join(t.url, t.token({ room: ROOM, role, sub, name: `Nom ${sub}` }));
    clients.push(joined.client);
    return joined;
  }

  let chief: SignallingClient;
  let deputy: SignallingClient;
  let s1: SignallingClient;
  let s2: SignallingClient;
  let listener: SignallingClient;

  before(async () => {
    t = await startTestServer({ RELAIS_ADMIN_KEY: ADMIN_KEY });
    chief = (await join('chief', 'moderator')).client;
    deputy = (await join('deputy', 'moderator')).client;
    s1 = (await join('s1', 'speaker')).client;
    s2 = (await join('s2', 'speaker')).client;
    listener = (await join('pref', 'listener')).client;
    mics.deputy = await fakeMicrophone(deputy);
    mics.s1 = await fakeMicrophone(s1);
    mics.s2 = await fakeMicrophone(s2);
    await chief.request('grantFloor', { participantId: 'pref' });
    await listener.next('permissionsChanged', (p) => p.permissions.publishAudio);
    mics.pref = await fakeMicrophone(listener);
  });

  after(async () => {
    for (const client of clients) client.close();
    await t?.stop();
  });

  it('mutes every microphone but the moderators’ and the floor’s; each muted person is told', async () => {
    await chief.request('muteAll', { keepFloor: true });
    for (const [who, client] of [
      ['s1', s1],
      ['s2', s2],
    ] as const) {
      assert.deepEqual(await client.next('mutedByModerator'), { producerId: mics[who] });
      await chief.next('producerPaused', (p) => p.producerId === mics[who] && p.paused);
    }
    assert.equal(deputy.received('mutedByModerator').length, 0, 'a moderator keeps their microphone');
    assert.equal(listener.received('mutedByModerator').length, 0, 'the floor keeps theirs');
    assert.ok(!chief.received('producerPaused').some((p) => p.producerId === mics.pref));

    await chief.request('muteAll', { keepFloor: false });
    assert.deepEqual(await listener.next('mutedByModerator'), { producerId: mics.pref });
    assert.equal(deputy.received('mutedByModerator').length, 0);
    const refused = await s1.requestRefused('muteAll', { keepFloor: false });
    assert.equal(refused.code, 'FORBIDDEN');
  });

  it('lowers every raised hand', async () => {
    await s1.request('setHand', { raised: true });
    await s2.request('setHand', { raised: true });
    await chief.next('participantUpdated', (p) => p.id === 's2' && p.handRaised);
    await chief.request('lowerAllHands', {});
    for (const id of ['s1', 's2']) {
      await deputy.next(
        'participantUpdated',
        (p) =>
          p.id === id &&
          !p.handRaised &&
          deputy.received('participantUpdated').filter((q) => q.id === id && q.handRaised).length > 0,
      );
    }
    assert.equal((await s1.requestRefused('lowerAllHands', {})).code, 'FORBIDDEN');
  });

  it('changes roles live: what each may do follows without a reconnect, and everyone sees the new role', async () => {
    // Listener → speaker: may send video now, and sees the whole list.
    await chief.request('setRole', { participantId: 'pref', role: 'speaker' });
    const promoted = await listener.next('roleChanged');
    assert.equal(promoted.self.role, 'speaker');
    assert.equal(promoted.permissions.publishVideo, true);
    assert.ok(promoted.participants?.some((p) => p.id === 'chief'));
    await s1.next('participantUpdated', (p) => p.id === 'pref' && p.role === 'speaker');

    // Speaker → listener: their microphone closes at once, for everyone.
    await chief.request('setRole', { participantId: 's1', role: 'listener' });
    const demoted = await s1.next('roleChanged');
    assert.equal(demoted.permissions.publishAudio, false);
    await chief.next('producerClosed', (p) => p.producerId === mics.s1);
    assert.equal((await s1.requestRefused('createTransport', { direction: 'send' })).code, 'FORBIDDEN');

    // Speaker → moderator: sees who may enter, and moderates at once.
    await chief.request('setRole', { participantId: 's2', role: 'moderator' });
    const moderator = await s2.next('roleChanged');
    assert.equal(moderator.permissions.moderate, true);
    assert.equal(moderator.policy, 'open');
    assert.deepEqual(moderator.lobby, []);
    await s2.request('grantFloor', { participantId: 's1' });

    assert.equal((await s1.requestRefused('setRole', { participantId: 'chief', role: 'listener' })).code, 'FORBIDDEN');
    assert.equal(
      (await chief.requestRefused('setRole', { participantId: 'chief', role: 'listener' })).code,
      'FORBIDDEN',
    );
    assert.equal(
      (await chief.requestRefused('setRole', { participantId: 'ghost', role: 'speaker' })).code,
      'NOT_FOUND',
    );
    assert.equal((await chief.refusal('setRole', { participantId: 's1', role: 'admin' })).code, 'INVALID_REQUEST');
  });

  it('the spotlight: every page is told, a newcomer finds it, and only a moderator chooses it', async () => {
    await chief.request('setSpotlight', { participantId: 'deputy' });
    for (const client of [s1, listener, deputy])
      assert.deepEqual(await client.next('spotlight'), { participantId: 'deputy' });
    const late = await join('late', 'listener');
    assert.equal(late.joined.spotlight, 'deputy');
    assert.equal((await s1.requestRefused('setSpotlight', { participantId: 's1' })).code, 'FORBIDDEN');
    assert.equal((await chief.requestRefused('setSpotlight', { participantId: 'ghost' })).code, 'NOT_FOUND');
    await chief.request('setSpotlight', { participantId: null });
    await s1.next('spotlight', (s) => s.participantId === null);
    // Whoever is in the spotlight and leaves gives the stage back to the active speaker.
    await chief.request('setSpotlight', { participantId: 'late' });
    await s1.next('spotlight', (s) => s.participantId === 'late');
    const before = s1.received('spotlight').length;
    late.client.close();
    await eventually('the spotlight cleared', () =>
      s1
        .received('spotlight')
        .slice(before)
        .some((s) => s.participantId === null),
    );
  });

  it('ends the meeting for everyone: each is told why, and the room is gone', async () => {
    chief.request('endForAll', {}).catch(() => undefined);
    for (const client of clients.filter((c) => c.socket.connected)) {
      assert.deepEqual(await client.next('sessionEnded'), { reason: 'ended-for-all' });
    }
    await eventually('the room is gone', async () => {
      const response = await fetch(`${t.url}/admin/rooms`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      return ((await response.json()) as { rooms: unknown[] }).rooms.length === 0;
    });
  });
});
