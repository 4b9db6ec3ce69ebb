import assert from 'node:assert/strict';
import type { RegisteredNode } from '../../server/src/cluster/NodeRegistry.js';
import { internalNodeRef, roomNodesKey } from '../../server/src/cluster/RedisRoomNodes.js';

const entry: RegisteredNode = {
  id: 'node-2',
  publicUrl: 'http://127.0.0.1:3002',
  clusterAddress: '10.0.0.2',
  internalUrl: 'http://10.0.0.2:8080',
  capacity: 0,
  state: 'serving',
  load: { workers: 1, perWorker: [0], rooms: 0, participants: 0 },
  seenAt: 0,
};

describe('how nodes find each other for a room', () => {
  it('calls a registered node at the internal URL its entry carries (cluster address, bound port)', () => {
    assert.deepEqual(internalNodeRef(entry), { id: 'node-2', url: 'http://10.0.0.2:8080' });
  });

  it('keys a room’s nodes under the room’s hash tag', () => {
    assert.equal(roomNodesKey('crise-59'), 'relais:room:{crise-59}:nodes');
    assert.equal(roomNodesKey('crise-59', 'test:'), 'test:room:{crise-59}:nodes');
  });
});
