import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { turnCredentials, turnPassword } from '../../server/src/turn/turnCredentials.js';

const SECRET = 'a-coturn-static-auth-secret-for-tests-0123';
const NOW_MS = Date.UTC(2026, 10, 29, 12, 0, 0);
const NOW = NOW_MS / 1000;

describe('TURN credentials (coturn shared-secret scheme)', () => {
  it('match a password computed independently from a fixed secret and username (known answer)', () => {
    const username = '1764417600:prefecture-59';
    const expected = createHmac('sha1', SECRET).update(username).digest('base64');
    assert.equal(turnPassword(SECRET, username), expected);
    // Computed with `openssl dgst -sha1 -hmac secret -binary | base64`: a change of hash, encoding or argument order shows up even if both sides drift together.
    assert.equal(turnPassword('secret', '1700000000:alice'), 'd8soP47RbdIKLDUOpnJPVQyq5Ts=');
  });

  it('name the expiry and the participant in the username, and sign it', () => {
    const server = turnCredentials({
      secret: SECRET,
      urls: ['turns:turn.example.gouv.fr:443?transport=tcp', 'turn:turn.example.gouv.fr:3478?transport=udp'],
      participantId: 'prefecture-59',
      tokenExpiresAt: NOW + 8 * 3600,
      maxLifetimeSeconds: 3600,
      now: NOW_MS,
    });
    assert.equal(server.username, `${NOW + 3600}:prefecture-59`);
    assert.equal(server.credential, createHmac('sha1', SECRET).update(server.username).digest('base64'));
    assert.deepEqual(server.urls, [
      'turns:turn.example.gouv.fr:443?transport=tcp',
      'turn:turn.example.gouv.fr:3478?transport=udp',
    ]);
  });

  it('never outlive the participant’s token', () => {
    const server = turnCredentials({
      secret: SECRET,
      urls: ['turn:127.0.0.1:3478'],
      participantId: 'u1',
      tokenExpiresAt: NOW + 600,
      maxLifetimeSeconds: 12 * 3600,
      now: NOW_MS,
    });
    assert.equal(server.username, `${NOW + 600}:u1`);
  });

  it('keep a participant id that itself holds a colon after the expiry (coturn reads up to the first)', () => {
    const server = turnCredentials({
      secret: SECRET,
      urls: ['turn:127.0.0.1:3478'],
      participantId: 'urn:gouv:59',
      tokenExpiresAt: NOW + 600,
      maxLifetimeSeconds: 3600,
      now: NOW_MS,
    });
    assert.equal(server.username.split(':')[0], String(NOW + 600));
    assert.ok(server.username.endsWith(':urn:gouv:59'));
  });
});
