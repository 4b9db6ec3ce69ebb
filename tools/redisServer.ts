import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePortRange } from './freePorts.js';

/** Debian's package (`redis-server`); Valkey's `valkey-server` takes the same arguments. */
const REDIS_SERVER_BIN = process.env.RELAIS_TEST_REDIS_SERVER ?? '/usr/bin/redis-server';
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5000;

export interface PrivateRedis {
  port: number;
  /** `redis://127.0.0.1:<port>` */
  url: string;
  /** Stops the server (SIGKILL, waits for the exit) and removes its directory; the port is kept for `restart`. */
  stop(): Promise<void>;
  /**
   * Starts it again on the same port: empty (what a restarted Redis without persistence holds),
   * or, with `appendOnly`, with everything it had written to its append-only file.
   */
  restart(): Promise<void>;
  /** Kills it (SIGKILL, a crash), keeping its files for `restart`. */
  kill(): Promise<void>;
  readonly running: boolean;
  /** The server's process id while it runs (benchmarks read its CPU and pin it to cores). */
  readonly pid: number | undefined;
}

/** One PING over a fresh connection: true when it answers PONG. */
export function pingRedis(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    // Behind a password it answers NOAUTH: up all the same.
    socket.once('data', (data) => done(/^(\+PONG|-NOAUTH)/.test(data.toString())));
  });
}

/**
 * A private `redis-server` for tests and benchmarks: loopback only, on a free port, no
 * persistence, its files in a temporary directory. Resolves once it answers PING; `stop`
 * kills it, waits for the exit and removes the directory.
 */
export async function startPrivateRedis(
  options: {
    port?: number;
    /** More redis-server arguments, e.g. `['--requirepass', '…']`. */
    args?: string[];
    /** Persist every write to an append-only file (fsync always), kept across `kill`/`restart`. */
    appendOnly?: boolean;
  } = {},
): Promise<PrivateRedis> {
  const port = options.port ?? (await freePortRange(1));
  let child: ChildProcess | undefined;
  let dir: string | undefined;
  let output = '';

  const launch = async (): Promise<void> => {
    dir ??= mkdtempSync(path.join(os.tmpdir(), 'relais-redis-'));
    output = '';
    const spawned = spawn(
      REDIS_SERVER_BIN,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        options.appendOnly ? 'yes' : 'no',
        ...(options.appendOnly ? ['--appendfsync', 'always'] : []),
        '--dir',
        dir,
        ...(options.args ?? []),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = spawned;
    spawned.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
    spawned.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
    const spawnError = new Promise<never>((_resolve, reject) => spawned.once('error', reject));
    spawnError.catch(() => undefined);
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (spawned.exitCode !== null || spawned.signalCode !== null) {
        await halt();
        throw new Error(`redis-server exited at start (port ${port}):\n${output}`);
      }
      if (await Promise.race([pingRedis(port), spawnError])) return;
      if (Date.now() > deadline) {
        await halt();
        throw new Error(`redis-server did not answer PING on port ${port} within ${START_TIMEOUT_MS} ms:\n${output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  const halt = async (keepFiles = false): Promise<void> => {
    const running = child;
    child = undefined;
    if (running && running.exitCode === null && running.signalCode === null) {
      const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
      running.kill('SIGKILL');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, STOP_TIMEOUT_MS))]);
    }
    if (keepFiles) return;
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  };

  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop: () => halt(),
    kill: () => halt(true),
    restart: async () => {
      await halt(options.appendOnly === true && dir !== undefined);
      await launch();
    },
    get running() {
      return child !== undefined;
    },
    get pid() {
      return child?.pid;
    },
  };
}
