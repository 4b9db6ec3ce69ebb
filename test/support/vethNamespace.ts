/**
 * A private network for browsers that refuse loopback: a network namespace made by the test
 * and a veth pair whose root-side end carries an address relais listens on. Firefox does not
 * pair ICE over 127.0.0.1; an address on a veth end is an ordinary interface address to it,
 * and traffic to it never leaves the machine. Needs root (`ip netns`).
 */
import { execFileSync } from 'node:child_process';

export interface VethNamespace {
  /** The root-side address (relais serves and announces media on it). */
  address: string;
  /** The address of the namespace-side end. */
  peerAddress: string;
  remove(): void;
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Creates namespace `name` and a veth pair 10.<a>.<b>.1/30 (root side) ↔ .2 (namespace side). */
export function createVethNamespace(tag: number): VethNamespace {
  // Distinct per process: two test runs at once get two networks.
  const a = 200 + (tag % 50);
  const b = Math.floor(tag / 50) % 250;
  const name = `relais-ff-${tag}`;
  const root = `rff${tag}a`.slice(0, 15);
  const inner = `rff${tag}b`.slice(0, 15);
  const address = `10.${a}.${b}.1`;
  const peerAddress = `10.${a}.${b}.2`;
  const remove = () => {
    // Deleting the namespace deletes its veth end, and with it the root-side one.
    try {
      ip('link', 'del', root);
    } catch {}
    try {
      ip('netns', 'del', name);
    } catch {}
  };
  remove();
  try {
    ip('netns', 'add', name);
    ip('link', 'add', root, 'type', 'veth', 'peer', 'name', inner);
    ip('link', 'set', inner, 'netns', name);
    ip('addr', 'add', `${address}/30`, 'dev', root);
    ip('link', 'set', root, 'up');
    ip('-n', name, 'addr', 'add', `${peerAddress}/30`, 'dev', inner);
    ip('-n', name, 'link', 'set', inner, 'up');
    ip('-n', name, 'link', 'set', 'lo', 'up');
  } catch (error) {
    remove();
    const detail = (error as { stderr?: Buffer }).stderr?.toString().trim() || String(error);
    throw new Error(`could not create network namespace ${name} (root and iproute2 needed): ${detail}`);
  }
  return { address, peerAddress, remove };
}
