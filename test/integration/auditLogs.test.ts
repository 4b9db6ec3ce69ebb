/**
 * What a log pipeline receives from a running server while a moderator runs a briefing: every
 * line is JSON with each key once (a repeated `room` or `participant` breaks strict parsers and
 * makes the last one silently win), and the audit events name the room, the actor and the target.
 */
import assert from 'node:assert/strict';
import { repeatedKeys } from '../support/jsonKeys.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { SignallingClient } from '../support/signallingClient.js';
import { eventually } from '../support/wait.js';

describe('logs of a running server: one key once per line, audit events complete', function () {
  this.timeout(30_000);
  let t: TestServer;
  const clients: SignallingClient[] = [];

  before(async () => {
    t = await startTestServer();
  });
  after(async () => {
    for (const client of clients) client.close();
    await t?.stop();
  });

  it('joins, hands, floor, mute, removal, leave and a refused token: no line repeats a key', async () => {
    const join = async (sub: string, role: 'moderator' | 'listener') => {
      const { client } = await SignallingClient.join(t.url, t.token({ room: 'logs', role, sub, name: sub }));
      clients.push(client);
      return client;
    };
    const moderator = await join('commander', 'moderator');
    const listener = await join('prefecture-33', 'listener');
    const other = await join('prefecture-64', 'listener');
    await listener.request('setHand', { raised: true });
    await moderator.request('grantFloor', { participantId: 'prefecture-33' });
    await moderator.request('revokeFloor', { participantId: 'prefecture-33' });
    await moderator.request('muteParticipant', { participantId: 'prefecture-33' });
    await moderator.request('removeParticipant', { participantId: 'prefecture-64' });
    await other.next('sessionEnded');
    await listener.request('leave', {});
    await SignallingClient.connect(t.url, 'not-a-token').then(
      (client) => client.close(),
      () => undefined,
    );

    const events = [
      'participant.joined',
      'floor.granted',
      'floor.revoked',
      'participant.muted',
      'participant.removed',
      'participant.left',
      'auth.failed',
    ];
    await eventually('every audit event to be written', () =>
      events.every((event) => t.logs.some((line) => line.audit === true && line.event === event)),
    );
    assert.ok(t.rawLogs.length >= events.length);
    for (const line of t.rawLogs) assert.deepEqual(repeatedKeys(line), [], `a key written twice in ${line}`);

    const granted = t.logs.find((line) => line.event === 'floor.granted');
    assert.equal(granted?.room, 'logs');
    assert.equal(granted?.participant, 'commander', 'the actor');
    assert.equal(granted?.target, 'prefecture-33', 'the person given the floor');
    const joined = t.logs.filter((line) => line.event === 'participant.joined').map((line) => line.participant);
    assert.deepEqual(joined.sort(), ['commander', 'prefecture-33', 'prefecture-64']);
  });
});
