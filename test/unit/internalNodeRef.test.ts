import assert from 'node:assert/strict';
import type { RegisteredNode } from '../../server/src/cluster/NodeRegistry.js';
import { internalNodeRef, roomNodesKey } from '../../server/src/cluster/RedisRoomNodes.js';

const entry: RegisteredNode = {
  id: 'node-2',
  publicUrl: 'http://127.0.0.1:3002',
  clusterAddress: '10.0.0.2',
  state: 'serving',
  load: { workers: 1, perWorker: [0], rooms: 0, participants: 0 },
  seenAt: 0,
};

describe('how nodes find each other for a room', () => {
  it('calls a registered node on its cluster address, with its public scheme and port', () => {
    assert.deepEqual(internalNodeRef(entry), { id: 'node-2', url: 'http://10.0.0.2:3002' });
    assert.deepEqual(
      internalNodeRef({ ...entry, publicUrl: 'https://relais.example.org', clusterAddress: 'fd00::2' }),
      {
        id: 'node-2',
        url: 'https://[fd00::2]:443',
      },
    );
  });

  it('prefers the internal URL a registry entry carries', () => {
    assert.deepEqual(internalNodeRef({ ...entry, internalUrl: 'http://10.0.0.2:8080' }), {
      id: 'node-2',
      url: 'http://10.0.0.2:8080',
    });
  });

  it('skips an entry whose public URL is not an HTTP URL', () => {
    assert.equal(internalNodeRef({ ...entry, publicUrl: 'not a url' }), undefined);
    assert.equal(internalNodeRef({ ...entry, publicUrl: 'ftp://10.0.0.2/' }), undefined);
  });

  it('keys a room’s nodes under the room’s hash tag', () => {
    assert.equal(roomNodesKey('crise-59'), 'relais:room:{crise-59}:nodes');
    assert.equal(roomNodesKey('crise-59', 'test:'), 'test:room:{crise-59}:nodes');
  });
});
