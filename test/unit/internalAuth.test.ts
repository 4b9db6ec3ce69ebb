import assert from 'node:assert/strict';
import {
  INTERNAL_REQUEST_WINDOW_MS,
  internalKey,
  signRequest,
  verifyRequest,
} from '../../server/src/http/internalAuth.js';

const KEY = internalKey('cluster-secret-for-unit-tests-0123456789');
const NOW = 1_800_000_000_000;
const BODY = '{"roomId":"r","nodeId":"n"}';

function signed(overrides: Partial<Parameters<typeof verifyRequest>[1]> = {}, key = KEY) {
  const timestamp = String(NOW);
  return {
    timestamp,
    signature: signRequest(key, timestamp, 'POST', '/internal/unwatch', BODY),
    method: 'POST',
    path: '/internal/unwatch',
    body: BODY,
    ...overrides,
  };
}

describe('internal API request signatures', () => {
  it('accepts a request signed with the cluster key within the window', () => {
    assert.equal(verifyRequest(KEY, signed(), NOW), true);
    assert.equal(verifyRequest(KEY, signed(), NOW + INTERNAL_REQUEST_WINDOW_MS), true);
  });

  it('derives a key of its own from the secret, the same on every node', () => {
    assert.deepEqual(internalKey('cluster-secret-for-unit-tests-0123456789'), KEY);
    assert.notDeepEqual(KEY, Buffer.from('cluster-secret-for-unit-tests-0123456789'));
  });

  it('refuses another key, a changed body, path or method, and a missing or malformed signature', () => {
    assert.equal(verifyRequest(KEY, signed({}, internalKey('another-cluster-secret-0123456789abcdef')), NOW), false);
    assert.equal(verifyRequest(KEY, signed({ body: BODY.replace('"n"', '"m"') }), NOW), false);
    assert.equal(verifyRequest(KEY, signed({ path: '/internal/pipes' }), NOW), false);
    assert.equal(verifyRequest(KEY, signed({ method: 'PUT' }), NOW), false);
    assert.equal(verifyRequest(KEY, signed({ signature: undefined }), NOW), false);
    assert.equal(verifyRequest(KEY, signed({ timestamp: undefined }), NOW), false);
    assert.equal(verifyRequest(KEY, signed({ signature: 'abc' }), NOW), false);
    assert.equal(verifyRequest(KEY, signed({ signature: 'z'.repeat(64) }), NOW), false);
    assert.equal(verifyRequest(KEY, signed({ timestamp: 'yesterday' }), NOW), false);
  });

  it('refuses a request signed too long ago or too far ahead (a replay or a wrong clock)', () => {
    assert.equal(verifyRequest(KEY, signed(), NOW + INTERNAL_REQUEST_WINDOW_MS + 1), false);
    assert.equal(verifyRequest(KEY, signed(), NOW - INTERNAL_REQUEST_WINDOW_MS - 1), false);
  });
});
