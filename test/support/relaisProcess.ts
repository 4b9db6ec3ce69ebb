import { childPids } from '../../bench/load/procStat.js';
import { type ChildProcess, spawn } from 'node:child_process';
import { freePortRange } from '../../tools/freePorts.js';
import { LOCAL_SECRET } from '../../tools/localRelais.js';
import { eventually } from './wait.js';

/** A relais started as its own process (`node --import tsx server/src/main.ts`), as an operator runs it. */
export interface RelaisProcess {
  readonly url: string;
  readonly httpPort: number;
  readonly child: ChildProcess;
  /** Everything it wrote, stdout and stderr (the last 200 kB). */
  output(): string;
  readonly alive: boolean;
  /** Sends `signal` and waits for the exit (SIGKILL after 15 s). */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Spawns a relais on free loopback ports (one worker, signing with LOCAL_SECRET), `env` added,
 * and waits until its /readyz says ready. Ports may be given to restart a node where it was.
 */
export async function startRelaisProcess(
  env: Record<string, string>,
  ports: { http?: number; rtc?: number } = {},
  /** Options for node itself (e.g. `--cpu-prof`, which NODE_OPTIONS refuses). */
  nodeArgs: string[] = [],
): Promise<RelaisProcess> {
  const httpPort = ports.http ?? (await freePortRange(1));
  const rtcPort = ports.rtc ?? (await freePortRange(1));
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'server/src/main.ts'], {
    env: {
      PATH: process.env.PATH ?? '',
      ...(process.env.MEDIASOUP_WORKER_BIN ? { MEDIASOUP_WORKER_BIN: process.env.MEDIASOUP_WORKER_BIN } : {}),
      RELAIS_HTTP_PORT: String(httpPort),
      RELAIS_RTC_PORT_BASE: String(rtcPort),
      RELAIS_WORKERS: '1',
      RELAIS_JWT_SECRET: LOCAL_SECRET,
      RELAIS_LOG_PRETTY: 'false',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (chunk: Buffer): void => {
    out = (out + chunk.toString()).slice(-200_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const isAlive = (): boolean => child.exitCode === null && child.signalCode === null;
  const url = `http://127.0.0.1:${httpPort}`;
  const node: RelaisProcess = {
    url,
    httpPort,
    child,
    output: () => out,
    get alive() {
      return isAlive();
    },
    stop: async (signal = 'SIGTERM') => {
      if (!isAlive()) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
  try {
    await eventually(
      `relais on port ${httpPort} ready`,
      async () => {
        if (!isAlive()) throw new Error(`it exited:\n${out}`);
        const response = await fetch(`${url}/readyz`);
        return response.status === 200;
      },
      45_000,
      200,
    );
  } catch (error) {
    await node.stop('SIGKILL');
    throw error;
  }
  return node;
}

/** The mediasoup workers of a relais process: its children. */
export function workerPids(node: RelaisProcess): number[] {
  return childPids(node.child.pid ?? 0);
}
