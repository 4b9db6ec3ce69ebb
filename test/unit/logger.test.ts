import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { audit, createLogger } from '../../server/src/observability/logger.js';
import { repeatedKeys } from '../support/jsonKeys.js';

/** The raw JSON text of each line: JSON.parse keeps one of two equal keys and hides the other. */
function captureRaw() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter((line) => line.trim()),
      );
      callback();
    },
  });
  return { lines, logger: createLogger({ level: 'info', pretty: false, destination }) };
}

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      callback();
    },
  });
  return { lines, logger: createLogger({ level: 'info', pretty: false, destination }) };
}

describe('logs', () => {
  it('never write a token, a secret, a key or an SDP, wherever they appear', () => {
    const { lines, logger } = capture();
    logger.info(
      {
        token: 'eyJ.secret.sig',
        auth: { token: 'eyJ.a.b' },
        secret: 's3cret',
        config: { secret: 'x', key: 'PEM' },
        sdp: 'v=0...',
      },
      'hello',
    );
    const text = JSON.stringify(lines);
    for (const leaked of ['eyJ.secret.sig', 'eyJ.a.b', 's3cret', 'PEM', 'v=0'])
      assert.ok(!text.includes(leaked), `${leaked} leaked: ${text}`);
    assert.equal((lines[0] as { token: string }).token, '[redacted]');
  });

  it('never write a TURN credential, alone or in a join result’s ICE servers', () => {
    const { lines, logger } = capture();
    const iceServers = [{ urls: ['turns:turn.test:443?transport=tcp'], username: '1:u1', credential: 'cHcxcHcx' }];
    logger.info({ credential: 'Y3JlZDE=', turn: { credential: 'Y3JlZDI=' }, iceServers, joined: { iceServers } }, 'x');
    const text = JSON.stringify(lines);
    for (const leaked of ['Y3JlZDE=', 'Y3JlZDI=', 'cHcxcHcx'])
      assert.ok(!text.includes(leaked), `${leaked} leaked: ${text}`);
    assert.ok(text.includes('turns:turn.test:443'), 'the TURN URL itself is not a secret and stays readable');
  });

  it('mark audit events with audit: true and a stable event name, in child logger context', () => {
    const { lines, logger } = capture();
    audit(logger.child({ room: 'cellule', participant: 'u1', role: 'moderator' }), 'participant.removed', {
      target: 'u2',
    });
    assert.deepEqual(
      {
        audit: lines[0]?.audit,
        event: lines[0]?.event,
        room: lines[0]?.room,
        participant: lines[0]?.participant,
        target: lines[0]?.target,
      },
      { audit: true, event: 'participant.removed', room: 'cellule', participant: 'u1', target: 'u2' },
    );
  });

  it('write each key once per line, for an audit event from a child logger', () => {
    const { lines, logger } = captureRaw();
    const participant = logger.child({ room: 'cellule', participant: 'u1', role: 'moderator' });
    audit(participant, 'participant.removed', { room: 'cellule', participant: 'u1', role: 'moderator', target: 'u2' });
    audit(participant.child({ component: 'x' }), 'participant.left', { participant: 'u1', reason: 'left' });
    participant.info({ event: 'join' }, 'plain line');
    assert.equal(lines.length, 3);
    for (const line of lines) assert.deepEqual(repeatedKeys(line), [], line);
    const removed = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    assert.deepEqual(
      [removed.room, removed.participant, removed.role, removed.target, removed.event],
      ['cellule', 'u1', 'moderator', 'u2', 'participant.removed'],
    );
    assert.equal((JSON.parse(lines[1] ?? '{}') as Record<string, unknown>).reason, 'left');
  });

  it('detects a repeated key in raw JSON text (the check above can fail)', () => {
    assert.deepEqual(repeatedKeys('{"room":"a","x":{"room":"b"},"room":"c"}'), ['room']);
    assert.deepEqual(repeatedKeys('{"a":"room:","b":{"a":1}}'), []);
  });
});
