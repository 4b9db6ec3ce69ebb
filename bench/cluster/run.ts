import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePortRange } from '../../tools/freePorts.js';
import { LOCAL_SECRET } from '../../tools/localRelais.js';
import { startPrivateRedis } from '../../tools/redisServer.js';
import { mintTestToken } from '../../tools/testTokens.js';
import { type RelaisProcess, startRelaisProcess, workerPids } from '../../test/support/relaisProcess.js';
import { type LoadResult, runLoad } from '../load/LoadGenerator.js';
import { pinToCpus } from '../load/cpuPinning.js';
import { cpuSeconds, median, rssBytes } from '../load/procStat.js';
import { writeResults } from '../load/resultFiles.js';
import { RedisCommandCounter } from './redisCommandCounter.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { values } = parseArgs({
  options: {
    listeners: { type: 'string', default: '600' },
    'ramp-seconds': { type: 'string', default: '60' },
    'duration-seconds': { type: 'string', default: '20' },
    // After the ramp, each Node.js process spends ~15 s on the joins' tail (garbage collection,
    // the last summaries): join costs, not forwarding, and paid once per process. The CPU window
    // opens after it.
    'settle-seconds': { type: 'string', default: '15' },
    // A Node.js process's RSS falls for tens of seconds after start (the TypeScript loader's
    // garbage, V8 giving back the start-up heap): idle memory is read this long after the start.
    'idle-after-seconds': { type: 'string', default: '40' },
    concurrency: { type: 'string', default: '20' },
    processes: { type: 'string', default: '2' },
    order: { type: 'string', default: 'cluster,single' },
    label: { type: 'string' },
    // Each relais process writes a V8 CPU profile of its main thread there when it stops.
    'cpu-prof': { type: 'string' },
    // CPU lists (taskset), e.g. --pin-sfu 0 --pin-generator 1: the relais processes, their workers
    // and Redis on the first, this process and its listener processes on the second, so that the
    // cluster and the single node get the same core to themselves.
    'pin-sfu': { type: 'string' },
    'pin-generator': { type: 'string' },
  },
});
const pinSfu = values['pin-sfu'];
const pinGenerator = values['pin-generator'];
// Listener processes forked from here inherit the mask.
if (pinGenerator) pinToCpus(process.pid, pinGenerator);
const listeners = Number(values.listeners);
const rampSeconds = Number(values['ramp-seconds']);
const durationSeconds = Number(values['duration-seconds']);
const settleSeconds = Number(values['settle-seconds']);
const idleAfterSeconds = Number(values['idle-after-seconds']);
const concurrency = Number(values.concurrency);
const processes = Number(values.processes);
const KINDS = ['cluster', 'single', 'workers', 'default'] as const;
const order = (values.order ?? '').split(',').filter((s): s is Kind => (KINDS as readonly string[]).includes(s));
if (
  ![listeners, rampSeconds, durationSeconds, settleSeconds, idleAfterSeconds, concurrency, processes].every(
    (n) => Number.isInteger(n) && n >= 0,
  )
)
  throw new Error('numeric options must be non-negative integers');
if (listeners < 3 || listeners > 3000) throw new Error('--listeners must be within 3..3000');
if (order.length === 0) throw new Error('--order lists cluster, single and/or workers');
// Whatever happens, the benchmark ends.
setTimeout(
  () => {
    console.error('benchmark: hard deadline reached, exiting');
    process.exit(2);
  },
  (order.length * (idleAfterSeconds + rampSeconds + settleSeconds + durationSeconds + 120) + 300) * 1000,
).unref();

/**
 * cluster: three nodes of one worker; single: one node of one worker; workers: one node with as
 * many workers as the cluster has nodes (the room's listeners spread over them with pipeToRouter),
 * which pays the same number of worker processes on this machine's two cores as the cluster does,
 * so that cluster / workers is what the cluster itself costs (Redis, three Node.js processes, pipes
 * over UDP instead of inside one process); default: one node as shipped (RELAIS_WORKERS and
 * RELAIS_CONSUMERS_PER_ROUTER left to their defaults: a worker per core, 250 listeners per router,
 * so here two workers sharing the room).
 */
type Kind = (typeof KINDS)[number];
const CLUSTER_NODES = 3;
const ROOM = 'briefing-cluster-bench';
const CLUSTER_SECRET = 'relais-bench-cluster-secret-0123456789abcdef';
const log = (line: string): void => console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

/** The relais process and its mediasoup worker(s): what the SFU costs. */
function pidsOf(node: RelaisProcess): number[] {
  return [node.child.pid ?? 0, ...workerPids(node)];
}

interface NodeFigures {
  node: string;
  listeners: number;
  cpuSeconds: number;
  /** The same CPU split: the Node.js process (signalling, Redis, control of the worker) and its worker(s). */
  nodeProcessCpuSeconds: number;
  workerCpuSeconds: number;
  workers: number;
  /** CPU the node used per second before any room existed (timers, heartbeats, the adapter's reads). */
  idleCpuPerSecond: number;
  usPerDeliveredPacket: number;
  rssMiB: number;
}

interface ScenarioResult {
  kind: Kind;
  nodes: number;
  result: LoadResult;
  windowSeconds: number;
  deliveredInWindow: number;
  /** Every relais process, its workers and (cluster) Redis, over the window. */
  cpuSeconds: number;
  redisCpuSeconds: number;
  usPerDeliveredPacket: number;
  perNode: NodeFigures[];
  /** RSS at steady state less RSS at idle (read --idle-after-seconds after start), per listener joined. */
  memoryPerListenerKiB: number;
  nodeProcessMemoryPerListenerKiB: number;
  workerMemoryPerListenerKiB: number;
  idleRssMiB: { nodeProcesses: number; workers: number };
  redis?: { commandsPerJoin: number; backgroundPerSecond: number; rampCommands: number };
}

async function scenario(kind: Kind): Promise<ScenarioResult> {
  const count = kind === 'cluster' ? CLUSTER_NODES : 1;
  const redis = kind === 'cluster' ? await startPrivateRedis() : undefined;
  if (redis?.pid && pinSfu) pinToCpus(redis.pid, pinSfu);
  const counter = redis ? await RedisCommandCounter.start(redis.port) : undefined;
  const nodes: RelaisProcess[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const pipeBase = await freePortRange(20);
      nodes.push(
        await startRelaisProcess(
          {
            RELAIS_LOG_LEVEL: 'warn',
            // One router per worker holds all its listeners, except for `workers`, whose room must
            // spread evenly over its workers as the cluster's spreads over its nodes.
            ...(kind === 'default'
              ? { RELAIS_WORKERS: String(os.availableParallelism()) }
              : {
                  RELAIS_CONSUMERS_PER_ROUTER:
                    kind === 'workers' ? String(Math.ceil(listeners / CLUSTER_NODES)) : '3000',
                }),
            ...(kind === 'workers' ? { RELAIS_WORKERS: String(CLUSTER_NODES) } : {}),
            ...(counter
              ? {
                  RELAIS_REDIS_URL: `redis://127.0.0.1:${counter.port}`,
                  RELAIS_NODE_ID: `node-${i + 1}`,
                  RELAIS_CLUSTER_ADDRESS: '127.0.0.1',
                  RELAIS_CLUSTER_SECRET: CLUSTER_SECRET,
                  RELAIS_PIPE_PORT_MIN: String(pipeBase),
                  RELAIS_PIPE_PORT_MAX: String(pipeBase + 19),
                }
              : {}),
          },
          {},
          values['cpu-prof']
            ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(values['cpu-prof'], `${kind}-${i + 1}`)}`]
            : [],
        ),
      );
    }
    const pids = nodes.map(pidsOf);
    if (pinSfu) for (const pid of pids.flat()) pinToCpus(pid, pinSfu);
    const redisCpu = (): number => (redis?.pid ? cpuSeconds(redis.pid) : 0);
    // What each node costs with nothing to do, over the last seconds before the first join.
    const IDLE_SECONDS = 10;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, idleAfterSeconds - IDLE_SECONDS) * 1000));
    const nodeCpu = (): number[] => pids.map((list) => list.reduce((sum, pid) => sum + cpuSeconds(pid), 0));
    const idleStart = nodeCpu();
    await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000));
    const idlePerSecond = nodeCpu().map((end, i) => (end - (idleStart[i] ?? 0)) / IDLE_SECONDS);
    // The nodes' Node.js processes apart from their workers, as CPU is split below.
    const rssOf = (): { node: number; workers: number } => ({
      node: pids.reduce((sum, [nodePid]) => sum + rssBytes(nodePid ?? 0), 0),
      workers: pids.reduce((sum, [, ...list]) => sum + list.reduce((s2, pid) => s2 + rssBytes(pid), 0), 0),
    });
    const idleRss = rssOf();
    let cpuAtStart: number[][] = [];
    let cpuAtEnd: number[][] = [];
    let redisCpuAtStart = 0;
    let redisCpuAtEnd = 0;
    let rssAtSteady = { node: 0, workers: 0 };
    let commandsAtRampStart = counter?.commands ?? 0;
    let commandsAtSteady = 0;
    let commandsAtEnd = 0;
    let steadyStartedAt = 0;
    let audioAtStart = 0;
    let audioAtEnd = 0;
    let windowSeconds = 0;
    // Per node: [its Node.js process, its worker(s)].
    const cpuOf = (): number[][] =>
      pids.map(([own, ...workers]) => [cpuSeconds(own ?? 0), workers.reduce((sum, pid) => sum + cpuSeconds(pid), 0)]);
    commandsAtRampStart = counter?.commands ?? 0;
    const result = await runLoad({
      url: (nodes[0] as RelaisProcess).url,
      listenerUrls: nodes.map((node) => node.url),
      listeners,
      rampSeconds,
      concurrency,
      durationSeconds,
      processes,
      decodeSample: 6,
      token: (role, sub) =>
        mintTestToken({ algorithm: 'HS256', key: LOCAL_SECRET }, { room: ROOM, role, sub, name: sub }),
      log,
      // CPU and the packets listeners counted, read at the same two instants.
      onSteady: async (counts) => {
        await new Promise((resolve) => setTimeout(resolve, settleSeconds * 1000));
        commandsAtSteady = counter?.commands ?? 0;
        rssAtSteady = rssOf();
        cpuAtStart = cpuOf();
        redisCpuAtStart = redisCpu();
        audioAtStart = (await counts()).audio;
        steadyStartedAt = performance.now();
      },
      onSteadyEnd: async (counts) => {
        cpuAtEnd = cpuOf();
        redisCpuAtEnd = redisCpu();
        audioAtEnd = (await counts()).audio;
        windowSeconds = (performance.now() - steadyStartedAt) / 1000;
        commandsAtEnd = counter?.commands ?? 0;
      },
    });
    for (const [i, node] of nodes.entries())
      if (!node.alive || !pids[i]?.every((pid) => cpuSeconds(pid) > 0))
        throw new Error(`${kind}: node ${i + 1} or its worker died during the run`);
    // Packets the listeners counted in the window (delivered, not sent).
    const deliveredInWindow = audioAtEnd - audioAtStart;
    const split = cpuAtEnd.map((end, i) => end.map((value, j) => value - (cpuAtStart[i]?.[j] ?? 0)));
    const cpu = split.map(([own = 0, workers = 0]) => own + workers);
    // Redis is part of what the cluster costs (the single node has none).
    const redisCpuSeconds = redisCpuAtEnd - redisCpuAtStart;
    const cpuTotal = cpu.reduce((a, b) => a + b, 0) + redisCpuSeconds;
    const okByNode = nodes.map((_, n) => result.perListener.filter((l) => l.ok && l.id % nodes.length === n).length);
    const perNode = nodes.map((_node, n) => {
      const share = (okByNode[n] ?? 0) / Math.max(1, result.joined);
      return {
        node: kind === 'cluster' ? `node-${n + 1}` : kind,
        listeners: okByNode[n] ?? 0,
        cpuSeconds: Number((cpu[n] ?? 0).toFixed(2)),
        nodeProcessCpuSeconds: Number((split[n]?.[0] ?? 0).toFixed(2)),
        workerCpuSeconds: Number((split[n]?.[1] ?? 0).toFixed(2)),
        workers: (pids[n]?.length ?? 1) - 1,
        idleCpuPerSecond: Number((idlePerSecond[n] ?? 0).toFixed(3)),
        usPerDeliveredPacket: Number((((cpu[n] ?? 0) * 1e6) / Math.max(1, deliveredInWindow * share)).toFixed(2)),
        rssMiB: Number(((pids[n] ?? []).reduce((sum, pid) => sum + rssBytes(pid), 0) / 2 ** 20).toFixed(1)),
      };
    });
    // Commands are read after the settle: the ramp and the settle, less the background over both.
    const rampSecondsActual = result.rampActualSeconds + settleSeconds;
    const backgroundPerSecond = windowSeconds > 0 ? (commandsAtEnd - commandsAtSteady) / windowSeconds : 0;
    const rampCommands = commandsAtSteady - commandsAtRampStart;
    return {
      kind,
      nodes: count,
      result,
      windowSeconds: Number(windowSeconds.toFixed(2)),
      deliveredInWindow: Math.round(deliveredInWindow),
      cpuSeconds: Number(cpuTotal.toFixed(2)),
      redisCpuSeconds: Number(redisCpuSeconds.toFixed(3)),
      usPerDeliveredPacket: Number(((cpuTotal * 1e6) / Math.max(1, deliveredInWindow)).toFixed(2)),
      perNode,
      memoryPerListenerKiB: Number(
        (
          (rssAtSteady.node + rssAtSteady.workers - idleRss.node - idleRss.workers) /
          1024 /
          Math.max(1, result.joined)
        ).toFixed(1),
      ),
      nodeProcessMemoryPerListenerKiB: Number(
        ((rssAtSteady.node - idleRss.node) / 1024 / Math.max(1, result.joined)).toFixed(1),
      ),
      workerMemoryPerListenerKiB: Number(
        ((rssAtSteady.workers - idleRss.workers) / 1024 / Math.max(1, result.joined)).toFixed(1),
      ),
      idleRssMiB: {
        nodeProcesses: Number((idleRss.node / 2 ** 20).toFixed(1)),
        workers: Number((idleRss.workers / 2 ** 20).toFixed(1)),
      },
      ...(counter
        ? {
            redis: {
              // The joins' own commands: the ramp's, less what the nodes send anyway (heartbeats, the
              // adapter's stream reads, the dead-node sweep) at the steady window's rate.
              commandsPerJoin: Number(
                ((rampCommands - backgroundPerSecond * rampSecondsActual) / Math.max(1, result.joined)).toFixed(2),
              ),
              backgroundPerSecond: Number(backgroundPerSecond.toFixed(1)),
              rampCommands,
            },
          }
        : {}),
    };
  } finally {
    for (const node of nodes) await node.stop();
    await counter?.close();
    await redis?.stop();
  }
}

const started = new Date();
const runs: ScenarioResult[] = [];
for (const kind of order) {
  log(`${kind}: ${listeners} listeners, ramp ${rampSeconds} s, steady ${durationSeconds} s`);
  runs.push(await scenario(kind));
  const last = runs.at(-1) as ScenarioResult;
  log(
    `${kind}: delivered ${last.result.deliveredPct} %, failed ${last.result.failedJoins}, ` +
      `first audio p95 ${last.result.joinToFirstAudioMs.p95} ms, ${last.usPerDeliveredPacket} µs/packet`,
  );
}
const of = (kind: Kind) => runs.filter((run) => run.kind === kind).map((run) => run.usPerDeliveredPacket);
const ratioTo = (base: Kind): number | undefined =>
  of('cluster').length && of(base).length ? Number((median(of('cluster')) / median(of(base))).toFixed(3)) : undefined;
const ratio = ratioTo('single');
const ratioToWorkers = ratioTo('workers');
const ratioToDefault = ratioTo('default');
const machine = {
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cores: os.cpus().length,
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  loadAverageAtStart: os.loadavg().map((x) => Number(x.toFixed(2))),
};
const summary = {
  benchmark: 'cluster briefing',
  date: started.toISOString(),
  command: `npm run bench:cluster -- ${process.argv.slice(2).join(' ')}`.trim(),
  machine,
  listeners,
  rampSeconds,
  durationSeconds,
  settleSeconds,
  idleAfterSeconds,
  order,
  pinned: pinSfu || pinGenerator ? { sfu: pinSfu ?? null, generator: pinGenerator ?? null } : null,
  clusterToSingleUsPerPacketRatio: ratio,
  clusterToSameWorkersUsPerPacketRatio: ratioToWorkers,
  clusterToDefaultNodeUsPerPacketRatio: ratioToDefault,
  runs: runs.map(({ result, ...run }) => {
    const { perListener: _perListener, generatorPids: _pids, ...load } = result;
    return { ...run, load };
  }),
};
const name = `cluster-${started.toISOString().slice(0, 10)}${values.label ? `-${values.label}` : ''}.json`;
const files = writeResults(
  path.join(root, 'bench/results', name),
  summary,
  runs.flatMap((run) => run.result.perListener.map((listener) => ({ ...listener, run: run.kind }))),
);
console.log(JSON.stringify({ ...summary, runs: summary.runs.map((r) => ({ ...r, load: undefined })) }, null, 2));
log(
  `written ${path.relative(root, files.summaryFile)}; cluster/single µs per delivered packet: ${ratio}; cluster/workers: ${ratioToWorkers}; cluster/default: ${ratioToDefault}`,
);
// Whatever is left open (a child's IPC channel, a socket being closed), the benchmark ends here.
process.exit(0);
