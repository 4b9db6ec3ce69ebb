/**
 * The SFU under test, in a child process of the benchmark so that its CPU (the Node process and
 * every worker) is measured apart from the load generator's: relais (relaisProcess.ts) or bare
 * mediasoup (bareMediasoupProcess.ts), both answering the same IPC requests.
 */
import { fork } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePortRange } from '../../tools/freePorts.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface Target {
  url: string;
  pid: number;
  workerPids: number[];
  listenIp: string;
  routers(): Promise<Record<string, number>>;
  /** What the SFU saw arrive from the speaker: packetCount, packetsLost (ingress loss). */
  producerStats(): Promise<{
    stats: { packetCount?: number; packetsLost?: number }[];
    iceEvents?: { state: string; direction: unknown; at: number }[];
    sfuSentPackets?: number;
  }>;
  stop(): Promise<void>;
}

export async function startTarget(
  script: string,
  options: { workers: number; perRouter: string; secret: string; room: string; env?: Record<string, string> },
): Promise<Target> {
  const { workers, perRouter, room } = options;
  const portBase = await freePortRange(workers);
  const child = fork(path.join(here, script), [], {
    execArgv: ['--import', 'tsx'],
    env: {
      ...process.env,
      RELAIS_WORKERS: String(workers),
      RELAIS_RTC_PORT_BASE: String(portBase),
      RELAIS_JWT_SECRET: options.secret,
      RELAIS_CONSUMERS_PER_ROUTER: perRouter,
      BARE_CONSUMERS_PER_ROUTER: perRouter,
      ...options.env,
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = <T>(type: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${script}: no ${type}`)), 90_000);
      const on = (message: { type: string }): void => {
        if (message.type !== type) return;
        clearTimeout(timer);
        child.off('message', on);
        resolve(message as T);
      };
      child.on('message', on);
    });
  const ready = await next<{ url: string; pid: number; workerPids: number[]; listenIp: string }>('ready');
  return {
    ...ready,
    routers: async () => {
      child.send({ type: 'routers', room });
      return (await next<{ loads: Record<string, number> }>('routers')).loads;
    },
    producerStats: async () => {
      child.send({ type: 'producerStats', room });
      return next('producerStats');
    },
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ type: 'stop' });
      await Promise.race([exited, sleep(10_000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

export async function messagesSent(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const match = /^relais_signalling_messages_sent_total (\d+(?:\.\d+)?)/m.exec(text);
  return match?.[1] ? Number(match[1]) : Number.NaN;
}

/**
 * How the running worker encrypts and sends: Debian's shared libsrtp2 does its crypto through
 * NSS (the build script's default links libsrtp statically against OpenSSL), and a worker
 * built with liburing holds an io_uring descriptor.
 */
export function workerIoOf(workerPid: number | undefined): string {
  if (workerPid === undefined) return 'unknown';
  const maps = readFileSync(`/proc/${workerPid}/maps`, 'utf8');
  const srtp = /libsrtp2\.so/.test(maps) ? 'libsrtp2 shared (Debian, NSS)' : 'libsrtp static (OpenSSL)';
  const fds = readdirSync(`/proc/${workerPid}/fd`).map((fd) => {
    try {
      return readlinkSync(`/proc/${workerPid}/fd/${fd}`);
    } catch {
      return '';
    }
  });
  return `${srtp}, ${fds.includes('anon_inode:[io_uring]') ? 'io_uring sends' : 'sendmsg per packet'}`;
}

export function machine(): string {
  const release = existsSync('/etc/os-release')
    ? /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1]
    : undefined;
  const cpus = os.cpus();
  return `${cpus[0]?.model.trim() ?? 'cpu'}, ${cpus.length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${release ?? os.platform()}, Node ${process.version}`;
}
