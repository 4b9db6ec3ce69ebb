import assert from 'node:assert/strict';
import type { NodeInfo, RegisteredNode } from '../../server/src/cluster/NodeRegistry.js';
import { placeJoin, planMoves } from '../../server/src/cluster/nodePlacement.js';

function node(
  id: string,
  participants: number,
  capacity: number,
  state: NodeInfo['state'] = 'serving',
): RegisteredNode {
  return {
    id,
    publicUrl: `https://${id}.relais.test`,
    clusterAddress: '10.0.0.1',
    internalUrl: `http://10.0.0.1:3000`,
    capacity,
    state,
    load: { workers: 1, perWorker: [participants], rooms: 1, participants },
    seenAt: 0,
  };
}

describe('placing a join in the cluster (pure)', () => {
  it('takes the newcomer here while this node serves and has room, whatever the others', () => {
    assert.deepEqual(placeJoin(node('a', 9, 10), [node('b', 0, 10)]), { decision: 'here' });
    assert.deepEqual(placeJoin(node('a', 5000, 0), []), { decision: 'here' }, 'capacity 0 is no limit');
  });

  it('sends a full node’s newcomer to the serving node with the most room left', () => {
    const self = node('a', 10, 10);
    const placed = placeJoin(self, [self, node('b', 8, 10), node('c', 30, 100), node('d', 0, 10, 'draining')]);
    assert.equal(placed.decision, 'redirect');
    assert.equal(placed.decision === 'redirect' && placed.node.id, 'c', '30 % used beats 80 %; a draining node never');
  });

  it('sends a draining node’s newcomers elsewhere even when it has room', () => {
    const placed = placeJoin(node('a', 0, 10, 'draining'), [node('b', 3, 10)]);
    assert.equal(placed.decision === 'redirect' && placed.node.id, 'b');
  });

  it('every node picks the same target from the same registry (ties broken by load, then id)', () => {
    const others = [node('c', 2, 10), node('b', 2, 10), node('d', 1, 0)];
    const first = placeJoin(node('a', 10, 10), others);
    const second = placeJoin(node('e', 10, 10), [...others].reverse());
    assert.equal(first.decision === 'redirect' && first.node.id, 'd', 'a node without a limit counts as empty');
    assert.equal(second.decision === 'redirect' && second.node.id, 'd');
    const tie = placeJoin(node('a', 10, 10), [node('c', 2, 10), node('b', 2, 10)]);
    assert.equal(tie.decision === 'redirect' && tie.node.id, 'b');
  });

  it('refuses, saying why, when no node can take anyone', () => {
    assert.deepEqual(placeJoin(node('a', 10, 10), [node('b', 10, 10)]), { decision: 'refuse', why: 'full' });
    assert.deepEqual(placeJoin(node('a', 0, 10, 'draining'), [node('b', 10, 10)]), {
      decision: 'refuse',
      why: 'draining',
    });
  });
});

describe('spreading a draining node’s participants (pure)', () => {
  it('sends each to the node with most room at that moment, counting those already sent', () => {
    const plan = planMoves(node('d', 40, 100, 'draining'), [node('a', 10, 100), node('b', 20, 100)], 30);
    const counts = { a: 0, b: 0 } as Record<string, number>;
    for (const target of plan) if (target) counts[target.id] = (counts[target.id] ?? 0) + 1;
    // a takes the first ten alone (10→20), then a and b take turns: 10 + 10 each.
    assert.deepEqual(counts, { a: 20, b: 10 });
  });

  it('leaves without a target those no node can take (full, draining, or no other node)', () => {
    const plan = planMoves(node('d', 5, 0, 'draining'), [node('a', 9, 10), node('c', 0, 10, 'draining')], 3);
    assert.deepEqual(
      plan.map((target) => target?.id),
      ['a', undefined, undefined],
    );
    assert.deepEqual(planMoves(node('solo', 5, 0), [], 2), [undefined, undefined]);
  });
});
