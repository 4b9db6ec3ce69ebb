/**
 * npm run bench:resilience -- [--listeners 300] [--scenarios node-kill,commander-kill,drain,redis-outage]
 *   [--processes 2] [--recovery-seconds 25] [--label NAME] [--out FILE]
 *
 * Issue 13's failures, each on a fresh cluster (a private redis-server, three relais processes
 * with one worker each, a TCP balancer in front of their signalling): the commander speaks on
 * node 1, the listeners are spread evenly over the three nodes, and every peer recovers as a
 * page does (reconnects through the balancer with backoff and jitter, follows a redirect,
 * follows the commander's microphone published again). Scenarios:
 *   node-kill       kill -9 of node 3 (its listeners come back elsewhere)
 *   commander-kill  kill -9 of node 1 (the commander publishes again elsewhere; everyone follows)
 *   drain           POST /admin/nodes/node-3/drain (its listeners follow the redirect)
 *   redis-outage    redis-server killed for 30 s, then restarted from its append-only file
 * For each: listeners affected, time from the event to their audio back (p50/p95/max), packets
 * they lost, sessions lost (a listener silent at the end, or the commander not back: must be 0),
 * and the others' delivery. Writes bench/results/resilience-<date>[-label].json and prints a
 * markdown table for BENCHMARKS.md.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { GroupCounts } from '../load/listenerGroup.js';
import { type LoadResult, runLoad } from '../load/LoadGenerator.js';
import type { ListenerReport } from '../load/rtcListener.js';
import { type Spread, sleep } from '../load/reconnect.js';
import { writeResults } from '../load/resultFiles.js';
import { startTcpBalancer } from '../../tools/tcpBalancer.js';
import { backAfter, deliveredPct, killHard } from '../../test/support/nodeKill.js';
import type { RelaisProcess } from '../../test/support/relaisProcess.js';
import { startTestCluster, type TestCluster } from '../../test/support/threeNodeCluster.js';
import { eventually } from '../../test/support/wait.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SCENARIOS = ['node-kill', 'commander-kill', 'drain', 'redis-outage'] as const;
type Scenario = (typeof SCENARIOS)[number];

const { values } = parseArgs({
  options: {
    listeners: { type: 'string', default: '300' },
    scenarios: { type: 'string', default: SCENARIOS.join(',') },
    processes: { type: 'string', default: '2' },
    'recovery-seconds': { type: 'string', default: '25' },
    label: { type: 'string' },
    /** Where the summary goes instead of bench/results (the smoke test). */
    out: { type: 'string' },
  },
});
const listeners = Number(values.listeners);
const processes = Number(values.processes);
const scenarios = (values.scenarios ?? '').split(',').filter((s): s is Scenario => SCENARIOS.includes(s as Scenario));
if (!Number.isInteger(listeners) || listeners < 3 || listeners > 3000) throw new Error('--listeners: 3..3000');
if (!Number.isInteger(processes) || processes < 0 || processes > 16) throw new Error('--processes: 0..16');
if (scenarios.length === 0) throw new Error(`--scenarios lists some of ${SCENARIOS.join(', ')}`);
if (values.label && !/^[\w.-]+$/.test(values.label)) throw new Error('--label: letters, digits, . _ -');

const REDIS_OUTAGE_MS = 30_000;
/** After a kill, the listeners have this long to come back before the run ends (bounded, never a hang). */
const RECOVERY_WINDOW_MS = Number(values['recovery-seconds']) * 1000;
if (!Number.isInteger(RECOVERY_WINDOW_MS) || RECOVERY_WINDOW_MS < 1000 || RECOVERY_WINDOW_MS > 300_000)
  throw new Error('--recovery-seconds: 1..300');
const log = (line: string): void => console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

interface ScenarioFigures {
  scenario: Scenario;
  listeners: number;
  joined: number;
  affected: number;
  /** From the event (kill, drain request, Redis killed) to each affected listener's audio back. */
  audioBackMs: Spread | null;
  /** Audio packets the affected listeners lost over the whole run (the gap, mostly). */
  packetsLost: number;
  /** Affected listeners silent at the end, any listener ending in error, the commander not back. */
  sessionsLost: number;
  /** The listeners the event did not touch: their delivery over the run, and how many were interrupted. */
  othersDeliveredPct: number | null;
  othersInterrupted: number;
  commanderRepublishedMs?: number;
  /** node-kill, commander-kill: when the node was out of the registry as seen from a live node. */
  registryMs?: number;
  /** drain: when the drained node had exited. */
  drainedMs?: number;
  /** redis-outage: the listeners' delivery from Redis killed to Redis back (50 packets a second each). */
  outageDeliveredPct?: number;
  load: Omit<LoadResult, 'perListener' | 'generatorPids'>;
}

async function nodeIds(cluster: TestCluster, node: RelaisProcess): Promise<string[]> {
  return ((await cluster.admin(node, 'GET', '/nodes')).body.nodes as { id: string }[]).map((n) => n.id);
}

/**
 * A port found free may be taken before the node binds it (the generator's peers bind ephemeral
 * UDP ports in the same range while the previous scenario winds down): try again, a few times.
 */
async function startCluster(redisAppendOnly: boolean): Promise<TestCluster> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startTestCluster(3, () => ({ RELAIS_LOG_LEVEL: 'warn', RELAIS_CONSUMERS_PER_ROUTER: '3000' }), {
        redisAppendOnly,
      });
    } catch (error) {
      if (attempt >= 3) throw error;
      log(`cluster start failed (${(error as Error).message.split('\n')[0]}), again`);
    }
  }
}

async function run(scenario: Scenario): Promise<{ figures: ScenarioFigures; perListener: ListenerReport[] }> {
  const cluster = await startCluster(scenario === 'redis-outage');
  const balancer = await startTcpBalancer(cluster.nodes.map((node) => node.httpPort));
  try {
    const [n1, n2, n3] = cluster.nodes as [RelaisProcess, RelaisProcess, RelaisProcess];
    const room = `resilience-${scenario}`;
    let eventAt = 0;
    const extra: Partial<ScenarioFigures> = {};
    const onSteady = async (counts: () => Promise<GroupCounts>): Promise<void> => {
      log(`${scenario}: steady, the event now`);
      if (scenario === 'node-kill' || scenario === 'commander-kill') {
        const victim = scenario === 'node-kill' ? n3 : n1;
        const watcher = n2;
        eventAt = await killHard(victim);
        const gone = scenario === 'node-kill' ? 'node-3' : 'node-1';
        await eventually(
          'the node out of the registry',
          async () => !(await nodeIds(cluster, watcher)).includes(gone),
          30_000,
          100,
        )
          .then(() => {
            extra.registryMs = Date.now() - eventAt;
          })
          .catch(() => undefined);
        await sleep(Math.max(0, RECOVERY_WINDOW_MS - (Date.now() - eventAt)));
      } else if (scenario === 'drain') {
        eventAt = Date.now();
        const answer = await cluster.admin(n1, 'POST', '/nodes/node-3/drain');
        if (answer.status !== 202) throw new Error(`drain refused: ${answer.status} ${JSON.stringify(answer.body)}`);
        await eventually('node 3 to stop once drained', async () => !n3.alive, 120_000, 200)
          .then(() => {
            extra.drainedMs = Date.now() - eventAt;
          })
          .catch(() => undefined);
        await sleep(5000);
      } else {
        const before = (await counts()).audio;
        eventAt = Date.now();
        await cluster.redis.kill();
        await sleep(REDIS_OUTAGE_MS);
        await cluster.redis.restart();
        const seconds = (Date.now() - eventAt) / 1000;
        const received = (await counts()).audio - before;
        extra.outageDeliveredPct = Number(((100 * received) / (listeners * 50 * seconds)).toFixed(2));
        await sleep(5000);
      }
      log(`${scenario}: event over`);
    };
    const result = await runLoad({
      url: n1.url,
      listenerUrls: [n1.url, n2.url, n3.url],
      listeners,
      rampSeconds: Math.max(5, Math.ceil(listeners / 20)),
      concurrency: 20,
      durationSeconds: 5,
      processes,
      decodeSample: 6,
      reconnectUrl: balancer.url,
      token: (role, sub) => cluster.token({ room, role, sub, name: sub }),
      onSteady,
      log,
    });
    const { perListener, generatorPids: _pids, ...load } = result;
    // Listener i joined node (i mod 3) + 1.
    const onNode = (n: number) => perListener.filter((l) => l.id % 3 === n - 1);
    const affected =
      scenario === 'node-kill' || scenario === 'drain'
        ? onNode(3)
        : scenario === 'commander-kill'
          ? perListener
          : perListener.filter((l) => l.recoveries);
    const others = perListener.filter((l) => !affected.includes(l));
    const back = backAfter(affected, eventAt);
    const speaker = result.speakerRecoveries[0];
    const commanderLost = scenario === 'commander-kill' && !speaker?.republishedAt ? 1 : 0;
    const failed = perListener.filter((l) => !l.ok && !back.silent.includes(l.id)).length;
    const figures: ScenarioFigures = {
      scenario,
      listeners,
      joined: result.joined,
      affected: affected.length,
      audioBackMs: affected.length > 0 ? back.spread : null,
      packetsLost: affected.reduce((sum, l) => sum + l.lost, 0),
      sessionsLost: back.silent.length + failed + commanderLost,
      othersDeliveredPct: others.length > 0 ? deliveredPct(others) : null,
      othersInterrupted: others.filter((l) => l.recoveries).length,
      ...(speaker?.republishedAt ? { commanderRepublishedMs: speaker.republishedAt - eventAt } : {}),
      ...extra,
      load,
    };
    return { figures, perListener };
  } finally {
    await balancer.close();
    await cluster.stop();
  }
}

const started = new Date();
const results: ScenarioFigures[] = [];
const detail: (ListenerReport & { scenario: Scenario })[] = [];
for (const scenario of scenarios) {
  log(`${scenario}: ${listeners} listeners over three nodes`);
  const { figures, perListener } = await run(scenario);
  results.push(figures);
  detail.push(...perListener.map((l) => ({ ...l, scenario })));
  log(
    `${scenario}: ${figures.affected} affected, audio back p95 ${figures.audioBackMs?.p95 ?? '–'} ms, sessions lost ${figures.sessionsLost}`,
  );
}

const ms = (value: number | undefined): string =>
  value === undefined || !Number.isFinite(value) ? '–' : (value / 1000).toFixed(1);
const table = [
  '| scenario | listeners (affected) | audio back p50 / p95 / max (s) | packets lost (affected) | sessions lost | others delivered | notes |',
  '|---|---|---|---|---|---|---|',
  ...results.map((r) => {
    const notes = [
      r.registryMs !== undefined ? `out of registry ${ms(r.registryMs)} s` : '',
      r.commanderRepublishedMs !== undefined ? `commander republished ${ms(r.commanderRepublishedMs)} s` : '',
      r.drainedMs !== undefined ? `node drained and stopped ${ms(r.drainedMs)} s` : '',
      r.outageDeliveredPct !== undefined ? `delivered during the outage ${r.outageDeliveredPct} %` : '',
      r.othersInterrupted > 0 ? `${r.othersInterrupted} others interrupted` : '',
    ].filter(Boolean);
    const back = r.audioBackMs ? `${ms(r.audioBackMs.p50)} / ${ms(r.audioBackMs.p95)} / ${ms(r.audioBackMs.max)}` : '–';
    return `| ${r.scenario} | ${r.joined} (${r.affected}) | ${back} | ${r.packetsLost} | ${r.sessionsLost} | ${r.othersDeliveredPct ?? '–'} % | ${notes.join('; ')} |`;
  }),
].join('\n');

const summary = {
  benchmark: 'resilience',
  date: started.toISOString(),
  command: `npm run bench:resilience -- ${process.argv.slice(2).join(' ')}`.trim(),
  machine: {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    loadAverageAtStart: os.loadavg().map((x) => Number(x.toFixed(2))),
  },
  listeners,
  scenarios: results,
  table,
};
const name = `resilience-${started.toISOString().slice(0, 10)}${values.label ? `-${values.label}` : ''}.json`;
const files = writeResults(values.out ?? path.join(root, 'bench/results', name), summary, detail);
console.log(table);
log(`written ${path.relative(root, files.summaryFile)}`);
// As the other benches: libdatachannel's threads would keep the process alive after the last peer closed.
process.exit(0);
