import os from 'node:os';
import nodeDataChannel from 'node-datachannel';
import type { Fidelity } from './peers.js';
import { udpReceiveDrops } from './procStat.js';
import { RtcListener, type ListenerReport } from './rtcListener.js';

export interface GroupPlan {
  url: string;
  /**
   * One entry per listener of this group: its id, token and start offset from the ramp's start,
   * and the node it joins when not `url` (a briefing spread over a cluster).
   */
  listeners: { id: number; token: string; startAtMs: number; decode: boolean; url?: string }[];
  /** Joins in flight at once in this group. */
  concurrency: number;
  toneHz: number;
  joinTimeoutMs: number;
  fidelity?: Fidelity;
  /** Listeners also take the camera's lowest layer. */
  video?: boolean;
  /** Listeners recover through this address when their signalling drops (see reconnect.ts). */
  reconnectUrl?: string;
  /**
   * The niceness of the process holding the group (a child of the generator): above the SFU's and
   * the speaker's (0), so that on a machine they share, the listeners starve before the SFU or the
   * speaker does, and a shortfall shows up as the listeners' own socket drops.
   */
  nice?: number;
}

/** Packets the group's listeners have received so far, by kind. */
export interface GroupCounts {
  audio: number;
  video: number;
}

export interface GroupReport {
  listeners: ListenerReport[];
  /** CPU seconds this process used from the first join to the report, and its peak RSS. */
  cpuSeconds: number;
  rssBytes: number;
  pid: number;
  /** The SRTP profile libdatachannel logged for this group's first DTLS handshake. */
  srtpProfile?: string;
  /** Datagrams the kernel dropped at this process's full UDP receive buffers: packets the SFU delivered that it had no CPU to read. */
  socketDrops: number;
}

/**
 * libdatachannel names the SRTP profile it negotiated in a debug-level log line; the group
 * listens to its log for the first handshake only, then goes back to warnings.
 */
let srtpProfile: string | undefined;
function watchSrtpProfile(): void {
  nodeDataChannel.initLogger('Debug', (_level, message) => {
    const match = /SRTP profile is: (\S+)/.exec(message);
    if (match?.[1] && !srtpProfile) {
      srtpProfile = match[1];
      setImmediate(() =>
        nodeDataChannel.initLogger('Warning', (level, line) => console.error(`libdatachannel ${level}: ${line}`)),
      );
    }
  });
}

/**
 * A share of the listeners, joined on a schedule with bounded concurrency. Runs in the
 * generator's process or in a child of it (see listenerProcess.ts).
 */
export class ListenerGroup {
  readonly listeners: RtcListener[] = [];
  private readonly pending: Promise<void>[] = [];
  private cpuAtStart = process.cpuUsage();
  private stoppedAt: number | undefined;
  private cancelled = false;

  constructor(private readonly plan: GroupPlan) {}

  /** Starts the ramp; resolves when every listener has joined or failed. */
  async run(): Promise<void> {
    this.cpuAtStart = process.cpuUsage();
    if (this.plan.nice !== undefined) os.setPriority(this.plan.nice);
    watchSrtpProfile();
    const start = performance.now();
    let inFlight = 0;
    const waiters: (() => void)[] = [];
    const acquire = async (): Promise<void> => {
      while (inFlight >= this.plan.concurrency) await new Promise<void>((resolve) => waiters.push(resolve));
      inFlight += 1;
    };
    const release = (): void => {
      inFlight -= 1;
      waiters.shift()?.();
    };
    for (const entry of this.plan.listeners) {
      if (this.cancelled) break;
      const wait = start + entry.startAtMs - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      await acquire();
      const listener = new RtcListener(entry.id, {
        url: entry.url ?? this.plan.url,
        token: entry.token,
        decode: entry.decode,
        toneHz: this.plan.toneHz,
        ...(this.plan.fidelity ? { fidelity: this.plan.fidelity } : {}),
        ...(this.plan.video ? { video: true } : {}),
        ...(this.plan.reconnectUrl ? { reconnectUrl: this.plan.reconnectUrl } : {}),
      });
      this.listeners.push(listener);
      this.pending.push(
        listener
          .join(this.plan.joinTimeoutMs)
          .then(() => listener.firstAudio(10_000))
          .then(
            () => undefined,
            () => undefined,
          )
          .finally(release),
      );
    }
    await Promise.all(this.pending);
  }

  /** The speaker stopped now: streams that stalled before this count their tail as lost. */
  speakerStopped(): void {
    this.stoppedAt = performance.now();
  }

  /** What the listeners received so far: read at the two edges of the benchmark's window. */
  counts(): GroupCounts {
    const counts = { audio: 0, video: 0 };
    for (const listener of this.listeners) {
      const r = listener.receivedSoFar();
      counts.audio += r.audio;
      counts.video += r.video;
    }
    return counts;
  }

  report(): GroupReport {
    const cpu = process.cpuUsage(this.cpuAtStart);
    return {
      listeners: this.listeners.map((l) => l.report(this.stoppedAt)),
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      rssBytes: process.memoryUsage().rss,
      pid: process.pid,
      ...(srtpProfile ? { srtpProfile } : {}),
      socketDrops: udpReceiveDrops([process.pid]),
    };
  }

  close(): void {
    this.cancelled = true;
    for (const listener of this.listeners) listener.close();
  }
}
