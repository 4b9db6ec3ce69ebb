import assert from 'node:assert/strict';
import {
  closePipeRequest,
  eventRequest,
  pipeAnswer,
  pipeRequest,
  unwatchRequest,
  watchAnswer,
  watchRequest,
} from '../../server/src/http/internalProtocol.js';

const endpoint = {
  ip: '10.0.0.2',
  port: 41000,
  srtpParameters: { cryptoSuite: 'AEAD_AES_256_GCM', keyBase64: 'k'.repeat(60) },
};
const node = { id: 'node-b', url: 'http://10.0.0.2:3000' };
const producer = { producerId: 'p1', participantId: 'alice', kind: 'audio', source: 'mic', paused: false };

describe('internal API messages', () => {
  it('accepts well-formed requests and answers', () => {
    assert.ok(watchRequest.safeParse({ roomId: 'crise', node, instance: 'i-b' }).success);
    assert.ok(watchAnswer.safeParse({ producers: [producer], instance: 'i-a' }).success);
    // The room is not open on the node watched: no opening to name.
    assert.ok(watchAnswer.safeParse({ producers: [] }).success);
    assert.ok(unwatchRequest.safeParse({ roomId: 'crise', nodeId: 'node-b', instance: 'i-b' }).success);
    assert.ok(pipeRequest.safeParse({ roomId: 'crise', node, producerId: 'p1', transport: endpoint }).success);
    assert.ok(
      closePipeRequest.safeParse({
        roomId: 'crise',
        nodeId: 'node-b',
        producerId: 'p1',
        transport: { ip: '::1', port: 41001 },
      }).success,
    );
    assert.ok(pipeAnswer.safeParse({ transport: endpoint, producer: { ...producer, rtpParameters: {} } }).success);
    assert.ok(
      eventRequest.safeParse({
        roomId: 'crise',
        nodeId: 'a',
        instance: 'i-a',
        event: { type: 'producerAdded', producer },
      }).success,
    );
    assert.ok(
      eventRequest.safeParse({
        roomId: 'crise',
        nodeId: 'a',
        instance: 'i-a',
        event: { type: 'producerClosed', producerId: 'p1' },
      }).success,
    );
    assert.ok(
      eventRequest.safeParse({
        roomId: 'crise',
        nodeId: 'a',
        instance: 'i-a',
        event: { type: 'producerPaused', producerId: 'p1', paused: true },
      }).success,
    );
  });

  it('refuses what a node would never send', () => {
    const pipe = { roomId: 'crise', node, producerId: 'p1', transport: endpoint };
    const refused = [
      { ...pipe, roomId: '../etc' },
      { ...pipe, extra: true },
      { ...pipe, node: { id: 'b', url: 'file:///etc/passwd' } },
      { ...pipe, transport: { ...endpoint, ip: 'example.org' } },
      { ...pipe, transport: { ...endpoint, port: 70000 } },
      { ...pipe, transport: { ...endpoint, srtpParameters: { cryptoSuite: 'NULL', keyBase64: 'k'.repeat(60) } } },
      { ...pipe, transport: { ip: endpoint.ip, port: endpoint.port } },
      { ...pipe, producerId: '' },
    ];
    for (const request of refused) assert.equal(pipeRequest.safeParse(request).success, false, JSON.stringify(request));
    assert.equal(
      eventRequest.safeParse({ roomId: 'crise', nodeId: 'a', instance: 'i-a', event: { type: 'roomDeleted' } }).success,
      false,
    );
    // Every message about a room's opening names it: one without could undo a newer opening.
    assert.equal(watchRequest.safeParse({ roomId: 'crise', node }).success, false);
    assert.equal(unwatchRequest.safeParse({ roomId: 'crise', nodeId: 'node-b' }).success, false);
    assert.equal(
      eventRequest.safeParse({ roomId: 'crise', nodeId: 'a', event: { type: 'producerClosed', producerId: 'p1' } })
        .success,
      false,
    );
    assert.equal(watchRequest.safeParse({ roomId: 'crise', node, instance: '' }).success, false);
    assert.equal(pipeAnswer.safeParse({ transport: endpoint, producer: { ...producer, kind: 'data' } }).success, false);
  });
});
