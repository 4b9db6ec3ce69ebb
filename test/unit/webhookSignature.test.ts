import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { RelaisError } from '../../server/src/domain/errors.js';
import { ROOM_EVENT_TYPES, type RoomEvent } from '../../server/src/domain/roomEvents.js';
import { retryDelay, DEFAULT_RETRY_POLICY } from '../../server/src/webhooks/retryPolicy.js';
import { verifyWebhook, WebhookVerificationError } from '../../server/src/webhooks/verifyWebhook.js';
import { webhookPayload } from '../../server/src/webhooks/webhookPayload.js';
import { webhookKey } from '../../server/src/webhooks/webhookSecret.js';
import { webhookSignature } from '../../server/src/webhooks/webhookSignature.js';

// The example of the Standard Webhooks specification (its reference libraries' test vector).
const SPEC_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const SPEC_ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const SPEC_TIMESTAMP = 1614265330;
const SPEC_BODY = '{"test": 2432232314}';
const SPEC_SIGNATURE = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';

const RAW_SECRET = 'r'.repeat(40);

function signed(secret: string, body: string, timestamp: number, id = 'msg_1') {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': webhookSignature(webhookKey(secret), id, timestamp, body),
  };
}

function refusedWith(reason: string) {
  return (error: unknown) => error instanceof WebhookVerificationError && error.reason === reason;
}

describe('webhook signatures', () => {
  it('signs as the Standard Webhooks specification does (its test vector)', () => {
    assert.equal(webhookSignature(webhookKey(SPEC_SECRET), SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY), SPEC_SIGNATURE);
  });

  it('uses a raw secret’s UTF-8 bytes as the key', () => {
    const expected = createHmac('sha256', RAW_SECRET).update('msg_1.100.{}').digest('base64');
    assert.equal(webhookSignature(webhookKey(RAW_SECRET), 'msg_1', 100, '{}'), `v1,${expected}`);
  });

  it('verifies a good request with node:http or fetch headers, and returns the parsed body', () => {
    const now = 1_800_000_000;
    const body = '{"type":"room.started","timestamp":"2027-01-15T08:00:00.000Z","data":{"room":"a"}}';
    const headers = signed(RAW_SECRET, body, now);
    const verified = verifyWebhook({ secret: RAW_SECRET, headers, body, nowSeconds: now + 10 });
    assert.deepEqual(verified, { id: 'msg_1', timestamp: now, payload: JSON.parse(body) });
    assert.equal(
      verifyWebhook({ secret: RAW_SECRET, headers: new Headers(headers), body: Buffer.from(body), nowSeconds: now }).id,
      'msg_1',
    );
    // During a key rotation relais may send several signatures: one match is enough.
    const rotated = { ...headers, 'webhook-signature': `v1,AAAA ${headers['webhook-signature']}` };
    assert.equal(verifyWebhook({ secret: RAW_SECRET, headers: rotated, body, nowSeconds: now }).id, 'msg_1');
  });

  it('refuses a changed body, id, timestamp or key, and a missing header', () => {
    const now = 1_800_000_000;
    const body = '{"a":1}';
    const headers = signed(RAW_SECRET, body, now);
    const check = (input: Partial<Parameters<typeof verifyWebhook>[0]>, reason: string) =>
      assert.throws(
        () => verifyWebhook({ secret: RAW_SECRET, headers, body, nowSeconds: now, ...input }),
        refusedWith(reason),
      );
    check({ body: '{"a":2}' }, 'bad-signature');
    check({ headers: { ...headers, 'webhook-id': 'msg_2' } }, 'bad-signature');
    check({ headers: { ...headers, 'webhook-timestamp': String(now + 1) } }, 'bad-signature');
    check({ secret: 'x'.repeat(40) }, 'bad-signature');
    check({ headers: { ...headers, 'webhook-signature': 'v2,abc' } }, 'bad-signature');
    check({ headers: { ...headers, 'webhook-signature': undefined } }, 'missing-header');
    check({ headers: { ...headers, 'webhook-id': ['a', 'b'] } }, 'missing-header');
    check({ headers: { ...headers, 'webhook-timestamp': '12.5' } }, 'bad-timestamp');
  });

  it('refuses a timestamp more than 5 minutes away', () => {
    const now = 1_800_000_000;
    const body = '{}';
    assert.throws(
      () => verifyWebhook({ secret: RAW_SECRET, headers: signed(RAW_SECRET, body, now - 301), body, nowSeconds: now }),
      refusedWith('timestamp-too-old'),
    );
    assert.throws(
      () => verifyWebhook({ secret: RAW_SECRET, headers: signed(RAW_SECRET, body, now + 301), body, nowSeconds: now }),
      refusedWith('timestamp-too-new'),
    );
    assert.ok(
      verifyWebhook({ secret: RAW_SECRET, headers: signed(RAW_SECRET, body, now - 299), body, nowSeconds: now }),
    );
  });

  it('builds the payload from the listed fields only', () => {
    const event = {
      type: 'participant.joined',
      room: 'crisis-59',
      at: Date.parse('2027-01-15T08:00:00.000Z'),
      participant: { sub: 'alice', name: 'Alice', role: 'speaker', token: 'eyJ.secret', ip: '192.0.2.1' },
      sdp: 'v=0',
      text: 'a chat message',
    };
    assert.deepEqual(webhookPayload(event as unknown as RoomEvent), {
      type: 'participant.joined',
      timestamp: '2027-01-15T08:00:00.000Z',
      data: { room: 'crisis-59', participant: { sub: 'alice', name: 'Alice', role: 'speaker' } },
    });
    assert.throws(
      () => webhookPayload({ ...event, type: 'chat.message' } as unknown as RoomEvent),
      (error: unknown) => error instanceof RelaisError && error.code === 'INVALID_REQUEST',
    );
  });

  it('knows the eleven event types operators are told about', () => {
    assert.deepEqual(ROOM_EVENT_TYPES, [
      'room.started',
      'room.finished',
      'participant.joined',
      'participant.left',
      'participant.removed',
      'floor.given',
      'floor.taken',
      'policy.changed',
      'lobby.admitted',
      'lobby.refused',
      'role.changed',
    ]);
  });

  it('waits exponentially longer between retries, capped, with jitter within half of it', () => {
    const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 1000, maxDelayMs: 8000 };
    assert.equal(
      retryDelay(policy, 1, () => 0),
      500,
    );
    assert.equal(
      retryDelay(policy, 1, () => 1),
      1000,
    );
    assert.equal(
      retryDelay(policy, 3, () => 1),
      4000,
    );
    assert.equal(
      retryDelay(policy, 10, () => 1),
      8000,
    );
    assert.equal(
      retryDelay(policy, 10, () => 0),
      4000,
    );
  });
});
