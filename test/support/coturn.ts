/**
 * Debian's coturn (`/usr/bin/turnserver`), started by a test on free loopback ports: TURN on
 * UDP and TCP, TURN over TLS with a certificate made at start-up, the shared-secret (REST)
 * scheme relais computes credentials for. Loopback peers are allowed, or coturn would refuse
 * to relay to a relais on 127.0.0.1.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePortRange } from '../../tools/freePorts.js';
import { eventually } from './wait.js';
import { makeTestCertificate } from './testCertificate.js';

export const TURNSERVER = process.env.TURNSERVER_PATH ?? '/usr/bin/turnserver';

/** The configuration operators are given (deploy/coturn/turnserver.conf). */
export const DEPLOY_CONFIG = path.resolve('deploy/coturn/turnserver.conf');

export interface CoturnOptions {
  /**
   * Run the shipped configuration file itself, its REPLACE-… values and ports filled in for
   * loopback, relaying only to `allowedPeerIp` (what an operator sets to relais's media address).
   */
  deployConfig?: { allowedPeerIp: string };
}

/** deploy/coturn/turnserver.conf with an operator's values: a test's ports, certificate and secret. */
function deployConfig(
  values: { secret: string; allowedPeerIp: string; port: number; tlsPort: number; relayBase: number },
  cert: string,
  key: string,
): string {
  const set: Record<string, string> = {
    'tls-listening-port': String(values.tlsPort),
    'listening-port': String(values.port),
    'min-port': String(values.relayBase),
    'max-port': String(values.relayBase + 15),
    cert,
    pkey: key,
    'static-auth-secret': values.secret,
    realm: 'relais.test',
    'allowed-peer-ip': values.allowedPeerIp,
  };
  const lines = readFileSync(DEPLOY_CONFIG, 'utf8')
    .split('\n')
    // Logs go to the test (stdout), not to syslog.
    .filter((line) => line !== 'syslog' && line !== 'no-stdout-log')
    .map((line) => {
      const name = line.split('=')[0] ?? '';
      return !line.startsWith('#') && name in set ? `${name}=${set[name]}` : line;
    });
  const left = lines.filter((line) => !line.startsWith('#') && line.includes('REPLACE-'));
  if (left.length > 0) throw new Error(`deploy config: values left to fill in: ${left.join(', ')}`);
  return lines.join('\n');
}

export interface Coturn {
  /** coturn's static-auth-secret (give it to relais as RELAIS_TURN_SECRET). */
  secret: string;
  urls: { udp: string; tcp: string; tls: string };
  /**
   * SHA-256 of the test certificate's public key (base64): Chromium given
   * `--ignore-certificate-errors-spki-list=<this>` trusts that one certificate for TURN over TLS.
   */
  spki: string;
  /** Everything coturn printed so far. */
  output(): string;
  stop(): Promise<void>;
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function exited(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export async function startCoturn(options: CoturnOptions = {}): Promise<Coturn> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'relais-coturn-'));
  const { cert, key, spki } = makeTestCertificate(dir);
  const secret = randomBytes(32).toString('base64url');
  const port = await freePortRange(1);
  const tlsPort = await freePortRange(1);
  const relayBase = await freePortRange(16);
  const own = [
    `--pidfile=${path.join(dir, 'turnserver.pid')}`,
    `--userdb=${path.join(dir, 'turndb')}`,
    '--log-file=stdout',
    '--simple-log',
    '--verbose',
  ];
  let args: string[];
  if (options.deployConfig) {
    const file = path.join(dir, 'turnserver.conf');
    writeFileSync(
      file,
      deployConfig({ secret, allowedPeerIp: options.deployConfig.allowedPeerIp, port, tlsPort, relayBase }, cert, key),
    );
    // Loopback only, and loopback peers allowed (coturn refuses them otherwise): the test's network.
    args = ['-c', file, '--listening-ip=127.0.0.1', '--relay-ip=127.0.0.1', '--allow-loopback-peers', ...own];
  } else {
    args = [
      '-n', // no configuration file: everything is on this command line
      '--listening-ip=127.0.0.1',
      '--relay-ip=127.0.0.1',
      `--listening-port=${port}`,
      `--tls-listening-port=${tlsPort}`,
      `--min-port=${relayBase}`,
      `--max-port=${relayBase + 15}`,
      '--use-auth-secret',
      `--static-auth-secret=${secret}`,
      '--realm=relais.test',
      '--allow-loopback-peers',
      '--no-multicast-peers',
      '--no-tcp-relay',
      '--fingerprint',
      '--no-cli',
      '--no-dtls',
      '--no-rfc5780',
      '--no-software-attribute',
      `--cert=${cert}`,
      `--pkey=${key}`,
      ...own,
    ];
  }
  const child = spawn(TURNSERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    child.kill('SIGTERM');
    if (!(await exited(child, 5000))) {
      child.kill('SIGKILL');
      await exited(child, 5000);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await eventually(
      'coturn to listen on TCP and TLS',
      async () => {
        if (child.exitCode !== null) throw new Error(`turnserver exited (${child.exitCode}): ${output.slice(-2000)}`);
        return (await listening(port)) && (await listening(tlsPort));
      },
      15_000,
      100,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    secret,
    urls: {
      udp: `turn:127.0.0.1:${port}?transport=udp`,
      tcp: `turn:127.0.0.1:${port}?transport=tcp`,
      tls: `turns:127.0.0.1:${tlsPort}?transport=tcp`,
    },
    spki,
    output: () => output,
    stop,
  };
}
