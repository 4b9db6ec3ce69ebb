import { InMemoryRevocations, type Revocation, type RevocationTarget } from '../auth/revocations.js';

/**
 * Where revocations are kept. Every implementation keeps them in a local `mirror`, which the
 * handshake asks synchronously; `revoke` stores a new one where every node sees it.
 */
export interface RevocationStore {
  readonly mirror: InMemoryRevocations;
  /** Loads the revocations in force (before the first handshake) and starts following new ones. */
  start(): Promise<void>;
  /** Stores a revocation; fails, storing nothing, when it cannot reach every node. */
  revoke(target: RevocationTarget, options?: { reason?: string }): Promise<Revocation>;
  close(): Promise<void>;
}

export interface RevocationStoreOptions {
  maxTokenLifetimeSeconds: number;
  /**
   * A revocation made on another node, or missed while disconnected: end its sessions here.
   * (The node that makes one ends its own sessions itself.)
   */
  onRemoteRevocation: (entry: Revocation) => void;
}

/** The embedded default: one process, revocations in its memory, forgotten at restart. */
export class LocalRevocationStore implements RevocationStore {
  readonly mirror: InMemoryRevocations;

  constructor(options: Pick<RevocationStoreOptions, 'maxTokenLifetimeSeconds'>) {
    this.mirror = new InMemoryRevocations({ maxTokenLifetimeSeconds: options.maxTokenLifetimeSeconds });
  }

  async start(): Promise<void> {}

  async revoke(target: RevocationTarget, options: { reason?: string } = {}): Promise<Revocation> {
    return this.mirror.revoke(target, options);
  }

  async close(): Promise<void> {}
}
