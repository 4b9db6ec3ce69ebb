/**
 * A child process of a benchmark (a share of its listeners or meeting members), forked with
 * tsx and driven over the fork IPC channel: the parent sends `{ type, ... }` requests and
 * waits for the reply of a given type. Spreading peers over processes lets the generator use
 * more than one core.
 */
import { fork, type ChildProcess } from 'node:child_process';

export interface BenchChild {
  pid: number;
  send(message: { type: string } & Record<string, unknown>): void;
  /** The next message of `type` from the child; rejects on timeout or when the child exits first. */
  next<T extends { type: string }>(type: string, timeoutMs: number): Promise<T>;
  /** Asks the child to close, then kills it if it has not gone within 3 s. */
  close(): void;
}

export async function forkBenchChild(script: string, name: string): Promise<BenchChild> {
  const child: ChildProcess = fork(script, [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = <T extends { type: string }>(type: string, timeoutMs: number): Promise<T> =>
    new Promise((resolve, reject) => {
      const cleanUp = (): void => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      const timer = setTimeout(() => {
        cleanUp();
        reject(new Error(`${name} ${child.pid}: no ${type} within ${timeoutMs} ms`));
      }, timeoutMs);
      const onMessage = (message: T): void => {
        if (message.type !== type) return;
        cleanUp();
        resolve(message);
      };
      const onExit = (code: number | null): void => {
        cleanUp();
        reject(new Error(`${name} ${child.pid} exited (${code}) before ${type}`));
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  await next('ready', 30_000);
  return {
    pid: child.pid ?? 0,
    send: (message) => {
      if (child.connected) child.send(message);
    },
    next,
    close: () => {
      if (child.connected) child.send({ type: 'close' });
      setTimeout(() => child.kill('SIGKILL'), 3000).unref();
    },
  };
}
