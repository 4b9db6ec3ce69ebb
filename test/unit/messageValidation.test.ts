import assert from 'node:assert/strict';
import { RelaisError } from '../../server/src/domain/errors.js';
import { requestSchemas } from '../../server/src/signalling/catalog.js';
import { TokenBucket } from '../../server/src/signalling/TokenBucket.js';
import { isRequestName, validateRequest } from '../../server/src/signalling/validateRequest.js';

function invalid(name: Parameters<typeof validateRequest>[0], payload: unknown, pattern?: RegExp): void {
  assert.throws(
    () => validateRequest(name, payload),
    (e: unknown) => e instanceof RelaisError && e.code === 'INVALID_REQUEST' && (!pattern || pattern.test(e.message)),
  );
}

describe('message validation at the boundary', () => {
  it('knows exactly the catalog’s requests', () => {
    assert.equal(isRequestName('produce'), true);
    assert.equal(isRequestName('constructor'), false);
    assert.equal(isRequestName('__proto__'), false);
    assert.equal(isRequestName('dropDatabase'), false);
    assert.ok(Object.keys(requestSchemas).length >= 19);
  });

  it('accepts well-formed payloads', () => {
    assert.deepEqual(validateRequest('createTransport', { direction: 'recv' }), { direction: 'recv' });
    assert.deepEqual(validateRequest('setHand', { raised: true }), { raised: true });
    assert.deepEqual(validateRequest('leave', undefined), {});
    const produce = validateRequest('produce', {
      transportId: 't',
      kind: 'audio',
      rtpParameters: { codecs: [] },
      source: 'mic',
    });
    assert.equal(produce.source, 'mic');
  });

  it('refuses wrong types, unknown fields, bad enums and oversized strings with a message naming the field', () => {
    invalid('createTransport', { direction: 'sideways' }, /direction/);
    invalid('createTransport', { direction: 'send', extra: 1 }, /extra|Unrecognized/i);
    invalid('produce', { transportId: 't', kind: 'audio', rtpParameters: 'nope', source: 'mic' }, /rtpParameters/);
    invalid('produce', { transportId: 't', kind: 'smell', rtpParameters: {}, source: 'mic' }, /kind/);
    invalid('consume', { producerId: '' }, /producerId/);
    invalid('consume', { producerId: 'x'.repeat(101) }, /producerId/);
    invalid('chat', { text: 'x'.repeat(5000) }, /text/);
    invalid('setHand', { raised: 'yes' }, /raised/);
    invalid('setConsumerLayers', { consumerId: 'c', spatialLayer: 7 }, /spatialLayer/);
    invalid('join', null, /rtpCapabilities/);
    invalid('join', [1, 2], /payload|expected object/);
    invalid('join', { rtpCapabilities: { codecs: 'opus' } }, /rtpCapabilities\.codecs/);
    invalid('join', { rtpCapabilities: {} }, /rtpCapabilities\.codecs/);
  });
});

describe('rate limiting', () => {
  it('allows a burst, then refuses until tokens refill', () => {
    const bucket = new TokenBucket(3, 1, 0);
    assert.deepEqual([bucket.take(0), bucket.take(0), bucket.take(0), bucket.take(0)], [true, true, true, false]);
    assert.equal(bucket.take(500), false);
    assert.equal(bucket.take(1000), true);
  });
});
