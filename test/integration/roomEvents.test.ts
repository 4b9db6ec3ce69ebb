/**
 * What a real meeting tells operators: signed webhooks for each join, floor, removal and leave,
 * the room's start and end, delivered to a healthy receiver and — retried — to a failing one
 * while the meeting goes on untouched; and the attendance register, exported through the admin
 * API and by a moderator, matches what happened.
 */
import assert from 'node:assert/strict';
import type { AttendanceJson } from '../../server/src/domain/AttendanceRegister.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { SignallingClient } from '../support/signallingClient.js';
import { eventually } from '../support/wait.js';
import { type ReceivedWebhook, WebhookReceiverStub } from '../support/webhookReceiver.js';

const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
const ADMIN_KEY = 'relais-admin-key-for-tests-0123456789abcdef';
const ROOM = 'crisis-cell';

async function admin(t: TestServer, path: string): Promise<{ status: number; type: string; text: string }> {
  const response = await fetch(`${t.url}/admin${path}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  return { status: response.status, type: response.headers.get('content-type') ?? '', text: await response.text() };
}

function summary(webhook: ReceivedWebhook): string {
  const who = (webhook.data.participant as { sub?: string } | undefined)?.sub;
  return who ? `${webhook.type} ${who}` : webhook.type;
}

describe('room events: webhooks and the attendance register of a real meeting', function () {
  this.timeout(60_000);
  let t: TestServer;
  let healthy: WebhookReceiverStub;
  let flaky: WebhookReceiverStub;
  const clients: SignallingClient[] = [];
  /** When each join was answered and each leave was asked for, as the test saw it. */
  const seen: Record<string, { joined: number; left?: number }> = {};

  async function join(
    sub: string,
    name: string,
    role: 'moderator' | 'speaker' | 'listener',
  ): Promise<SignallingClient> {
    const { client } = await SignallingClient.join(t.url, t.token({ room: ROOM, role, sub, name }));
    seen[sub] = { joined: Date.now() };
    clients.push(client);
    return client;
  }

  before(async () => {
    healthy = await WebhookReceiverStub.start(SECRET);
    // Down for each event's first attempt: every event must still arrive, later.
    const attempts = new Map<string, number>();
    flaky = await WebhookReceiverStub.start(SECRET, (webhook) => {
      const count = (attempts.get(webhook.id) ?? 0) + 1;
      attempts.set(webhook.id, count);
      return count === 1 ? 503 : 200;
    });
    t = await startTestServer({
      RELAIS_WEBHOOK_URLS: `${healthy.url},${flaky.url}`,
      RELAIS_WEBHOOK_SECRET: SECRET,
      RELAIS_ADMIN_KEY: ADMIN_KEY,
    });
  });

  after(async () => {
    for (const client of clients) client.close();
    await t?.stop();
    await healthy?.close();
    await flaky?.close();
  });

  it('tells each receiver, signed, what happened in the meeting, in order; the failing one gets it on retry', async () => {
    const commander = await join('commander', 'Commandant Duval', 'moderator');
    const officer = await join('officer-1', 'Officier Lemaire', 'speaker');
    const prefecture = await join('pref-13', 'Préfecture 13', 'listener');

    await commander.request('grantFloor', { participantId: 'pref-13' });
    await commander.request('revokeFloor', { participantId: 'pref-13' });
    // The meeting goes on while one receiver fails: requests are answered, chat flows.
    await officer.request('chat', { text: 'Point de situation à 8 h.' });
    await prefecture.next('chatMessage', (m) => m.text === 'Point de situation à 8 h.');

    seen['officer-1'] = { ...seen['officer-1'], left: Date.now() } as { joined: number; left: number };
    await commander.request('removeParticipant', { participantId: 'officer-1' });
    await officer.next('sessionEnded');

    const expected = [
      'room.started',
      'participant.joined commander',
      'participant.joined officer-1',
      'participant.joined pref-13',
      'floor.given pref-13',
      'floor.taken pref-13',
      'participant.removed officer-1',
    ];
    const events = await eventually(
      'the healthy receiver gets the events',
      () => {
        const got = healthy.events(ROOM);
        return got.length >= expected.length ? got : undefined;
      },
      20_000,
    );
    assert.deepEqual(events.map(summary), expected);
    assert.equal(healthy.unverified, 0, 'every request carries a valid signature');

    const removal = events.find((e) => e.type === 'participant.removed');
    assert.deepEqual(removal?.data.actor, { kind: 'moderator', sub: 'commander', name: 'Commandant Duval' });
    assert.equal(removal?.data.reason, 'removed');
    const given = events.find((e) => e.type === 'floor.given');
    assert.deepEqual(given?.data.participant, { sub: 'pref-13', name: 'Préfecture 13', role: 'listener' });
    // Nothing of a token or an SDP in any payload.
    for (const webhook of healthy.requests) {
      const text = JSON.stringify(webhook.data);
      assert.doesNotMatch(text, /eyJ|token|sdp|a=fingerprint/i, text);
    }

    // The failing receiver had each event refused once and got it again, with the same id.
    const retried = await eventually(
      'the failing receiver gets every event again',
      () => {
        const ids = events.map((e) => e.id);
        const twice = ids.every((id) => flaky.requests.filter((r) => r.id === id).length >= 2);
        return twice ? flaky.events(ROOM) : undefined;
      },
      40_000,
    );
    assert.deepEqual(retried.map(summary), expected, 'in the same order');
    assert.equal(flaky.unverified, 0);
  });

  it('exports the register through the admin API: who came, when, in which role, who removed whom', async () => {
    const answer = await admin(t, `/rooms/${ROOM}/attendance`);
    assert.equal(answer.status, 200, answer.text);
    const register = JSON.parse(answer.text) as AttendanceJson;
    assert.equal(register.room, ROOM);
    assert.equal(register.complete, true);
    assert.deepEqual(register.people.map((p) => [p.sub, p.name, p.role]).sort(), [
      ['commander', 'Commandant Duval', 'moderator'],
      ['officer-1', 'Officier Lemaire', 'speaker'],
      ['pref-13', 'Préfecture 13', 'listener'],
    ]);
    for (const person of register.people) {
      const presence = person.presences[0];
      assert.ok(presence, `${person.sub} has a presence`);
      const expectedJoin = seen[person.sub]?.joined ?? 0;
      assert.ok(Math.abs(Date.parse(presence.joinedAt) - expectedJoin) < 1000, `${person.sub} joined ~ when seen`);
    }
    const officer = register.people.find((p) => p.sub === 'officer-1');
    assert.equal(officer?.presences[0]?.leaveReason, 'removed');
    assert.ok(Math.abs(Date.parse(officer?.presences[0]?.leftAt ?? '') - (seen['officer-1']?.left ?? 0)) < 1000);
    assert.deepEqual(officer?.presences[0]?.removedBy, {
      kind: 'moderator',
      sub: 'commander',
      name: 'Commandant Duval',
    });
    const floor = register.people.find((p) => p.sub === 'pref-13')?.floor ?? [];
    assert.equal(floor.length, 1);
    assert.notEqual(floor[0]?.takenAt, null);

    const csv = await admin(t, `/rooms/${ROOM}/attendance?format=csv`);
    assert.equal(csv.status, 200);
    assert.match(csv.type, /^text\/csv/);
    assert.match(csv.text, /Officier Lemaire/);
    assert.match(csv.text, /Préfecture 13/);

    const bad = await admin(t, `/rooms/${ROOM}/attendance?format=xml`);
    assert.equal(bad.status, 400);
    assert.equal(JSON.parse(bad.text).code, 'INVALID_REQUEST');
    const none = await admin(t, '/rooms/no-such-room/attendance');
    assert.equal(none.status, 404);
  });

  it('a moderator downloads it from the room; nobody else may', async () => {
    const [commander, , prefecture] = clients as [SignallingClient, SignallingClient, SignallingClient];
    const json = await commander.request('exportAttendance', { format: 'json' });
    assert.equal(json.format, 'json');
    const register = JSON.parse(json.content) as AttendanceJson;
    assert.equal(register.people.length, 3);
    const csv = await commander.request('exportAttendance', { format: 'csv' });
    assert.match(csv.content, /Commandant Duval/);
    const refused = await prefecture.requestRefused('exportAttendance', { format: 'csv' });
    assert.equal(refused.code, 'FORBIDDEN');
    const invalid = await prefecture.refusal('exportAttendance', { format: 'pdf' });
    assert.equal(invalid.code, 'INVALID_REQUEST');
  });

  it('the last one out finishes the room: told once, and its register is gone', async () => {
    const [commander, , prefecture] = clients as [SignallingClient, SignallingClient, SignallingClient];
    prefecture.close();
    await commander.request('leave', {});
    const tail = await eventually(
      'room.finished at the healthy receiver',
      () => {
        const got = healthy.events(ROOM).map(summary);
        return got.includes('room.finished') ? got.slice(-3) : undefined;
      },
      20_000,
    );
    assert.deepEqual(tail.slice(-1), ['room.finished']);
    assert.ok(tail.includes('participant.left pref-13'));
    assert.ok(tail.includes('participant.left commander'));
    const finished = healthy.events(ROOM).filter((e) => e.type === 'room.finished');
    assert.equal(finished.length, 1);
    assert.equal(finished[0]?.data.reason, 'empty');
    const gone = await admin(t, `/rooms/${ROOM}/attendance`);
    assert.equal(gone.status, 404);
  });
});
