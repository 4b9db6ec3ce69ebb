import { execFileSync } from 'node:child_process';

/**
 * Confines a process and all its threads to the given CPUs (`taskset -a -p -c`), e.g. `'0'` or
 * `'0-1'`. Benchmarks use it to give the SFU and the load generator a core each, so that a
 * comparison of two SFU layouts is not also one of how the scheduler mixed them with the
 * generator. Children forked afterwards inherit the mask.
 */
export function pinToCpus(pid: number, cpus: string): void {
  if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(cpus)) throw new Error(`not a CPU list: '${cpus}'`);
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}
