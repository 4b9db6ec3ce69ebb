/**
 * A real network cut for one port: an nftables table of our own dropping UDP and TCP to and from
 * it at the input hook. Every packet received, loopback included, crosses that hook, so both
 * directions are cut, and silently: a drop at the output hook would fail the sender's `sendto`
 * with EPERM, which no real network cut does.
 * Only that port and only our table are touched; other tests' rules and ports stay as they are.
 * Needs root and `nft` (nftables, listed in scripts/debian-test-packages.txt).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface NetworkCut {
  /** The nftables table holding the drop rules (`inet <table>`). */
  readonly table: string;
  readonly port: number;
  /** Whether the drop rules are in place. */
  readonly active: boolean;
  /** Deletes the table: the path is back. Safe to call twice. */
  restore(): void;
}

/** Tables still in place, removed when the process exits even if a test forgot (or crashed). */
const live = new Set<NetworkCut>();
let exitHookInstalled = false;

function nft(args: string[], input?: string): void {
  try {
    execFileSync('nft', args, { input, stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'] });
  } catch (error) {
    const detail = (error as { stderr?: Buffer }).stderr?.toString().trim() || String(error);
    throw new Error(`nft ${args.join(' ')} failed (root and nftables needed): ${detail}`);
  }
}

/** Drops every UDP and TCP packet to or from `port` until `restore()`. */
export function cutPort(port: number): NetworkCut {
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new Error(`not a port: ${port}`);
  const table = `relais_test_${randomBytes(4).toString('hex')}`;
  const drops = [
    `udp dport ${port} drop`,
    `udp sport ${port} drop`,
    `tcp dport ${port} drop`,
    `tcp sport ${port} drop`,
  ];
  // One script, applied atomically: either the whole cut is in place or nothing is.
  const script = [
    `table inet ${table} {`,
    '  chain input {',
    '    type filter hook input priority -10; policy accept;',
    ...drops.map((rule) => `    ${rule}`),
    '  }',
    '}',
    '',
  ].join('\n');
  nft(['-f', '-'], script);
  let active = true;
  const cut: NetworkCut = {
    table,
    port,
    get active() {
      return active;
    },
    restore() {
      if (!active) return;
      active = false;
      live.delete(cut);
      nft(['delete', 'table', 'inet', table]);
    },
  };
  live.add(cut);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const left of [...live]) {
        try {
          left.restore();
        } catch {}
      }
    });
  }
  return cut;
}

/** Whether an nftables table of that name exists (tests check that a cut leaves nothing behind). */
export function tableExists(table: string): boolean {
  try {
    execFileSync('nft', ['list', 'table', 'inet', table], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
