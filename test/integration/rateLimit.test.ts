/**
 * A connection that keeps sending after being told to slow down is ended, not served forever:
 * a real socket.io client floods a real server, which ends that session and goes on serving
 * everyone else.
 */
import assert from 'node:assert/strict';
import type { Ack, RequestName } from '../../server/src/signalling/catalog.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { SignallingClient } from '../support/signallingClient.js';
import { eventually } from '../support/wait.js';

describe('rate limiting (real server, socket.io clients)', function () {
  this.timeout(60_000);
  let t: TestServer;
  const clients: SignallingClient[] = [];

  async function joinAs(sub: string, role: 'moderator' | 'speaker'): Promise<SignallingClient> {
    const { client } = await SignallingClient.join(t.url, t.token({ room: 'flood', role, sub, name: sub }));
    clients.push(client);
    return client;
  }

  before(async () => {
    t = await startTestServer();
  });
  after(async () => {
    for (const client of clients) client.close();
    await t?.stop();
  });

  it('ends a connection that keeps sending after RATE_LIMITED refusals, and keeps serving the others', async () => {
    const bystander = await joinAs('bystander', 'moderator');
    const flooder = await joinAs('flooder', 'speaker');
    const disconnected = new Promise<void>((resolve) => flooder.socket.once('disconnect', () => resolve()));
    const answers: Ack<RequestName>[] = [];
    // Far more than the request burst (200) plus the refusals tolerated (about 50), sent at once.
    for (let i = 0; i < 600 && flooder.socket.connected; i++) {
      flooder.socket.emit('setHand', { raised: i % 2 === 0 }, (answer: Ack<RequestName>) => answers.push(answer));
    }

    assert.deepEqual(await flooder.next('sessionEnded'), { reason: 'rate-limited' });
    await disconnected;
    const refused = answers.filter((answer) => !answer.ok && answer.error.code === 'RATE_LIMITED');
    assert.ok(refused.length > 0, 'refused with RATE_LIMITED before being ended');
    assert.ok(answers.length < 600, 'not every flooded request was served');
    await eventually('the flooder to leave the room', () =>
      bystander.notifications.some(
        (n) => n.name === 'participantLeft' && (n.payload as { participantId: string }).participantId === 'flooder',
      ),
    );
    assert.ok(
      t.logs.some(
        (line) => line.audit === true && line.event === 'session.rate-limited' && line.participant === 'flooder',
      ),
      'audit event',
    );

    // The server goes on serving: the bystander and a newcomer are answered.
    await bystander.request('setHand', { raised: true });
    const newcomer = await joinAs('newcomer', 'speaker');
    await newcomer.request('chat', { text: 'still here?' });
    const message = await bystander.next('chatMessage', (m) => m.from === 'newcomer');
    assert.equal(message.text, 'still here?');
  });
});
