/**
 * npm run bench:worker-builds -- --a PATH --b PATH [--listeners 600] [--ramp-seconds 60]
 *   [--duration-seconds 30] [--rounds 3] [--out FILE]
 *
 * Two builds of the mediasoup worker, side by side in the same window: two relais processes run
 * at once, one on worker A and one on worker B (one worker each, one router), each serving half
 * the listeners of the same faithful audio briefing (its own speaker, its own listener process).
 * Both see the same machine at the same instants, so drift between runs (up to 25 % here from one
 * run to the next) cancels out of their ratio, which a sequential A, B, A, B comparison cannot
 * promise. Each round swaps which one starts first; the median of the rounds' ratios is reported.
 * Writes bench/results/worker-builds-<date>.json.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { mintTestToken } from '../../tools/testTokens.js';
import { runLoad } from '../load/LoadGenerator.js';
import type { GroupCounts } from '../load/listenerGroup.js';
import { cpuSeconds, median } from '../load/procStat.js';
import { writeResults } from '../load/resultFiles.js';
import { machine, startTarget, type Target, workerIoOf } from './target.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { values } = parseArgs({
  options: {
    a: { type: 'string' },
    b: { type: 'string' },
    listeners: { type: 'string', default: '600' },
    'ramp-seconds': { type: 'string', default: '60' },
    'duration-seconds': { type: 'string', default: '30' },
    rounds: { type: 'string', default: '3' },
    out: { type: 'string' },
  },
});
const builds = { A: values.a, B: values.b };
if (!builds.A || !builds.B) throw new Error('--a and --b name the two worker binaries');
const listeners = Number(values.listeners);
const rampSeconds = Number(values['ramp-seconds']);
const durationSeconds = Number(values['duration-seconds']);
const rounds = Number(values.rounds);
if (![listeners, rampSeconds, durationSeconds, rounds].every((n) => Number.isInteger(n) && n > 0) || listeners < 2)
  throw new Error('numeric options must be positive integers, at least 2 listeners');
const SECRET = 'relais-bench-secret-0123456789-abcdefghijklmn';
const ROOM = 'briefing-bench';
const log = (line: string): void => console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
const budget = (rounds * (rampSeconds + durationSeconds + 90) + 300) * 1000;
setTimeout(() => {
  console.error('benchmark: hard deadline reached, exiting');
  process.exit(2);
}, budget).unref();

interface Side {
  build: 'A' | 'B';
  joined: number;
  deliveredPct: number;
  deliveredPackets: number;
  windowSeconds: number;
  nodeCpuSeconds: number;
  workerCpuSeconds: number;
  /** The relais process and its worker, µs per packet the listeners counted in the window. */
  usPerDeliveredPacket: number;
  /** The worker alone: what a worker build changes. */
  workerUsPerDeliveredPacket: number;
  workerIo: string;
}

/** One side's briefing on its own relais, CPU and the listeners' counters read at the same two instants. */
async function side(build: 'A' | 'B', target: Target, share: number): Promise<Side> {
  const [workerPid] = target.workerPids;
  if (workerPid === undefined) throw new Error(`${build}: relais started no worker`);
  const read = async (counts: () => Promise<GroupCounts>) => {
    const counted = counts();
    const at = performance.now();
    const cpu = { node: cpuSeconds(target.pid), worker: cpuSeconds(workerPid) };
    return { at, cpu, packets: (await counted).audio };
  };
  let start: Awaited<ReturnType<typeof read>> | undefined;
  let end: Awaited<ReturnType<typeof read>> | undefined;
  const key = { algorithm: 'HS256' as const, key: SECRET };
  const load = await runLoad({
    url: target.url,
    listeners: share,
    rampSeconds,
    concurrency: 10,
    durationSeconds,
    processes: 1,
    decodeSample: 0,
    fidelity: 'chrome',
    token: (role, sub) => mintTestToken(key, { room: ROOM, role, sub, name: sub }),
    log: (line) => log(`${build}: ${line}`),
    onSteady: async (counts) => {
      await new Promise((resolve) => setTimeout(resolve, 2000)); // the last joins' DTLS and first RTCP
      start = await read(counts);
    },
    onSteadyEnd: async (counts) => {
      end = await read(counts);
    },
  });
  if (!start || !end) throw new Error(`${build}: the steady window was not measured`);
  const delivered = end.packets - start.packets;
  const node = end.cpu.node - start.cpu.node;
  const worker = end.cpu.worker - start.cpu.worker;
  return {
    build,
    joined: load.joined,
    deliveredPct: load.deliveredPct,
    deliveredPackets: delivered,
    windowSeconds: Number(((end.at - start.at) / 1000).toFixed(2)),
    nodeCpuSeconds: Number(node.toFixed(2)),
    workerCpuSeconds: Number(worker.toFixed(2)),
    usPerDeliveredPacket: Number((((node + worker) * 1e6) / Math.max(1, delivered)).toFixed(2)),
    workerUsPerDeliveredPacket: Number(((worker * 1e6) / Math.max(1, delivered)).toFixed(2)),
    workerIo: workerIoOf(workerPid),
  };
}

async function round(index: number): Promise<{ round: number; sides: Side[]; ratio: number; workerRatio: number }> {
  const order: ('A' | 'B')[] = index % 2 ? ['A', 'B'] : ['B', 'A'];
  const targets = new Map<'A' | 'B', Target>();
  try {
    for (const build of order)
      targets.set(
        build,
        await startTarget('relaisProcess.ts', {
          workers: 1,
          perRouter: '3000',
          secret: SECRET,
          room: ROOM,
          env: { MEDIASOUP_WORKER_BIN: builds[build] as string },
        }),
      );
    await new Promise((resolve) => setTimeout(resolve, 2000));
    log(`round ${index}: ${order.join(' then ')}, ${listeners / 2} listeners each, at once`);
    const sides = await Promise.all(
      order.map((build) => side(build, targets.get(build) as Target, Math.floor(listeners / 2))),
    );
    const a = sides.find((s) => s.build === 'A') as Side;
    const b = sides.find((s) => s.build === 'B') as Side;
    const result = {
      round: index,
      sides,
      ratio: Number((a.usPerDeliveredPacket / b.usPerDeliveredPacket).toFixed(3)),
      workerRatio: Number((a.workerUsPerDeliveredPacket / b.workerUsPerDeliveredPacket).toFixed(3)),
    };
    log(
      `round ${index}: A ${a.usPerDeliveredPacket} µs (worker ${a.workerUsPerDeliveredPacket}), ${a.deliveredPct} % delivered; ` +
        `B ${b.usPerDeliveredPacket} µs (worker ${b.workerUsPerDeliveredPacket}), ${b.deliveredPct} % delivered; A/B ${result.ratio} (worker ${result.workerRatio})`,
    );
    return result;
  } finally {
    for (const target of targets.values()) await target.stop();
  }
}

const date = new Date().toISOString().slice(0, 10);
const loadAverageAtStart = Number(os.loadavg()[0]?.toFixed(2));
const results = [];
for (let r = 1; r <= rounds; r++) results.push(await round(r));
const summary = {
  name: 'worker-builds',
  date,
  command: `npm run bench:worker-builds -- ${process.argv.slice(2).join(' ')}`.trim(),
  machine: machine(),
  loadAverageAtStart,
  builds,
  listeners,
  rampSeconds,
  durationSeconds,
  aOverBMedian: Number(median(results.map((r) => r.ratio)).toFixed(3)),
  aOverBWorkerMedian: Number(median(results.map((r) => r.workerRatio)).toFixed(3)),
  rounds: results,
};
const out = values.out ?? path.join(root, 'bench/results', `worker-builds-${date}.json`);
writeResults(out, summary, []);
log(
  `wrote ${path.relative(root, out)}: A/B median ${summary.aOverBMedian} (worker alone ${summary.aOverBWorkerMedian})`,
);
console.log(JSON.stringify(summary, null, 2));
process.exit(0);
