import { SequenceCounter } from './rtp.js';
import type { ReceptionBlock } from './rtcp.js';

export interface StreamReport {
  expected: number;
  received: number;
  lost: number;
  /** Of `lost`: packets due between the listener being ready and its first packet, and after its last. */
  lostBeforeFirst: number;
  lostAtEnd: number;
  /** Video: frames completed (marker bit) and frames per second from their RTP timestamps. */
  frames?: number;
  fps?: number;
}

/**
 * One received RTP stream (one SSRC), counted as a receiver report would (sequence numbers),
 * plus what sequence numbers cannot see: packets due before the first one arrived and after
 * the last, from the stream's nominal packet interval (audio: 20 ms).
 */
export class ReceivedStream {
  readonly counter = new SequenceCounter();
  firstAt: number | undefined;
  /** When the first complete frame (marker bit) arrived: video's time to first frame. */
  firstFrameAt: number | undefined;
  lastAt = 0;
  /** SRTP-decrypted RTP bytes received (headers included). */
  bytes = 0;
  private jitter = 0;
  private lastTransit: number | undefined;
  private frames = 0;
  private firstTs: number | undefined;
  private lastFrameTs: number | undefined;
  private reportedExpected = 0;
  private reportedReceived = 0;
  private lsr = 0;
  private srAt = 0;

  constructor(
    readonly ssrc: number,
    private readonly clockRate: number,
    /** Nominal packet interval in ms (audio 20), or undefined when it varies (video). */
    private readonly intervalMs: number | undefined,
  ) {}

  push(packet: Buffer, now: number): void {
    if (this.firstAt === undefined) this.firstAt = now;
    this.lastAt = now;
    this.bytes += packet.length;
    this.counter.push(packet.readUInt16BE(2));
    const ts = packet.readUInt32BE(4);
    // RFC 3550 A.8 interarrival jitter, in timestamp units.
    const transit = (now * this.clockRate) / 1000 - ts;
    if (this.lastTransit !== undefined) this.jitter += (Math.abs(transit - this.lastTransit) - this.jitter) / 16;
    this.lastTransit = transit;
    if ((packet[1] ?? 0) & 0x80) {
      if (this.firstFrameAt === undefined) this.firstFrameAt = now;
      this.frames += 1;
      if (this.firstTs === undefined) this.firstTs = ts;
      this.lastFrameTs = ts;
    }
  }

  onSenderReport(lsr: number, now: number): void {
    this.lsr = lsr;
    this.srAt = now;
  }

  /** A reception block for a receiver report, with the fraction lost since the previous one. */
  receptionBlock(now: number): ReceptionBlock {
    const expected = this.counter.expected;
    const received = this.counter.received;
    const expectedInterval = expected - this.reportedExpected;
    const lostInterval = expectedInterval - (received - this.reportedReceived);
    this.reportedExpected = expected;
    this.reportedReceived = received;
    return {
      ssrc: this.ssrc,
      fractionLost: expectedInterval > 0 && lostInterval > 0 ? Math.floor((lostInterval * 256) / expectedInterval) : 0,
      cumulativeLost: Math.max(0, expected - received),
      extendedHighest: this.counter.extendedHighest,
      jitter: this.jitter,
      lsr: this.lsr,
      dlsr: this.srAt > 0 ? Math.round(((now - this.srAt) / 1000) * 65536) : 0,
    };
  }

  /**
   * `readyAt`: when the listener could first receive (connected and consumer resumed);
   * `stoppedAt`: when the sender stopped. Both in this process's performance.now().
   */
  report(readyAt: number | undefined, stoppedAt: number | undefined): StreamReport {
    const interval = this.intervalMs;
    let lostBeforeFirst = 0;
    let lostAtEnd = 0;
    if (interval !== undefined && readyAt !== undefined) {
      const firstAt = this.firstAt ?? stoppedAt;
      // One interval of grace: the first packet due may be on its way when the listener is ready.
      if (firstAt !== undefined) lostBeforeFirst = Math.max(0, Math.floor((firstAt - readyAt) / interval) - 1);
    }
    if (stoppedAt !== undefined && this.firstAt !== undefined) {
      const gap = stoppedAt - this.lastAt;
      if (interval !== undefined) lostAtEnd = Math.max(0, Math.floor(gap / interval) - 1);
      else if (gap > 1000) {
        // Video: the stream's own mean rate over what it received.
        const rate = this.counter.received / Math.max(1, this.lastAt - this.firstAt);
        lostAtEnd = Math.floor(gap * rate);
      }
    }
    const expected = this.counter.expected + lostBeforeFirst + lostAtEnd;
    const received = Math.min(this.counter.received, expected);
    const seconds =
      this.firstTs !== undefined && this.lastFrameTs !== undefined
        ? ((this.lastFrameTs - this.firstTs) >>> 0) / this.clockRate
        : 0;
    return {
      expected,
      received,
      lost: expected - received,
      lostBeforeFirst,
      lostAtEnd,
      ...(this.intervalMs === undefined
        ? { frames: this.frames, fps: seconds > 0 ? Number(((this.frames - 1) / seconds).toFixed(2)) : 0 }
        : {}),
    };
  }
}
