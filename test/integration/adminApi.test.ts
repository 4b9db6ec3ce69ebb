/**
 * The operators' admin API against the real server: a revoked token or person is thrown out of
 * the meeting at once and refused afterwards; bad keys and bad requests get typed errors and
 * change nothing; without a configured key the API does not exist.
 */
import assert from 'node:assert/strict';
import jwt from 'jsonwebtoken';
import { startTestServer, type TestServer } from '../support/server.js';
import { type RequestFailed, SignallingClient } from '../support/signallingClient.js';
import { eventually } from '../support/wait.js';

const ADMIN_KEY = 'relais-admin-key-for-tests-0123456789abcdef';

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** `key: ''` sends no Authorization header at all. */
async function admin(t: TestServer, method: string, path: string, body?: string, key = ADMIN_KEY): Promise<Answer> {
  const response = await fetch(`${t.url}/admin${path}`, {
    method,
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body } : {}),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('admin API: revoking access (real server, real worker, socket.io clients)', function () {
  this.timeout(30_000);
  let t: TestServer;
  const clients: SignallingClient[] = [];

  async function joinWith(token: string): Promise<SignallingClient> {
    const { client } = await SignallingClient.join(t.url, token);
    clients.push(client);
    return client;
  }

  before(async () => {
    t = await startTestServer({ RELAIS_ADMIN_KEY: ADMIN_KEY });
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });
  after(async () => {
    await t?.stop();
  });

  it('refuses a missing or wrong key with 401, an audit line, and never logs the key', async () => {
    for (const key of ['', 'not-the-admin-key-0123456789-0123456789']) {
      const answer = await admin(t, 'GET', '/rooms', undefined, key);
      assert.equal(answer.status, 401);
      assert.equal(answer.body.code, 'UNAUTHORIZED');
    }
    const refused = await admin(
      t,
      'POST',
      '/revocations',
      JSON.stringify({ sub: 'anyone' }),
      'wrong-key-0123456789-0123456789-0123',
    );
    assert.equal(refused.status, 401);
    assert.deepEqual(
      (await admin(t, 'GET', '/revocations')).body,
      { revocations: [] },
      'a refused request revoked nothing',
    );
    assert.ok(t.logs.filter((l) => l.audit === true && l.event === 'admin.refused').length >= 3);
    assert.ok(!JSON.stringify(t.logs).includes('wrong-key-0123456789'), 'no key in the logs');
  });

  it('answers bad requests with INVALID_REQUEST and revokes nothing', async () => {
    const bad = [
      '{}',
      JSON.stringify({ jti: '' }),
      JSON.stringify({ jti: 'a', sub: 'b' }),
      JSON.stringify({ sub: 'b', role: 'moderator' }),
      JSON.stringify({ sub: 42 }),
      '["sub"]',
      '{"sub": ',
      JSON.stringify({ sub: 'x'.repeat(5000) }),
    ];
    for (const body of bad) {
      const answer = await admin(t, 'POST', '/revocations', body);
      assert.equal(answer.status, 400, body.slice(0, 40));
      assert.equal(answer.body.code, 'INVALID_REQUEST');
      assert.equal(typeof answer.body.message, 'string');
    }
    const unknown = await admin(t, 'DELETE', '/everything');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.code, 'NOT_FOUND');
    assert.deepEqual((await admin(t, 'GET', '/revocations')).body, { revocations: [] });
  });

  it('revoking a token ends its live session at once, refuses it afterwards, and leaves the others be', async () => {
    const aliceToken = t.token({ room: 'cell', role: 'speaker', sub: 'alice', name: 'Alice' });
    const alice = await joinWith(aliceToken);
    const moderator = await joinWith(t.token({ room: 'cell', role: 'moderator', sub: 'mod', name: 'Modératrice' }));

    const rooms = await admin(t, 'GET', '/rooms');
    assert.deepEqual(rooms.body, {
      rooms: [
        {
          id: 'cell',
          participants: 2,
          byRole: { moderator: 1, speaker: 1, listener: 0 },
          byNode: { [t.server.nodeId]: 2 },
          producers: 0,
        },
      ],
    });

    const { jti } = jwt.decode(aliceToken) as { jti: string };
    const answer = await admin(t, 'POST', '/revocations', JSON.stringify({ jti, reason: 'token leaked in a chat' }));
    assert.equal(answer.status, 201);
    assert.equal(answer.body.sessionsEnded, 1);
    assert.deepEqual(await alice.next('sessionEnded'), { reason: 'revoked' });
    await eventually('alice disconnected by the server', () => !alice.socket.connected);
    await moderator.next('participantLeft', (p) => p.participantId === 'alice');

    await assert.rejects(
      SignallingClient.connect(t.url, aliceToken),
      (e: RequestFailed) => e.error.code === 'UNAUTHORIZED' && /revoked/.test(e.error.message),
    );
    // The moderator's session carries on.
    assert.ok((await moderator.request('getRouterRtpCapabilities', {})).rtpCapabilities);
    assert.equal(t.server.signalling.room('cell')?.members.size, 1);
    const audit = t.logs.find((l) => l.audit === true && l.event === 'token.revoked' && l.jti === jti);
    assert.equal(audit?.sessionsEnded, 1);
    const listed = (await admin(t, 'GET', '/revocations')).body.revocations as Record<string, unknown>[];
    assert.ok(listed.some((r) => r.jti === jti && r.reason === 'token leaked in a chat'));
  });

  it('revoking a person ends all their sessions, joined or not, and a token issued afterwards works', async () => {
    const inCell = await joinWith(t.token({ room: 'cell-2', role: 'speaker', sub: 'laptop-3' }));
    const inBriefing = await joinWith(t.token({ room: 'briefing', role: 'listener', sub: 'laptop-3' }));
    const connectedOnly = await SignallingClient.connect(
      t.url,
      t.token({ room: 'cell-3', role: 'speaker', sub: 'laptop-3' }),
    );
    clients.push(connectedOnly);
    const bystander = await joinWith(t.token({ room: 'cell-2', role: 'speaker', sub: 'bystander' }));

    const answer = await admin(
      t,
      'POST',
      '/revocations',
      JSON.stringify({ sub: 'laptop-3', reason: 'laptop reported stolen' }),
    );
    assert.equal(answer.status, 201);
    assert.equal(answer.body.sessionsEnded, 3);
    for (const client of [inCell, inBriefing, connectedOnly])
      assert.deepEqual(await client.next('sessionEnded'), { reason: 'revoked' });
    await eventually('the emptied briefing room freed', () => t.server.signalling.room('briefing') === undefined);
    assert.ok(bystander.socket.connected);

    // iat has one-second granularity: a token minted in the revocation's second is refused too.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const fresh = await joinWith(t.token({ room: 'cell-2', role: 'speaker', sub: 'laptop-3' }));
    assert.ok(fresh.socket.connected, 'a token issued after the revocation is accepted');
  });

  it('closing a room ends the meeting for everyone in it and nobody else; bad or empty rooms change nothing', async () => {
    const inRoom: SignallingClient[] = [];
    for (const role of ['moderator', 'speaker', 'listener'] as const)
      inRoom.push(await joinWith(t.token({ room: 'compromise', role, sub: role })));
    const elsewhere = await joinWith(t.token({ room: 'other-cell', role: 'speaker', sub: 'speaker' }));

    assert.equal((await admin(t, 'DELETE', '/rooms/a%20room')).status, 400);
    const empty = await admin(t, 'DELETE', '/rooms/nobody-here');
    assert.equal(empty.status, 404);
    assert.equal(empty.body.code, 'NOT_FOUND');
    assert.equal(t.server.signalling.room('compromise')?.members.size, 3, 'refused calls closed nothing');

    const answer = await admin(t, 'DELETE', '/rooms/compromise');
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, { room: 'compromise', sessionsEnded: 3 });
    for (const client of inRoom) assert.deepEqual(await client.next('sessionEnded'), { reason: 'room-closed' });
    await eventually('the room freed', () => t.server.signalling.room('compromise') === undefined);
    assert.ok(elsewhere.socket.connected);
    assert.equal(t.server.signalling.room('other-cell')?.members.size, 1);
    assert.ok(
      t.logs.some(
        (l) => l.audit === true && l.event === 'room.closed' && l.room === 'compromise' && l.sessionsEnded === 3,
      ),
    );
  });

  it('lists this server alone as the cluster when there is no Redis, with its load', async () => {
    await joinWith(t.token({ room: 'cell', role: 'speaker', sub: 'present' }));
    const answer = await admin(t, 'GET', '/nodes');
    assert.equal(answer.status, 200);
    const nodes = answer.body.nodes as {
      id: string;
      publicUrl: string;
      state: string;
      load: Record<string, unknown>;
    }[];
    assert.equal(nodes.length, 1);
    assert.equal(nodes[0]?.id, t.server.nodeId);
    assert.equal(nodes[0]?.publicUrl, t.url);
    assert.equal(nodes[0]?.state, 'serving');
    assert.deepEqual(nodes[0]?.load, { workers: 1, perWorker: [0], rooms: 1, participants: 1 });
    const ready = (await (await fetch(`${t.url}/readyz`)).json()) as Record<string, unknown>;
    assert.equal(ready.redis, undefined, 'no Redis, nothing said about it');
    assert.doesNotMatch(await (await fetch(`${t.url}/metrics`)).text(), /relais_redis_connected/);
  });
});

describe('admin API without RELAIS_ADMIN_KEY', function () {
  this.timeout(30_000);
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(async () => {
    await t?.stop();
  });

  it('does not exist: every /admin path answers 404, whatever key is sent', async () => {
    for (const [method, path] of [
      ['GET', '/rooms'],
      ['POST', '/revocations'],
      ['GET', '/revocations'],
    ] as const) {
      const answer = await admin(
        t,
        method,
        path,
        method === 'POST' ? JSON.stringify({ sub: 'x' }) : undefined,
        'any-key',
      );
      assert.equal(answer.status, 404);
      assert.equal(answer.body.code, 'NOT_FOUND');
      assert.match(String(answer.body.message), /RELAIS_ADMIN_KEY/);
    }
  });
});
