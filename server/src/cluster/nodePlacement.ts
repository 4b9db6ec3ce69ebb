import type { NodeInfo, RegisteredNode } from './NodeRegistry.js';

/** Where a join goes: here, to another node, or nowhere (every node full or draining). */
export type JoinPlacement =
  | { decision: 'here' }
  | { decision: 'redirect'; node: RegisteredNode }
  | { decision: 'refuse'; why: 'draining' | 'full' };

function hasRoom(node: Pick<NodeInfo, 'capacity' | 'load'>): boolean {
  return node.capacity <= 0 || node.load.participants < node.capacity;
}

/** Share of its capacity a node uses; a node without a limit counts as empty. */
function usage(node: RegisteredNode): number {
  return node.capacity > 0 ? node.load.participants / node.capacity : 0;
}

/**
 * A join arriving at `self`: taken here while this node serves and has room; otherwise sent to
 * the serving node with the most room left (by share of capacity, then fewest participants,
 * then id, so that every node picks the same one from the same registry).
 */
export function placeJoin(self: NodeInfo, nodes: readonly RegisteredNode[]): JoinPlacement {
  if (self.state === 'serving' && hasRoom(self)) return { decision: 'here' };
  const candidates = nodes
    .filter((node) => node.id !== self.id && node.state === 'serving' && hasRoom(node))
    .sort((a, b) => usage(a) - usage(b) || a.load.participants - b.load.participants || a.id.localeCompare(b.id));
  const best = candidates[0];
  if (best) return { decision: 'redirect', node: best };
  return { decision: 'refuse', why: self.state === 'draining' ? 'draining' : 'full' };
}

/**
 * Where a draining node sends `count` participants: each to the node with most room at that
 * moment, counting the ones already sent there, so a drain spreads over the cluster instead of
 * landing on one node. Undefined entries: no node can take them.
 */
export function planMoves(
  self: NodeInfo,
  nodes: readonly RegisteredNode[],
  count: number,
): (RegisteredNode | undefined)[] {
  const estimate = nodes.map((node) => ({ ...node, load: { ...node.load } }));
  const leaving: NodeInfo = { ...self, state: 'draining' };
  const plan: (RegisteredNode | undefined)[] = [];
  for (let i = 0; i < count; i++) {
    const placed = placeJoin(leaving, estimate);
    if (placed.decision !== 'redirect') {
      plan.push(undefined);
      continue;
    }
    placed.node.load.participants += 1;
    plan.push(nodes.find((node) => node.id === placed.node.id));
  }
  return plan;
}
