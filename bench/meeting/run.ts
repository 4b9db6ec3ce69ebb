/**
 * npm run bench:crisis-meeting -- [--members 20,50] [--duration-seconds 20] [--repetitions 2]
 *   [--workers 2] [--member-processes 2] [--no-baseline] [--out FILE] [--no-row]
 *
 * A crisis meeting: N members each publishing audio and a three-layer simulcast camera, each
 * receiving everyone (one camera at the high layer, the rest at the low layer, as the grid asks).
 * For each N, relais and bare mediasoup alternate (`--repetitions` pairs). Members live in
 * `--member-processes` child processes (memberProcess.ts), dealt round-robin, so that their
 * packet handling is not one process's core. Writes bench/results/crisis-meeting-<date>.json and a row per N to BENCHMARKS.md.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { mintTestToken } from '../../tools/testTokens.js';
import { machine, startTarget, workerIoOf } from '../briefing/target.js';
import { forkBenchChild } from '../load/childProcess.js';
import { median, percentile, totalCpuSeconds, udpReceiveDrops } from '../load/procStat.js';
import { insertRow, writeResults } from '../load/resultFiles.js';
import type { MemberReport } from './MeetingMember.js';
import type { PublishedMember } from './memberProcess.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MEMBER_PROCESS = fileURLToPath(new URL('./memberProcess.ts', import.meta.url));
const { values } = parseArgs({
  options: {
    members: { type: 'string', default: '20,50' },
    'duration-seconds': { type: 'string', default: '20' },
    repetitions: { type: 'string', default: '2' },
    workers: { type: 'string', default: '2' },
    'member-processes': { type: 'string', default: '2' },
    'consumers-per-router': { type: 'string', default: '250' },
    'no-baseline': { type: 'boolean', default: false },
    'no-row': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const sizes = (values.members ?? '').split(',').map(Number);
const durationSeconds = Number(values['duration-seconds']);
const repetitions = Number(values.repetitions);
const workers = Number(values.workers);
const memberProcesses = Number(values['member-processes']);
if (
  ![...sizes, durationSeconds, repetitions, workers, memberProcesses].every((n) => Number.isInteger(n) && n > 0) ||
  sizes.some((n) => n < 2 || n > 100)
)
  throw new Error('members within 2..100; other numeric options positive integers');
const SECRET = 'relais-bench-secret-0123456789-abcdefghijklmn';
const ROOM = 'crisis-bench';
const log = (line: string): void => console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// Whatever happens, the benchmark ends.
const budget = sizes.length * repetitions * 2 * (durationSeconds + 120) * 1000 + 300_000;
setTimeout(() => {
  console.error('benchmark: hard deadline reached, exiting');
  process.exit(2);
}, budget).unref();

interface MeetingRun {
  label: string;
  members: number;
  joined: number;
  errors: Record<string, number>;
  sfuCpuPctSteady: number;
  usPerDeliveredPacket: number;
  deliveredPackets: number;
  /** RTP bytes (after SRTP, headers included) each member received per second: the SFU's egress per member. */
  egressKbpsPerMember: number;
  audioDeliveredPct: number;
  /** Where the lost went, by kind: due before each stream's first packet, after its last, and gaps in between. */
  lostSplit: Record<'audio' | 'video', { beforeFirst: number; atEnd: number; gaps: number }>;
  videoDeliveredPct: number;
  firstFrameMs: { p50: number; p95: number; max: number };
  camerasWithoutFrame: number;
  fpsLowP50: number;
  fpsHighP50: number;
  /** The member processes' CPU (members' JS and libdatachannel's threads) from their start to the report, % of a core. */
  generatorCpuPct: number;
  steadySeconds: number;
  /** Datagrams dropped at full UDP receive buffers: the SFU's sockets, the members' (packets they had no CPU to read). */
  sfuSocketDrops: number;
  memberSocketDrops: number;
  workerSrtp: string;
}

async function measure(script: string, label: string, size: number): Promise<MeetingRun> {
  log(`${label}: starting, ${size} members`);
  const target = await startTarget(script, {
    workers,
    perRouter: values['consumers-per-router'] ?? '250',
    secret: SECRET,
    room: ROOM,
  });
  const pids = [target.pid, ...target.workerPids];
  const children = await Promise.all(
    Array.from({ length: Math.min(memberProcesses, size) }, () => forkBenchChild(MEMBER_PROCESS, 'member process')),
  );
  const errors: Record<string, number> = {};
  const fail = (message: string, times = 1): void => {
    errors[message] = (errors[message] ?? 0) + times;
  };
  const collect = (childErrors: Record<string, number>): void => {
    for (const [message, times] of Object.entries(childErrors)) fail(message, times);
  };
  // Every child answers `type` (a step is bounded: 60 s plus a second per member).
  const ask = async <T extends { type: string }>(type: string, reply: string, extra = {}): Promise<T[]> => {
    for (const child of children) child.send({ type, ...extra });
    return Promise.all(children.map((child) => child.next<T>(reply, 60_000 + size * 1000)));
  };
  try {
    await sleep(1000);
    const key = { algorithm: 'HS256' as const, key: SECRET };
    const startedAt = performance.now();
    // Members dealt round-robin over the processes.
    const joins = await Promise.all(
      children.map((child, c) => {
        const share = Array.from({ length: size }, (_, i) => i)
          .filter((i) => i % children.length === c)
          .map((id) => ({
            id,
            token: mintTestToken(key, { room: ROOM, role: 'speaker', sub: `member-${id}`, name: `member-${id}` }),
          }));
        child.send({ type: 'join', url: target.url, members: share, toneHz: 440 });
        return child.next<{ type: string; published: PublishedMember[]; errors: Record<string, number> }>(
          'published',
          60_000 + size * 2000,
        );
      }),
    );
    for (const j of joins) collect(j.errors);
    const published = joins.flatMap((j) => j.published).sort((a, b) => a.id - b.id);
    const joined = published.length;
    log(`${label}: ${joined}/${size} publishing (${children.length} member processes)`);
    const receiving = await ask<{ type: string; errors: Record<string, number> }>('receive', 'receiving', {
      published,
    });
    for (const r of receiving) collect(r.errors);
    log(`${label}: every member receiving; settling`);
    await sleep(3000);
    type Counts = { audio: number; video: number; bytes: number };
    // CPU and packet counters at the same two instants: the SFU's CPU is read while the
    // children's counters are on their way.
    const snapshot = async (): Promise<{ at: number; cpu: number; counts: Counts }> => {
      const replies = ask<{ type: string; counts: Counts }>('counts', 'counts');
      const at = performance.now();
      const cpu = totalCpuSeconds(pids);
      const counts = (await replies).reduce(
        (sum, r) => ({
          audio: sum.audio + r.counts.audio,
          video: sum.video + r.counts.video,
          bytes: sum.bytes + r.counts.bytes,
        }),
        { audio: 0, video: 0, bytes: 0 },
      );
      return { at, cpu, counts };
    };
    const start = await snapshot();
    await sleep(durationSeconds * 1000);
    const end = await snapshot();
    await ask('stop', 'stopped');
    await sleep(500);
    const childReports = await ask<{ type: string; reports: MemberReport[]; cpuSeconds: number; socketDrops: number }>(
      'report',
      'report',
    );
    const memberSocketDrops = childReports.reduce((s, r) => s + r.socketDrops, 0);
    const sfuSocketDrops = udpReceiveDrops(pids);
    const generatorCpuSeconds = childReports.reduce((s, r) => s + r.cpuSeconds, 0);
    const reports = childReports.flatMap((r) => r.reports);
    for (const r of reports) if (r.error) fail(r.error);
    const seconds = (end.at - start.at) / 1000;
    const delivered = end.counts.audio - start.counts.audio + (end.counts.video - start.counts.video);
    const cpu = end.cpu - start.cpu;
    const sum = (f: (r: MemberReport) => number): number => reports.reduce((s, r) => s + f(r), 0);
    const pct = (received: number, expected: number): number =>
      expected > 0 ? Number(((100 * received) / expected).toFixed(3)) : 0;
    const firstFrames = reports.flatMap((r) => r.firstFrameMs);
    const run: MeetingRun = {
      label,
      members: size,
      joined,
      errors,
      sfuCpuPctSteady: Number(((100 * cpu) / seconds).toFixed(1)),
      usPerDeliveredPacket: Number(((cpu * 1e6) / Math.max(1, delivered)).toFixed(2)),
      deliveredPackets: delivered,
      egressKbpsPerMember: Number(
        (((end.counts.bytes - start.counts.bytes) * 8) / 1000 / seconds / Math.max(1, joined)).toFixed(1),
      ),
      lostSplit: {
        audio: {
          beforeFirst: sum((r) => r.audio.lostBeforeFirst),
          atEnd: sum((r) => r.audio.lostAtEnd),
          gaps: sum((r) => r.audio.expected - r.audio.received - r.audio.lostBeforeFirst - r.audio.lostAtEnd),
        },
        video: {
          beforeFirst: sum((r) => r.video.lostBeforeFirst),
          atEnd: sum((r) => r.video.lostAtEnd),
          gaps: sum((r) => r.video.expected - r.video.received - r.video.lostBeforeFirst - r.video.lostAtEnd),
        },
      },
      audioDeliveredPct: pct(
        sum((r) => r.audio.received),
        sum((r) => r.audio.expected),
      ),
      videoDeliveredPct: pct(
        sum((r) => r.video.received),
        sum((r) => r.video.expected),
      ),
      firstFrameMs: {
        p50: percentile(firstFrames, 50),
        p95: percentile(firstFrames, 95),
        max: firstFrames.length ? Math.max(...firstFrames) : Number.NaN,
      },
      camerasWithoutFrame: sum((r) => r.camerasWithoutFrame),
      fpsLowP50: percentile(
        reports.flatMap((r) => r.video.fpsLow),
        50,
      ),
      fpsHighP50: percentile(
        reports.map((r) => r.video.fpsHigh),
        50,
      ),
      generatorCpuPct: Number(((100 * generatorCpuSeconds) / ((performance.now() - startedAt) / 1000)).toFixed(1)),
      steadySeconds: Number(seconds.toFixed(2)),
      sfuSocketDrops,
      memberSocketDrops,
      workerSrtp: workerIoOf(target.workerPids[0]),
    };
    // Every process must still be there: a replaced worker is an error.
    totalCpuSeconds(pids);
    log(
      `${label}: ${run.joined}/${size} members, audio ${run.audioDeliveredPct} %, video ${run.videoDeliveredPct} %, SFU ${run.sfuCpuPctSteady} % → ${run.usPerDeliveredPacket} µs/delivered packet, ${run.egressKbpsPerMember} kbit/s per member, first frame p95 ${run.firstFrameMs.p95} ms, fps low/high ${run.fpsLowP50}/${run.fpsHighP50}, generator ${run.generatorCpuPct} %, dropped at full sockets: SFU ${run.sfuSocketDrops}, members ${run.memberSocketDrops}, audio lost before first/at end/gaps ${Object.values(run.lostSplit.audio).join('/')}`,
    );
    return run;
  } finally {
    for (const child of children) child.close();
    await target.stop();
  }
}

interface SizeSummary {
  members: number;
  sfuCpuPctSteady: number;
  usPerDeliveredPacket: number;
  baselineUsPerDeliveredPacket: number | null;
  relaisOverBaselineRatios: number[];
  relaisOverBaselineMedian: number | null;
  egressKbpsPerMember: number;
  audioDeliveredPctWorst: number;
  videoDeliveredPctWorst: number;
  firstFrameP95Ms: number;
  failedMembers: number;
  camerasWithoutFrame: number;
  fpsLowP50: number;
  fpsHighP50: number;
  generatorCpuPct: number;
  runs: MeetingRun[];
}

const date = new Date().toISOString().slice(0, 10);
const loadAverage = Number((await import('node:os')).loadavg()[0]?.toFixed(2));
const command = `npm run bench:crisis-meeting -- ${process.argv.slice(2).join(' ')}`.trim();
const out = values.out ?? path.join(root, 'bench/results', `crisis-meeting-${date}.json`);
const bySize: SizeSummary[] = [];
const summary = () => ({
  name: 'crisis-meeting',
  date,
  command,
  machine: machine(),
  loadAverageAtStart: loadAverage,
  durationSeconds,
  repetitions,
  workers,
  sizes: bySize,
});
for (const size of sizes) {
  const relais: MeetingRun[] = [];
  const bare: MeetingRun[] = [];
  for (let r = 1; r <= repetitions; r++) {
    relais.push(await measure('relaisProcess.ts', `relais #${r}`, size));
    if (!values['no-baseline']) bare.push(await measure('bareMediasoupProcess.ts', `bare mediasoup #${r}`, size));
  }
  const ratios = bare.map((b, i) => (relais[i]?.usPerDeliveredPacket ?? Number.NaN) / b.usPerDeliveredPacket);
  bySize.push({
    members: size,
    sfuCpuPctSteady: Number(median(relais.map((m) => m.sfuCpuPctSteady)).toFixed(1)),
    usPerDeliveredPacket: Number(median(relais.map((m) => m.usPerDeliveredPacket)).toFixed(2)),
    baselineUsPerDeliveredPacket: bare.length
      ? Number(median(bare.map((m) => m.usPerDeliveredPacket)).toFixed(2))
      : null,
    relaisOverBaselineRatios: ratios.map((x) => Number(x.toFixed(3))),
    relaisOverBaselineMedian: ratios.length ? Number(median(ratios).toFixed(3)) : null,
    egressKbpsPerMember: Number(median(relais.map((m) => m.egressKbpsPerMember)).toFixed(1)),
    audioDeliveredPctWorst: Math.min(...relais.map((m) => m.audioDeliveredPct)),
    videoDeliveredPctWorst: Math.min(...relais.map((m) => m.videoDeliveredPct)),
    firstFrameP95Ms: Math.max(...relais.map((m) => m.firstFrameMs.p95)),
    failedMembers: Math.max(...relais.map((m) => m.members - m.joined)),
    camerasWithoutFrame: Math.max(...relais.map((m) => m.camerasWithoutFrame)),
    fpsLowP50: median(relais.map((m) => m.fpsLowP50)),
    fpsHighP50: median(relais.map((m) => m.fpsHighP50)),
    generatorCpuPct: median(relais.map((m) => m.generatorCpuPct)),
    runs: [...relais, ...bare],
  });
  // After each size: a run interrupted at the larger size keeps the smaller one's results.
  writeResults(out, summary(), []);
  log(`wrote ${path.relative(root, out)} (${bySize.length}/${sizes.length} sizes)`);
}
const result = summary();
if (!values['no-row']) {
  for (const s of bySize) {
    insertRow(
      path.join(root, 'BENCHMARKS.md'),
      'crisis-meeting',
      `| ${date} | \`${command}\` | ${result.machine}, SRTP: ${s.runs[0]?.workerSrtp}; load ${loadAverage} at start | ${s.members} | ${s.failedMembers} | ` +
        `${s.audioDeliveredPctWorst} / ${s.videoDeliveredPctWorst} | ${s.sfuCpuPctSteady} % | ${s.usPerDeliveredPacket} | ${s.baselineUsPerDeliveredPacket ?? '–'} | ` +
        `${s.relaisOverBaselineMedian ?? '–'} (${s.relaisOverBaselineRatios.join(', ')}) | ${s.egressKbpsPerMember} | ${s.firstFrameP95Ms} | ${s.fpsLowP50}/${s.fpsHighP50} | ${s.generatorCpuPct} % |`,
    );
  }
}
console.log(JSON.stringify({ ...result, sizes: bySize.map(({ runs: _runs, ...s }) => s) }, null, 2));
process.exit(0);
