/** The embedded default's stores, and how a mirror takes in revocations made elsewhere. */
import assert from 'node:assert/strict';
import { InMemoryRevocations, type Revocation } from '../../server/src/auth/revocations.js';
import { Heartbeat, InMemoryNodeRegistry, type NodeInfo } from '../../server/src/cluster/NodeRegistry.js';
import { LocalRevocationStore } from '../../server/src/cluster/RevocationStore.js';

const T0 = Date.UTC(2026, 10, 29, 8, 0, 0);
const HOUR = 3600_000;

const info = (participants: number): NodeInfo => ({
  id: 'solo',
  publicUrl: 'http://127.0.0.1:3000',
  clusterAddress: '127.0.0.1',
  internalUrl: 'http://127.0.0.1:3000',
  capacity: 0,
  state: 'serving',
  load: { workers: 2, perWorker: [3, 0], rooms: 1, participants },
});

describe('cluster stores, in memory (one process)', () => {
  it('the node registry lists this node alone, as it is now, until it stops', async () => {
    const registry = new InMemoryNodeRegistry();
    assert.deepEqual(await registry.list(), []);
    let participants = 1;
    await registry.start(() => info(participants));
    participants = 4;
    const [self, ...others] = await registry.list();
    assert.deepEqual(others, []);
    assert.equal(self?.id, 'solo');
    assert.equal(self?.load.participants, 4, 'read when listed, not when started');
    await registry.stop();
    assert.deepEqual(await registry.list(), []);
  });

  it('the local revocation store revokes into the mirror the handshake asks', async () => {
    const store = new LocalRevocationStore({ maxTokenLifetimeSeconds: 3600 });
    await store.start();
    const entry = await store.revoke({ jti: 'token-a' }, { reason: 'lost' });
    assert.equal(entry.forgetAt - entry.revokedAt, HOUR, 'kept for the maximum token lifetime');
    assert.equal(store.mirror.isRevoked({ sub: 'x', jti: 'token-a' }), true);
    assert.deepEqual(
      store.mirror.list().map((e) => e.reason),
      ['lost'],
    );
    await store.close();
  });

  it('a mirror takes in a revocation made elsewhere once, as it was made, and not an expired one', () => {
    const mirror = new InMemoryRevocations({ maxTokenLifetimeSeconds: 3600 });
    const remote: Revocation = { target: { sub: 'laptop-3' }, revokedAt: T0, forgetAt: T0 + HOUR };
    assert.equal(mirror.restore(remote, T0 + 10), true);
    assert.equal(mirror.restore({ ...remote }, T0 + 20), false, 'already known');
    // Matched by the remote revocation time, not by when it arrived here.
    assert.equal(mirror.isRevoked({ sub: 'laptop-3', iat: Math.floor(T0 / 1000) }, T0 + 30), true);
    assert.equal(mirror.isRevoked({ sub: 'laptop-3', iat: Math.floor(T0 / 1000) + 5 }, T0 + 6000), false);
    assert.equal(mirror.isRevoked({ sub: 'laptop-3', iat: Math.floor(T0 / 1000) }, T0 + HOUR + 1), false, 'forgotten');
    const stale: Revocation = { target: { jti: 'old' }, revokedAt: T0 - 2 * HOUR, forgetAt: T0 - HOUR };
    assert.equal(mirror.restore(stale, T0), false);
    assert.equal(mirror.isRevoked({ sub: 'anyone', jti: 'old' }, T0), false);
  });

  it('a heartbeat beats at start and on its interval, never twice at once, and nothing after stop', async () => {
    let beats = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    const heartbeat = new Heartbeat(
      async () => {
        beats += 1;
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 15));
        inFlight -= 1;
      },
      5,
      () => undefined,
    );
    await heartbeat.start();
    assert.equal(beats, 1, 'the entry is written before start returns');
    for (let i = 0; i < 100 && beats < 4; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    await heartbeat.stop();
    const afterStop = beats;
    assert.ok(afterStop >= 4);
    assert.equal(maxInFlight, 1);
    await new Promise((resolve) => setTimeout(resolve, 40));
    assert.equal(beats, afterStop, 'no beat after stop');
  });
});
