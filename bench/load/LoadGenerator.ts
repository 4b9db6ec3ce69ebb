import { fileURLToPath } from 'node:url';
import { forkBenchChild } from './childProcess.js';
import { ListenerGroup, type GroupCounts, type GroupPlan, type GroupReport } from './listenerGroup.js';
import { encodeTone } from './opusTone.js';
import { OpusSpeaker } from './opusSpeaker.js';
import type { Fidelity } from './peers.js';
import type { ListenerReport } from './rtcListener.js';
import { percentile } from './procStat.js';

export interface LoadOptions {
  /** Where the speaker publishes (and the listeners join, unless `listenerUrls`). */
  url: string;
  /** Nodes of a cluster the listeners join, listener i at `listenerUrls[i % length]`. */
  listenerUrls?: string[];
  listeners: number;
  rampSeconds: number;
  concurrency: number;
  /** How long the full audience listens after the ramp. */
  durationSeconds: number;
  /** Mints a token for a participant of the target room. */
  token: (role: 'speaker' | 'listener', sub: string) => string;
  /** Child processes holding the listeners; 0 keeps them in this process. */
  processes: number;
  /** Listeners that decode the Opus stream and check the tone (the others count packets). */
  decodeSample: number;
  toneHz?: number;
  joinTimeoutMs?: number;
  /** Chrome's capabilities and RTCP (default), or the lean listener of the first benchmarks. */
  fidelity?: Fidelity;
  /** A video briefing: the speaker also publishes a camera; listeners take its lowest layer. */
  video?: boolean;
  /**
   * Resilience scenarios: the speaker and every listener reconnect through this address (the
   * balancer) when their signalling drops, follow redirects, and listeners follow the
   * commander's microphone published again (see reconnect.ts). Off: nobody recovers.
   */
  reconnectUrl?: string;
  /** Niceness of the listener processes (see GroupPlan.nice); unset: the generator's own. */
  listenerNice?: number;
  /**
   * Called once the ramp is over and every listener joined or failed, and just before the
   * speaker stops: `counts()` reads what the listeners have received so far, so the caller can
   * read its CPU counters and the listeners' packet counters at the same two instants.
   */
  onSteady?: (counts: () => Promise<GroupCounts>) => void | Promise<void>;
  onSteadyEnd?: (counts: () => Promise<GroupCounts>) => void | Promise<void>;
  log?: (line: string) => void;
}

export interface LoadResult {
  listeners: number;
  joined: number;
  failedJoins: number;
  errors: Record<string, number>;
  packetsExpected: number;
  packetsReceived: number;
  packetsLost: number;
  deliveredPct: number;
  connectedMs: { p50: number; p95: number; max: number };
  joinToFirstAudioMs: { p50: number; p95: number; max: number };
  audioChecked: number;
  audioCheckPassed: number;
  speakerPacketsSent: number;
  speakerRefused: number;
  speakerLateTicks: number;
  /** Notifications received per listener (mean), apart from acknowledgements. */
  notificationsPerListener: number;
  signalledMs: { p50: number; p95: number; max: number };
  steadySeconds: number;
  rampActualSeconds: number;
  generatorCpuSeconds: number;
  generatorCpuPctPerListener: number;
  generatorRssBytes: number;
  generatorPids: number[];
  /** Datagrams dropped at the listener processes' full receive buffers (delivered by the SFU, unread for lack of CPU). */
  listenerSocketDrops: number;
  /** Audio packets lost before a listener's first packet and after its last (included in packetsLost). */
  lostBeforeFirst: number;
  lostAtEnd: number;
  /** What the listeners offered, and the SRTP profile libdatachannel says they negotiated. */
  fidelity: Fidelity;
  srtpProfiles: string[];
  /** What the first listener's consumers negotiated (extensions, rtcp-fb), as the SFU answered its capabilities. */
  negotiated: string[];
  /** RTCP the listeners sent (mean per listener) and what the speaker got back from the SFU. */
  listenerRtcpSent: { receiverReports: number; transportCc: number };
  speakerRtcpReceived: OpusSpeaker['rtcpReceived'];
  /** With `reconnectUrl`: the speaker's drops and republications. */
  speakerRecoveries: OpusSpeaker['recoveries'];
  /** Video briefing: the listeners' video, and the keyframe requests that reached the commander. */
  video?: {
    packetsExpected: number;
    packetsReceived: number;
    deliveredPct: number;
    fps: { p50: number; min: number };
    joinToFirstVideoMs: { p50: number; p95: number; max: number };
    packetsSent: number;
    keyframesSent: number;
    keyframeRequests: number;
    keyframeRequestsPerMinuteSteady: number;
    keyframeRequestsPerMinuteRamp: number;
    /**
     * Shortest time between two requests for the same stream (SSRC) at the commander: what
     * RELAIS_KEYFRAME_REQUEST_DELAY_MS bounds from below; null with fewer than two requests for any stream.
     */
    shortestKeyframeRequestGapMs: number | null;
    /**
     * Requests per stream (the commander's layers, lowest first): listeners take the lowest
     * layer, but a request that crosses a pipe (another worker's router, another node) asks
     * for every layer (mediasoup's PipeConsumer).
     */
    keyframeRequestsPerLayer: number[];
    probationPacketsPerListener: number;
  };
  perListener: ListenerReport[];
}

const CHILD = fileURLToPath(new URL('./listenerProcess.ts', import.meta.url));

interface Group {
  run(): Promise<void>;
  counts(): Promise<GroupCounts>;
  speakerStopped(): void;
  report(): Promise<GroupReport>;
  close(): void;
  pid: number;
}

function localGroup(plan: GroupPlan): Group {
  const group = new ListenerGroup(plan);
  return {
    run: () => group.run(),
    counts: async () => group.counts(),
    speakerStopped: () => group.speakerStopped(),
    report: async () => group.report(),
    close: () => group.close(),
    pid: process.pid,
  };
}

async function childGroup(plan: GroupPlan): Promise<Group> {
  const child = await forkBenchChild(CHILD, 'listener process');
  type Reply = { type: string; report?: GroupReport; counts?: GroupCounts };
  return {
    run: async () => {
      child.send({ type: 'plan', plan });
      const lastStart = plan.listeners.at(-1)?.startAtMs ?? 0;
      await child.next('joined', lastStart + plan.joinTimeoutMs + 60_000);
    },
    counts: async () => {
      child.send({ type: 'counts' });
      return (await child.next<Reply>('counts', 30_000)).counts ?? { audio: 0, video: 0 };
    },
    speakerStopped: () => child.send({ type: 'speakerStopped' }),
    report: async () => {
      child.send({ type: 'report' });
      const { report } = await child.next<Reply>('report', 30_000);
      if (!report) throw new Error(`listener process ${child.pid}: a report message without a report`);
      return report;
    },
    close: () => child.close(),
    pid: child.pid,
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

type Stats = (values: number[]) => { p50: number; p95: number; max: number };

/** The video briefing's figures: delivery and frame rate at the listeners, keyframe requests at the commander. */
function videoSummary(
  perListener: ListenerReport[],
  speaker: OpusSpeaker,
  at: { rampStart: number; steadyStart: number; steadyEnd: number },
  stats: Stats,
): NonNullable<LoadResult['video']> {
  const videos = perListener.flatMap((l) => (l.video ? [l.video] : []));
  const expected = videos.reduce((s, v) => s + v.expected, 0);
  const received = videos.reduce((s, v) => s + v.received, 0);
  const fps = videos.map((v) => v.fps ?? 0);
  const requests = speaker.keyframeRequestLog.map((r) => r.at);
  const within = (from: number, to: number): number => requests.filter((t) => t >= from && t < to).length;
  const perMinute = (count: number, ms: number): number => Number(((count * 60_000) / Math.max(1, ms)).toFixed(1));
  return {
    packetsExpected: expected,
    packetsReceived: received,
    deliveredPct: expected > 0 ? Number(((100 * received) / expected).toFixed(3)) : 0,
    fps: { p50: stats(fps).p50, min: fps.length ? Math.min(...fps) : Number.NaN },
    joinToFirstVideoMs: stats(perListener.flatMap((l) => (l.firstVideoMs !== undefined ? [l.firstVideoMs] : []))),
    packetsSent: speaker.video?.sender.sent ?? 0,
    keyframesSent: speaker.video?.sender.keyframesSent ?? 0,
    keyframeRequests: requests.length,
    keyframeRequestsPerMinuteSteady: perMinute(within(at.steadyStart, at.steadyEnd), at.steadyEnd - at.steadyStart),
    keyframeRequestsPerMinuteRamp: perMinute(within(at.rampStart, at.steadyStart), at.steadyStart - at.rampStart),
    shortestKeyframeRequestGapMs: shortestGapPerStream(speaker.keyframeRequestLog),
    keyframeRequestsPerLayer: (speaker.video?.sender.layerSsrcs ?? []).map(
      (ssrc) => speaker.keyframeRequestLog.filter((r) => r.ssrc === ssrc).length,
    ),
    probationPacketsPerListener: Number(
      (perListener.reduce((s, l) => s + l.probationPackets, 0) / Math.max(1, perListener.length)).toFixed(1),
    ),
  };
}

/** The shortest time between two consecutive keyframe requests for the same SSRC, in ms. */
function shortestGapPerStream(log: readonly { at: number; ssrc: number }[]): number | null {
  const last = new Map<number, number>();
  let shortest: number | null = null;
  for (const { at, ssrc } of log) {
    const previous = last.get(ssrc);
    if (previous !== undefined) shortest = Math.min(shortest ?? Number.POSITIVE_INFINITY, at - previous);
    last.set(ssrc, at);
  }
  return shortest === null ? null : Math.round(shortest);
}

/**
 * One speaker publishes a known Opus tone; N listeners join over the ramp (bounded
 * concurrency, spread over child processes), listen for the duration, and report.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const log = options.log ?? (() => undefined);
  const toneHz = options.toneHz ?? 440;
  const joinTimeoutMs = options.joinTimeoutMs ?? 30_000;
  if (options.listeners < 1 || options.listeners > 5000) throw new Error('listeners must be within 1..5000');
  const speaker = await OpusSpeaker.start(options.url, options.token('speaker', 'load-speaker'), encodeTone(toneHz), {
    video: options.video === true,
    ...(options.reconnectUrl ? { reconnectUrl: options.reconnectUrl } : {}),
  });
  log(`speaker publishing ${speaker.producerId}`);
  const groups: Group[] = [];
  try {
    const processes = Math.max(0, Math.min(options.processes, 16));
    const shares = Math.max(1, processes);
    const interval = options.listeners > 1 ? (options.rampSeconds * 1000) / options.listeners : 0;
    const decodeEvery =
      options.decodeSample > 0 ? Math.max(1, Math.floor(options.listeners / options.decodeSample)) : 0;
    const entries: GroupPlan['listeners'] = Array.from({ length: options.listeners }, (_, i) => ({
      id: i,
      token: options.token('listener', `load-listener-${i}`),
      startAtMs: Math.round(i * interval),
      decode: decodeEvery > 0 && i % decodeEvery === 0,
      ...(options.listenerUrls?.length ? { url: options.listenerUrls[i % options.listenerUrls.length] } : {}),
    }));
    // Listener i goes to group i mod shares: each group's share is spread over the whole ramp.
    const plans: GroupPlan[] = Array.from({ length: shares }, (_, group) => ({
      url: options.url,
      listeners: entries.filter((entry) => entry.id % shares === group),
      concurrency: Math.max(1, Math.ceil(options.concurrency / shares)),
      toneHz,
      joinTimeoutMs,
      fidelity: options.fidelity ?? 'chrome',
      video: options.video === true,
      ...(options.reconnectUrl ? { reconnectUrl: options.reconnectUrl } : {}),
      // Only for child processes: renicing this process would slow the speaker too.
      ...(options.listenerNice !== undefined && processes > 0 ? { nice: options.listenerNice } : {}),
    }));
    for (const plan of plans) groups.push(processes === 0 ? localGroup(plan) : await childGroup(plan));
    log(
      `ramp: ${options.listeners} listeners over ${options.rampSeconds} s, ${shares} group(s), concurrency ${options.concurrency}`,
    );
    const rampStart = performance.now();
    await Promise.all(groups.map((g) => g.run()));
    const rampActualSeconds = (performance.now() - rampStart) / 1000;
    log(`ramp done in ${rampActualSeconds.toFixed(1)} s; steady for ${options.durationSeconds} s`);
    const counts = async (): Promise<GroupCounts> => {
      const all = await Promise.all(groups.map((g) => g.counts()));
      return all.reduce((a, b) => ({ audio: a.audio + b.audio, video: a.video + b.video }), { audio: 0, video: 0 });
    };
    await options.onSteady?.(counts);
    const steadyStart = performance.now();
    const sentAtSteady = speaker.sent;
    const steadyEnd = steadyStart + options.durationSeconds * 1000;
    while (performance.now() < steadyEnd) await sleep(Math.min(1000, steadyEnd - performance.now()));
    await options.onSteadyEnd?.(counts);
    const steadyEndAt = performance.now();
    const steadySeconds = (steadyEndAt - steadyStart) / 1000;
    const steadyPackets = speaker.sent - sentAtSteady;
    speaker.stop();
    for (const g of groups) g.speakerStopped();
    // Let the last packets in flight land before counting.
    await sleep(500);
    const reports = await Promise.all(groups.map((g) => g.report()));
    const perListener = reports.flatMap((r) => r.listeners).sort((a, b) => a.id - b.id);
    const ok = perListener.filter((l) => l.ok);
    const errors: Record<string, number> = {};
    for (const l of perListener) if (l.error) errors[l.error] = (errors[l.error] ?? 0) + 1;
    const failed = options.listeners - ok.length;
    const expected = perListener.reduce((s, l) => s + l.expected, 0);
    const received = perListener.reduce((s, l) => s + l.received, 0);
    const stats: Stats = (values) => ({
      p50: percentile(values, 50),
      p95: percentile(values, 95),
      max: values.length ? Math.max(...values) : Number.NaN,
    });
    const checked = perListener.filter((l) => l.toneDominance !== undefined);
    const generatorCpuSeconds = reports.reduce((s, r) => s + r.cpuSeconds, 0);
    const elapsed = rampActualSeconds + steadySeconds;
    return {
      listeners: options.listeners,
      joined: ok.length,
      failedJoins: failed,
      errors,
      packetsExpected: expected,
      packetsReceived: received,
      packetsLost: expected - received,
      deliveredPct: expected > 0 ? Number(((100 * received) / expected).toFixed(3)) : 0,
      connectedMs: stats(ok.flatMap((l) => (l.connectedMs !== undefined ? [l.connectedMs] : []))),
      joinToFirstAudioMs: stats(ok.flatMap((l) => (l.firstAudioMs !== undefined ? [l.firstAudioMs] : []))),
      audioChecked: checked.length,
      audioCheckPassed: checked.filter((l) => (l.toneDominance ?? 0) > 0.9).length,
      speakerPacketsSent: steadyPackets,
      speakerRefused: speaker.refused,
      speakerLateTicks: speaker.lateTicks,
      notificationsPerListener: Number(
        (perListener.reduce((s, l) => s + l.notifications, 0) / Math.max(1, perListener.length)).toFixed(2),
      ),
      signalledMs: stats(ok.flatMap((l) => (l.signalledMs !== undefined ? [l.signalledMs] : []))),
      steadySeconds: Number(steadySeconds.toFixed(2)),
      rampActualSeconds: Number(rampActualSeconds.toFixed(2)),
      generatorCpuSeconds: Number(generatorCpuSeconds.toFixed(2)),
      generatorCpuPctPerListener: Number(((100 * generatorCpuSeconds) / elapsed / Math.max(1, ok.length)).toFixed(4)),
      generatorRssBytes: reports.reduce((s, r) => s + r.rssBytes, 0),
      generatorPids: groups.map((g) => g.pid),
      listenerSocketDrops: reports.reduce((s, r) => s + r.socketDrops, 0),
      lostBeforeFirst: perListener.reduce((s, l) => s + l.lostBeforeFirst, 0),
      lostAtEnd: perListener.reduce((s, l) => s + l.lostAtEnd, 0),
      fidelity: options.fidelity ?? 'chrome',
      negotiated: ok[0]?.negotiated ?? [],
      srtpProfiles: [...new Set(reports.flatMap((r) => (r.srtpProfile ? [r.srtpProfile] : [])))],
      listenerRtcpSent: {
        receiverReports: Number(
          (perListener.reduce((s, l) => s + l.rtcpSent.receiverReports, 0) / Math.max(1, perListener.length)).toFixed(
            2,
          ),
        ),
        transportCc: Number(
          (perListener.reduce((s, l) => s + l.rtcpSent.transportCc, 0) / Math.max(1, perListener.length)).toFixed(2),
        ),
      },
      speakerRtcpReceived: { ...speaker.rtcpReceived },
      speakerRecoveries: speaker.recoveries.map((r) => ({ ...r })),
      ...(speaker.video
        ? { video: videoSummary(perListener, speaker, { rampStart, steadyStart, steadyEnd: steadyEndAt }, stats) }
        : {}),
      perListener,
    };
  } finally {
    for (const g of groups) g.close();
    speaker.close();
  }
}
