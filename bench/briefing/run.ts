/**
 * npm run bench:briefing -- [--listeners 600] [--ramp-seconds 60] [--duration-seconds 30]
 *   [--concurrency 20] [--processes 2] [--workers 2] [--repetitions 2] [--no-lean] [--no-baseline]
 *   [--name briefing] [--out FILE] [--no-row] [--b-worker PATH] [--listener-nice 10]
 *
 * One briefing: relais in its own process (RELAIS_WORKERS workers), one speaker looping an
 * Opus tone, N real WebRTC listeners from the load generator offering what Chrome offers.
 * The same load runs against bare mediasoup (bareMediasoupProcess.ts), alternately with relais
 * (relais, bare, relais, bare … `--repetitions` pairs) so that machine drift favours neither; the
 * median of the pairs' ratios is reported. Then one pair with the lean listeners of the first
 * benchmarks (Opus only, no extensions, no RTCP), for comparison. Writes the summary
 * bench/results/<name>-<date>.json (every figure, every repetition, the machine), the first
 * relais repetition's listeners gzip-compressed beside it, and appends a row to BENCHMARKS.md.
 *
 * `--b-worker PATH` compares two builds of the mediasoup worker instead: the B side is relais
 * again, with the worker at PATH (the A side uses MEDIASOUP_WORKER_BIN); the ratio is A / B, and
 * no row is written (the briefing table's columns name bare mediasoup).
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { mintTestToken } from '../../tools/testTokens.js';
import { runLoad, type LoadResult } from '../load/LoadGenerator.js';
import type { GroupCounts } from '../load/listenerGroup.js';
import type { Fidelity } from '../load/peers.js';
import { median, totalCpuSeconds, totalRssBytes, udpReceiveDrops } from '../load/procStat.js';
import { insertRow, writeResults } from '../load/resultFiles.js';
import { machine, messagesSent, startTarget, workerIoOf } from './target.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { values } = parseArgs({
  options: {
    listeners: { type: 'string', default: '600' },
    'ramp-seconds': { type: 'string', default: '60' },
    'duration-seconds': { type: 'string', default: '30' },
    concurrency: { type: 'string', default: '20' },
    processes: { type: 'string' },
    workers: { type: 'string', default: '2' },
    'consumers-per-router': { type: 'string', default: '250' },
    'no-baseline': { type: 'boolean', default: false },
    'no-lean': { type: 'boolean', default: false },
    repetitions: { type: 'string', default: '2' },
    name: { type: 'string', default: 'briefing' },
    video: { type: 'boolean', default: false },
    'no-row': { type: 'boolean', default: false },
    out: { type: 'string' },
    'b-worker': { type: 'string' },
    // Listener processes yield the CPU to the SFU and the speaker (see GroupPlan.nice); -1: not reniced.
    'listener-nice': { type: 'string', default: '10' },
  },
});
const bWorker = values['b-worker'];
const listenerNice = Number(values['listener-nice']);
if (!Number.isInteger(listenerNice) || listenerNice < -1 || listenerNice > 19)
  throw new Error('--listener-nice must be an integer within -1 (not reniced) .. 19');
const listeners = Number(values.listeners);
const rampSeconds = Number(values['ramp-seconds']);
const durationSeconds = Number(values['duration-seconds']);
const concurrency = Number(values.concurrency);
const workers = Number(values.workers);
const processes = Number(values.processes ?? Math.max(1, Math.ceil(listeners / 300)));
const perRouter = values['consumers-per-router'];
const repetitions = Number(values.repetitions);
if (
  ![listeners, rampSeconds, durationSeconds, concurrency, workers, processes, repetitions].every(
    (n) => Number.isInteger(n) && n >= 0,
  )
) {
  throw new Error('numeric options must be non-negative integers');
}
const SECRET = 'relais-bench-secret-0123456789-abcdefghijklmn';
const ROOM = 'briefing-bench';
const log = (line: string): void => console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Measured {
  label: string;
  fidelity: Fidelity;
  load: LoadResult;
  sfuPids: number[];
  routers: Record<string, number>;
  rampCpuSeconds: number;
  steadyCpuSeconds: number;
  steadyCpuPct: number;
  /** Packets the listeners counted between the two instants the CPU was read. */
  deliveredPackets: number;
  /** CPU ÷ delivered packets: the headline. */
  usPerPacket: number;
  /** The first benchmarks' divisor (packets the speaker sent in the window × listeners), for comparison. */
  sentTimesListeners: number;
  usPerSentTimesListeners: number;
  rssIdleBytes: number;
  rssSteadyBytes: number;
  bytesPerListener: number;
  messagesPerJoin?: number;
  /** Packets lost between the speaker and the SFU, by the producer's own count. */
  speakerToSfuLost: number;
  /** RTP packets the SFU's consumers sent (relais only), against what the listeners counted: where loss happens. */
  sfuSentPackets?: number;
  listenersReceivedPackets?: number;
  /** Datagrams the kernel dropped at the SFU's full UDP receive buffers during the run (workers' and pipes' sockets). */
  sfuUdpReceiveDrops: number;
  /** Transports whose ICE left 'connected' (consent lapsed), by direction; relais only. */
  iceDisconnects: { send: number; recv: number };
  listenIp: string;
  /** Which SRTP and send path the running worker uses (see workerIoOf). */
  workerSrtp: string;
}

async function measure(
  script: string,
  label: string,
  fidelity: Fidelity,
  env: Record<string, string> = {},
): Promise<Measured> {
  log(`${label}: starting`);
  const target = await startTarget(script, { workers, perRouter, secret: SECRET, room: ROOM, env });
  const pids = [target.pid, ...target.workerPids];
  try {
    await sleep(2000);
    const rssIdleBytes = totalRssBytes(pids);
    const relais = script === 'relaisProcess.ts';
    const messagesBefore = relais ? await messagesSent(target.url) : Number.NaN;
    const cpuStart = totalCpuSeconds(pids);
    let cpuSteadyStart = 0;
    let cpuSteadyEnd = 0;
    let countsStart: GroupCounts = { audio: 0, video: 0 };
    let countsEnd: GroupCounts = { audio: 0, video: 0 };
    let rssSteadyBytes = 0;
    let messagesAfter = Number.NaN;
    let routers: Record<string, number> = {};
    let speakerToSfuLost = 0;
    let sfuSentPackets: number | undefined;
    let iceEvents: { state: string; direction: unknown; at: number }[] = [];
    const key = { algorithm: 'HS256' as const, key: SECRET };
    const load = await runLoad({
      url: target.url,
      listeners,
      rampSeconds,
      concurrency,
      durationSeconds,
      processes,
      decodeSample: 10,
      fidelity,
      video: values.video,
      ...(listenerNice >= 0 ? { listenerNice } : {}),
      token: (role, sub) => mintTestToken(key, { room: ROOM, role, sub, name: sub }),
      log: (line) => log(`${label}: ${line}`),
      // The CPU counters and the listeners' packet counters at the same two instants: the
      // counts request leaves first, the CPU is read while it travels (a few ms of IPC).
      onSteady: async (counts) => {
        if (relais) messagesAfter = await messagesSent(target.url);
        routers = await target.routers();
        await sleep(2000); // let the last joins' DTLS and first RTCP settle
        rssSteadyBytes = totalRssBytes(pids);
        const counted = counts();
        cpuSteadyStart = totalCpuSeconds(pids);
        countsStart = await counted;
      },
      onSteadyEnd: async (counts) => {
        const counted = counts();
        cpuSteadyEnd = totalCpuSeconds(pids);
        countsEnd = await counted;
        const { stats, iceEvents: events, sfuSentPackets: sent } = await target.producerStats();
        sfuSentPackets = sent;
        iceEvents = events ?? [];
        speakerToSfuLost = stats.reduce((sum, s) => sum + (s.packetsLost ?? 0), 0);
      },
    });
    const steadyCpuSeconds = cpuSteadyEnd - cpuSteadyStart;
    const deliveredPackets = countsEnd.audio - countsStart.audio + (countsEnd.video - countsStart.video);
    const sentTimesListeners = load.speakerPacketsSent * load.joined;
    const received = load.packetsReceived + (load.video?.packetsReceived ?? 0);
    // Every process must still be there once the run is over: a replaced worker is an error.
    totalCpuSeconds(pids);
    const sfuUdpReceiveDrops = udpReceiveDrops(pids);
    const result: Measured = {
      label,
      fidelity,
      load,
      sfuPids: pids,
      routers,
      rampCpuSeconds: Number((cpuSteadyStart - cpuStart).toFixed(2)),
      steadyCpuSeconds: Number(steadyCpuSeconds.toFixed(2)),
      steadyCpuPct: Number(((100 * steadyCpuSeconds) / load.steadySeconds).toFixed(1)),
      deliveredPackets,
      usPerPacket: Number(((steadyCpuSeconds * 1e6) / Math.max(1, deliveredPackets)).toFixed(2)),
      sentTimesListeners,
      usPerSentTimesListeners: Number(((steadyCpuSeconds * 1e6) / Math.max(1, sentTimesListeners)).toFixed(2)),
      rssIdleBytes,
      rssSteadyBytes,
      bytesPerListener: Math.round((rssSteadyBytes - rssIdleBytes) / Math.max(1, load.joined)),
      listenIp: target.listenIp,
      workerSrtp: workerIoOf(target.workerPids[0]),
      speakerToSfuLost,
      sfuUdpReceiveDrops,
      ...(sfuSentPackets !== undefined ? { sfuSentPackets, listenersReceivedPackets: received } : {}),
      iceDisconnects: {
        send: iceEvents.filter((e) => e.direction === 'send').length,
        recv: iceEvents.filter((e) => e.direction === 'recv').length,
      },
      ...(relais
        ? { messagesPerJoin: Number(((messagesAfter - messagesBefore) / Math.max(1, load.joined)).toFixed(2)) }
        : {}),
    };
    log(
      `${label}: ${load.joined}/${listeners} joined, ${load.deliveredPct} % delivered${load.video ? ` (video ${load.video.deliveredPct} %, ${load.video.fps.p50} fps, ${load.video.keyframeRequests} keyframe requests)` : ''}, first audio p95 ${load.joinToFirstAudioMs.p95} ms, ` +
        `speaker→SFU lost ${speakerToSfuLost}, dropped at the SFU's full sockets ${sfuUdpReceiveDrops}, at the listeners' ${load.listenerSocketDrops}, SFU sent ${sfuSentPackets ?? '?'} / listeners got ${received}, SFU ${result.steadyCpuPct} % → ${result.usPerPacket} µs/delivered packet (${deliveredPackets} delivered in the window), ${Math.round(result.bytesPerListener / 1024)} KB/listener, routers ${JSON.stringify(routers)}`,
    );
    return result;
  } finally {
    await target.stop();
  }
}

// Whatever happens, the benchmark ends.
const runs = repetitions * (values['no-baseline'] ? 1 : 2) + (values['no-lean'] ? 0 : values['no-baseline'] ? 1 : 2);
const budget = (runs * (rampSeconds + durationSeconds + 60) + 600) * 1000;
setTimeout(() => {
  console.error('benchmark: hard deadline reached, exiting');
  process.exit(2);
}, budget).unref();

const loadAverage = os.loadavg()[0] ?? 0;
const relaisRuns: Measured[] = [];
const bareRuns: Measured[] = [];
// Alternating, relais first then bare, so that drift over the run favours neither.
for (let r = 1; r <= Math.max(1, repetitions); r++) {
  relaisRuns.push(await measure('relaisProcess.ts', `relais #${r}`, 'chrome'));
  if (bWorker)
    bareRuns.push(
      await measure('relaisProcess.ts', `relais, worker ${bWorker} #${r}`, 'chrome', { MEDIASOUP_WORKER_BIN: bWorker }),
    );
  else if (!values['no-baseline'])
    bareRuns.push(await measure('bareMediasoupProcess.ts', `bare mediasoup #${r}`, 'chrome'));
}
const leanRelais =
  values['no-lean'] || bWorker ? undefined : await measure('relaisProcess.ts', 'relais, lean listeners', 'lean');
const leanBare =
  values['no-lean'] || values['no-baseline'] || bWorker
    ? undefined
    : await measure('bareMediasoupProcess.ts', 'bare mediasoup, lean listeners', 'lean');
const ratios = bareRuns.map((b, i) => (relaisRuns[i]?.usPerPacket ?? Number.NaN) / b.usPerPacket);
const relais = relaisRuns[0] as Measured;
const date = new Date().toISOString().slice(0, 10);
const strip = (m: Measured): Omit<Measured, 'load'> & { load: Omit<LoadResult, 'perListener'> } => {
  const { perListener: _perListener, ...load } = m.load;
  return { ...m, load };
};
const round = (n: number, digits = 2): number => Number(n.toFixed(digits));
const worstDelivered = Math.min(...relaisRuns.map((m) => m.load.deliveredPct));
const result = {
  name: values.name,
  listeners,
  rampSeconds,
  durationSeconds,
  concurrency,
  workers,
  repetitions,
  consumersPerRouter: Number(perRouter),
  /** With --b-worker: the B side is relais with this worker, not bare mediasoup. */
  bWorker: bWorker ?? null,
  aWorker: bWorker ? (process.env.MEDIASOUP_WORKER_BIN ?? null) : null,
  loadAverageAtStart: round(loadAverage),
  failedJoins: Math.max(...relaisRuns.map((m) => m.load.failedJoins)),
  /** The worst of relais's repetitions. */
  deliveredPct: worstDelivered,
  joinToFirstAudioMs: relais.load.joinToFirstAudioMs,
  transportConnectedMs: relais.load.connectedMs,
  audioChecked: relais.load.audioChecked,
  audioCheckPassed: relais.load.audioCheckPassed,
  sfuCpuPctSteady: round(median(relaisRuns.map((m) => m.steadyCpuPct)), 1),
  /** Medians over the repetitions, µs of SFU CPU per packet the listeners counted in the window. */
  sfuUsPerDeliveredPacket: round(median(relaisRuns.map((m) => m.usPerPacket))),
  baselineUsPerDeliveredPacket: bareRuns.length ? round(median(bareRuns.map((m) => m.usPerPacket))) : null,
  relaisOverBaselineRatios: ratios.map((x) => round(x, 3)),
  relaisOverBaselineMedian: ratios.length ? round(median(ratios), 3) : null,
  lean: leanRelais
    ? {
        sfuUsPerDeliveredPacket: leanRelais.usPerPacket,
        baselineUsPerDeliveredPacket: leanBare?.usPerPacket ?? null,
        relaisOverBaseline: leanBare ? round(leanRelais.usPerPacket / leanBare.usPerPacket, 3) : null,
        deliveredPct: leanRelais.load.deliveredPct,
      }
    : null,
  /** Video briefing: the first relais repetition's video figures (each repetition's are under `runs`). */
  video: relais.load.video ?? null,
  videoDeliveredPctWorst: values.video ? Math.min(...relaisRuns.map((m) => m.load.video?.deliveredPct ?? 0)) : null,
  capabilitiesOffered: relais.load.negotiated,
  srtpProfiles: relais.load.srtpProfiles,
  serverBytesPerListener: relais.bytesPerListener,
  baselineBytesPerListener: bareRuns[0]?.bytesPerListener ?? null,
  messagesPerJoin: relais.messagesPerJoin,
  loadGeneratorCpuPctPerListener: relais.load.generatorCpuPctPerListener,
  loadGeneratorCpuSeconds: relais.load.generatorCpuSeconds,
  routers: relais.routers,
  listenIp: relais.listenIp,
  machine: machine(),
  workerSrtp: relais.workerSrtp,
  date,
  command: `npm run bench:${values.name} -- ${process.argv.slice(2).join(' ')}`.trim(),
  runs: [...relaisRuns, ...bareRuns, ...(leanRelais ? [leanRelais] : []), ...(leanBare ? [leanBare] : [])].map(strip),
};
const out =
  values.out ??
  path.join(root, 'bench/results', `${values.name}-${date}${listeners === 600 ? '' : `-n${listeners}`}.json`);
const written = writeResults(out, result, relais.load.perListener);
log(`wrote ${path.relative(root, written.summaryFile)} and ${path.relative(root, written.detailFile ?? '')}`);

if (!values['no-row'] && !bWorker) {
  const j = result.joinToFirstAudioMs;
  const lean = result.lean;
  const row =
    `| ${date} | \`${result.command}\` | ${result.machine}, SRTP: ${result.workerSrtp}, ${result.srtpProfiles.join('/') || '?'}; load ${result.loadAverageAtStart} at start | ${listeners} | ${rampSeconds} | ${result.failedJoins} | ${j.p50}/${j.p95}/${j.max} | ${result.deliveredPct} | ` +
    `${result.sfuCpuPctSteady} % | ${result.sfuUsPerDeliveredPacket} | ${result.baselineUsPerDeliveredPacket ?? '–'} | ${result.relaisOverBaselineMedian ?? '–'} (${result.relaisOverBaselineRatios.join(', ')}) | ` +
    `${lean ? `${lean.sfuUsPerDeliveredPacket} / ${lean.baselineUsPerDeliveredPacket ?? '–'} / ${lean.relaisOverBaseline ?? '–'}` : '–'} | ` +
    `${Math.round(result.serverBytesPerListener / 1024)} | ${result.loadGeneratorCpuPctPerListener} % | ${result.messagesPerJoin} |` +
    (result.video
      ? ` ${result.videoDeliveredPctWorst} | ${result.video.fps.p50}/${result.video.fps.min} | ${result.video.joinToFirstVideoMs.p95} | ` +
        `${result.video.keyframeRequestsPerMinuteRamp} / ${result.video.keyframeRequestsPerMinuteSteady} |`
      : '');
  insertRow(path.join(root, 'BENCHMARKS.md'), values.name, row);
}
console.log(JSON.stringify({ ...result, runs: undefined }, null, 2));
process.exit(0);
