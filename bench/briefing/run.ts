/**
 * npm run bench:briefing -- [--listeners 600] [--ramp-seconds 60] [--duration-seconds 30]
 *   [--concurrency 20] [--processes 2] [--workers 2] [--no-baseline] [--out FILE] [--no-row]
 *
 * One briefing: relais in its own process (RELAIS_WORKERS workers), one speaker looping an
 * Opus tone, N real WebRTC listeners from the load generator. Then, in the same run, the same
 * load against bare mediasoup (bareMediasoupProcess.ts). Writes the summary
 * bench/results/briefing-<date>.json (every figure, the baseline, the machine), each listener's
 * report gzip-compressed beside it (briefing-<date>.listeners.json.gz), and appends a row to
 * BENCHMARKS.md.
 */
import { fork } from 'node:child_process';
import { appendFileSync, existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePortRange } from '../../tools/freePorts.js';
import { mintTestToken } from '../../tools/testTokens.js';
import { runLoad, type LoadResult } from '../load/LoadGenerator.js';
import { totalCpuSeconds, totalRssBytes } from '../load/procStat.js';
import { writeResults } from '../load/resultFiles.js';

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
    'no-row': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const listeners = Number(values.listeners);
const rampSeconds = Number(values['ramp-seconds']);
const durationSeconds = Number(values['duration-seconds']);
const concurrency = Number(values.concurrency);
const workers = Number(values.workers);
const processes = Number(values.processes ?? Math.max(1, Math.ceil(listeners / 300)));
const perRouter = values['consumers-per-router'];
if (
  ![listeners, rampSeconds, durationSeconds, concurrency, workers, processes].every(
    (n) => Number.isInteger(n) && n >= 0,
  )
) {
  throw new Error('numeric options must be non-negative integers');
}
const SECRET = 'relais-bench-secret-0123456789-abcdefghijklmn';
const ROOM = 'briefing-bench';
const log = (line: string): void => console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Target {
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

async function startTarget(script: string): Promise<Target> {
  const portBase = await freePortRange(workers);
  const child = fork(path.join(root, 'bench/briefing', script), [], {
    execArgv: ['--import', 'tsx'],
    env: {
      ...process.env,
      RELAIS_WORKERS: String(workers),
      RELAIS_RTC_PORT_BASE: String(portBase),
      RELAIS_JWT_SECRET: SECRET,
      RELAIS_CONSUMERS_PER_ROUTER: perRouter,
      BARE_CONSUMERS_PER_ROUTER: perRouter,
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
      child.send({ type: 'routers', room: ROOM });
      return (await next<{ loads: Record<string, number> }>('routers')).loads;
    },
    producerStats: async () => {
      child.send({ type: 'producerStats', room: ROOM });
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

async function messagesSent(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const match = /^relais_signalling_messages_sent_total (\d+(?:\.\d+)?)/m.exec(text);
  return match?.[1] ? Number(match[1]) : Number.NaN;
}

interface Measured {
  load: LoadResult;
  sfuPids: number[];
  routers: Record<string, number>;
  rampCpuSeconds: number;
  steadyCpuSeconds: number;
  steadyCpuPct: number;
  forwardedPackets: number;
  usPerPacket: number;
  rssIdleBytes: number;
  rssSteadyBytes: number;
  bytesPerListener: number;
  messagesPerJoin?: number;
  /** Packets lost between the speaker and the SFU, by the producer's own count. */
  speakerToSfuLost: number;
  /** RTP packets the SFU's consumers sent (relais only), against what the listeners counted: where loss happens. */
  sfuSentPackets?: number;
  listenersReceivedPackets?: number;
  /** Transports whose ICE left 'connected' (consent lapsed), by direction; relais only. */
  iceDisconnects: { send: number; recv: number };
  listenIp: string;
  /** Which SRTP and send path the running worker uses (see workerIoOf). */
  workerSrtp: string;
}

/**
 * How the running worker encrypts and sends: Debian's shared libsrtp2 does its crypto through
 * NSS (the build script's default links libsrtp statically against OpenSSL), and a worker
 * built with liburing holds an io_uring descriptor.
 */
function workerIoOf(workerPid: number | undefined): string {
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

async function measure(script: string, label: string): Promise<Measured> {
  log(`${label}: starting`);
  const target = await startTarget(script);
  const pids = [target.pid, ...target.workerPids];
  try {
    await sleep(2000);
    const rssIdleBytes = totalRssBytes(pids);
    const relais = script === 'relaisProcess.ts';
    const messagesBefore = relais ? await messagesSent(target.url) : Number.NaN;
    const cpuStart = totalCpuSeconds(pids);
    let cpuSteadyStart = 0;
    let cpuSteadyEnd = 0;
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
      token: (role, sub) => mintTestToken(key, { room: ROOM, role, sub, name: sub }),
      log: (line) => log(`${label}: ${line}`),
      onSteady: async () => {
        if (relais) messagesAfter = await messagesSent(target.url);
        routers = await target.routers();
        await sleep(2000); // let the last joins' DTLS and first RTCP settle
        rssSteadyBytes = totalRssBytes(pids);
        cpuSteadyStart = totalCpuSeconds(pids);
      },
      onSteadyEnd: async () => {
        cpuSteadyEnd = totalCpuSeconds(pids);
        const { stats, iceEvents: events, sfuSentPackets: sent } = await target.producerStats();
        sfuSentPackets = sent;
        iceEvents = events ?? [];
        speakerToSfuLost = stats.reduce((sum, s) => sum + (s.packetsLost ?? 0), 0);
      },
    });
    const steadyCpuSeconds = cpuSteadyEnd - cpuSteadyStart;
    const forwardedPackets = load.speakerPacketsSent * load.joined;
    const result: Measured = {
      load,
      sfuPids: pids,
      routers,
      rampCpuSeconds: Number((cpuSteadyStart - cpuStart).toFixed(2)),
      steadyCpuSeconds: Number(steadyCpuSeconds.toFixed(2)),
      steadyCpuPct: Number(((100 * steadyCpuSeconds) / load.steadySeconds).toFixed(1)),
      forwardedPackets,
      usPerPacket: Number(((steadyCpuSeconds * 1e6) / Math.max(1, forwardedPackets)).toFixed(2)),
      rssIdleBytes,
      rssSteadyBytes,
      bytesPerListener: Math.round((rssSteadyBytes - rssIdleBytes) / Math.max(1, load.joined)),
      listenIp: target.listenIp,
      workerSrtp: workerIoOf(target.workerPids[0]),
      speakerToSfuLost,
      ...(sfuSentPackets !== undefined ? { sfuSentPackets, listenersReceivedPackets: load.packetsReceived } : {}),
      iceDisconnects: {
        send: iceEvents.filter((e) => e.direction === 'send').length,
        recv: iceEvents.filter((e) => e.direction === 'recv').length,
      },
      ...(relais
        ? { messagesPerJoin: Number(((messagesAfter - messagesBefore) / Math.max(1, load.joined)).toFixed(2)) }
        : {}),
    };
    log(
      `${label}: ${load.joined}/${listeners} joined, ${load.deliveredPct} % delivered, first audio p95 ${load.joinToFirstAudioMs.p95} ms, ` +
        `speaker→SFU lost ${speakerToSfuLost}, SFU sent ${sfuSentPackets ?? '?'} / listeners got ${load.packetsReceived}, SFU ${result.steadyCpuPct} % → ${result.usPerPacket} µs/packet, ${Math.round(result.bytesPerListener / 1024)} KB/listener, routers ${JSON.stringify(routers)}`,
    );
    return result;
  } finally {
    await target.stop();
  }
}

function machine(): string {
  const release = existsSync('/etc/os-release')
    ? /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1]
    : undefined;
  const cpus = os.cpus();
  return `${cpus[0]?.model.trim() ?? 'cpu'}, ${cpus.length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${release ?? os.platform()}, Node ${process.version}`;
}

// Whatever happens, the benchmark ends.
const budget = ((rampSeconds + durationSeconds) * 2 + 600) * 1000;
setTimeout(() => {
  console.error('benchmark: hard deadline reached, exiting');
  process.exit(2);
}, budget).unref();

const relais = await measure('relaisProcess.ts', 'relais');
const bare = values['no-baseline'] ? undefined : await measure('bareMediasoupProcess.ts', 'bare mediasoup');
const date = new Date().toISOString().slice(0, 10);
const strip = (m: Measured): Omit<Measured, 'load'> & { load: Omit<LoadResult, 'perListener'> } => {
  const { perListener: _perListener, ...load } = m.load;
  return { ...m, load };
};
const result = {
  listeners,
  rampSeconds,
  durationSeconds,
  concurrency,
  workers,
  consumersPerRouter: Number(perRouter),
  failedJoins: relais.load.failedJoins,
  deliveredPct: relais.load.deliveredPct,
  joinToFirstAudioMs: relais.load.joinToFirstAudioMs,
  transportConnectedMs: relais.load.connectedMs,
  audioChecked: relais.load.audioChecked,
  audioCheckPassed: relais.load.audioCheckPassed,
  sfuCpuPctSteady: relais.steadyCpuPct,
  sfuUsPerPacket: relais.usPerPacket,
  baselineUsPerPacket: bare?.usPerPacket ?? null,
  relaisOverBaseline: bare ? Number((relais.usPerPacket / bare.usPerPacket).toFixed(3)) : null,
  serverBytesPerListener: relais.bytesPerListener,
  baselineBytesPerListener: bare?.bytesPerListener ?? null,
  messagesPerJoin: relais.messagesPerJoin,
  loadGeneratorCpuPctPerListener: relais.load.generatorCpuPctPerListener,
  loadGeneratorCpuSeconds: relais.load.generatorCpuSeconds,
  routers: relais.routers,
  listenIp: relais.listenIp,
  machine: machine(),
  workerSrtp: relais.workerSrtp,
  date,
  command: `npm run bench:briefing -- ${process.argv.slice(2).join(' ')}`.trim(),
  relais: strip(relais),
  baseline: bare ? strip(bare) : null,
};
const out =
  values.out ?? path.join(root, 'bench/results', `briefing-${date}${listeners === 600 ? '' : `-n${listeners}`}.json`);
const written = writeResults(out, result, relais.load.perListener);
log(`wrote ${path.relative(root, written.summaryFile)} and ${path.relative(root, written.detailFile)}`);

if (!values['no-row']) {
  const file = path.join(root, 'BENCHMARKS.md');
  if (!existsSync(file)) {
    writeFileSync(
      file,
      '# Benchmarks\n\nRows are appended by `npm run bench:briefing`; its summary JSON in bench/results/ has every figure, ' +
        'and the `.listeners.json.gz` beside it each listener.\n\n' +
        '| date | command | machine | listeners | ramp s | failed joins | first audio p50/p95/max ms | delivered % | SFU CPU (steady) | µs/packet relais | µs/packet bare | relais/bare | KB/listener | generator CPU/listener | msgs/join |\n' +
        '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n',
    );
  }
  const j = result.joinToFirstAudioMs;
  appendFileSync(
    file,
    `| ${date} | \`${result.command}\` | ${result.machine}, SRTP: ${result.workerSrtp} | ${listeners} | ${rampSeconds} | ${result.failedJoins} | ${j.p50}/${j.p95}/${j.max} | ${result.deliveredPct} | ` +
      `${result.sfuCpuPctSteady} % | ${result.sfuUsPerPacket} | ${result.baselineUsPerPacket ?? '–'} | ${result.relaisOverBaseline ?? '–'} | ` +
      `${Math.round(result.serverBytesPerListener / 1024)} | ${result.loadGeneratorCpuPctPerListener} % | ${result.messagesPerJoin} |\n`,
  );
}
console.log(JSON.stringify({ ...result, relais: undefined, baseline: undefined }, null, 2));
process.exit(0);
