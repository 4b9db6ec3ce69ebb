/**
 * A crisis-meeting member: publishes its microphone (the Opus tone) and a camera (synthetic VP8,
 * three simulcast layers) through OpusSpeaker, and receives every other member's audio and camera
 * on one receive transport, as a browser's grid does: one camera at the high layer, the rest at
 * the low layer. RTCP back as Chrome: a receiver report every second, transport-cc feedback every
 * 100 ms.
 *
 * Simplification: members subscribe once, after everyone has published (one SDP offer with every
 * consumer), where a browser would renegotiate as each member arrives.
 */
import { EXT } from '../load/chromeCapabilities.js';
import {
  consumerSection,
  type ConsumerRtpParameters,
  extensionId,
  addProbatorAfterFirstVideo,
} from '../load/consumerSection.js';
import type { OpusSpeaker } from '../load/opusSpeaker.js';
import { loopbackPeer, nextEvent } from '../load/peers.js';
import { ReceivedStream } from '../load/receivedStream.js';
import { RTCP, receiverReport, rtcpPackets, senderReportMiddle, TransportCcFeedback } from '../load/rtcp.js';
import { isRtcp, readExtension } from '../load/rtp.js';
import { localFingerprint, type MediaSection, remoteSdp } from '../load/sdp.js';

type PeerConnectionT = ReturnType<typeof loopbackPeer>;
type TrackT = ReturnType<PeerConnectionT['addTrack']>;

export interface MemberCounts {
  audio: number;
  video: number;
  bytes: number;
}

export interface MemberReport {
  id: number;
  error?: string;
  /** Of the lost (expected − received): due before a stream's first packet, after its last. */
  audio: { expected: number; received: number; lostBeforeFirst: number; lostAtEnd: number };
  video: {
    expected: number;
    received: number;
    lostBeforeFirst: number;
    lostAtEnd: number;
    fpsLow: number[];
    fpsHigh: number;
  };
  /** From the start of receiving (transport connected) to each camera's first complete frame. */
  firstFrameMs: number[];
  camerasWithoutFrame: number;
  bytesReceived: number;
}

export class MeetingMember {
  private pc: PeerConnectionT | undefined;
  /** By SSRC; `resumedAt`: when relais answered the stream's resume, from which its packets are due. */
  private readonly streams = new Map<
    number,
    { stream: ReceivedStream; kind: 'audio' | 'video'; high: boolean; resumedAt?: number }
  >();
  private readonly tracks: TrackT[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly ssrc = (Math.random() * 0xffffffff) >>> 0;
  private transportCc: { id: number; feedback: TransportCcFeedback } | undefined;
  private receivingAt: number | undefined;
  private error: string | undefined;

  constructor(
    readonly id: number,
    readonly speaker: OpusSpeaker,
  ) {}

  /** Consumes each of `producers` (other members' mic and camera); `high` is the camera shown large. */
  async receive(producers: { producerId: string; kind: 'audio' | 'video' }[], high: string | undefined): Promise<void> {
    try {
      await this.receiveSteps(producers, high);
    } catch (error) {
      this.error = (error as Error).message;
      throw error;
    }
  }

  private async receiveSteps(
    producers: { producerId: string; kind: 'audio' | 'video' }[],
    high: string | undefined,
  ): Promise<void> {
    const signalling = this.speaker.signalling;
    const transport = await signalling.request('createTransport', { direction: 'recv' });
    const sections: MediaSection[] = [];
    const consumers: { consumerId: string; high: boolean; ssrc: number }[] = [];
    for (const producer of producers) {
      const consumer = await signalling.request('consume', { producerId: producer.producerId });
      // The catalog carries RTP parameters as a mediasoup dictionary.
      const rtpParameters = consumer.rtpParameters as unknown as ConsumerRtpParameters;
      const section = consumerSection(consumer.kind, rtpParameters);
      if (section.ssrc === undefined) throw new Error('consumer without SSRC');
      const isHigh = producer.producerId === high;
      const stream = new ReceivedStream(
        section.ssrc,
        rtpParameters.codecs[0]?.clockRate ?? 48000,
        consumer.kind === 'audio' ? 20 : undefined,
      );
      this.streams.set(section.ssrc, { stream, kind: consumer.kind, high: isHigh });
      const twcc = extensionId(rtpParameters, EXT.transportCc);
      if (twcc !== undefined && !this.transportCc)
        this.transportCc = { id: twcc, feedback: new TransportCcFeedback(this.ssrc, section.ssrc) };
      sections.push(section);
      consumers.push({ consumerId: consumer.consumerId, high: isHigh, ssrc: section.ssrc });
      addProbatorAfterFirstVideo(sections, consumer.kind, rtpParameters);
    }
    const pc = loopbackPeer(`member-${this.id}-recv`);
    this.pc = pc;
    const connected = nextEvent<void>(
      (done) => pc.onStateChange((state) => state === 'connected' && done()),
      20_000,
      'ICE + DTLS (receive)',
    );
    pc.onTrack((track) => {
      this.tracks.push(track);
      track.onMessage((packet) => this.onPacket(packet));
    });
    const answered = nextEvent<string>((done) => pc.onLocalDescription((sdp) => done(sdp)), 10_000, 'the local answer');
    pc.setRemoteDescription(remoteSdp(transport, sections, 'offer'), 'offer');
    const answer = pc.localDescription()?.sdp ?? (await answered);
    await signalling.request('connectTransport', {
      transportId: transport.id,
      dtlsParameters: { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: localFingerprint(answer) }] },
    });
    await connected;
    this.receivingAt = performance.now();
    for (const c of consumers) {
      // As the grid asks: the large tile at the highest layer; relais starts the others at the lowest.
      if (c.high) await signalling.request('setConsumerLayers', { consumerId: c.consumerId, spatialLayer: 2 });
      await signalling.request('resumeConsumer', { consumerId: c.consumerId });
      // Resumed one after the other, as a page does: nothing of a stream is due before its own resume.
      const entry = this.streams.get(c.ssrc);
      if (entry) entry.resumedAt = performance.now();
    }
    this.startRtcp();
  }

  private startRtcp(): void {
    const send = (packet: Buffer): void => {
      const track = this.tracks[0];
      try {
        if (track?.isOpen()) track.sendMessageBinary(packet);
      } catch {
        // A closing track: the report is lost, as it would be on a closing browser tab.
      }
    };
    this.timers.push(
      setInterval(() => {
        const now = performance.now();
        const blocks = [...this.streams.values()]
          .filter((s) => s.stream.firstAt !== undefined)
          .slice(0, 31) // an RR holds at most 31 blocks
          .map((s) => s.stream.receptionBlock(now));
        if (blocks.length > 0) send(receiverReport(this.ssrc, blocks));
      }, 1000),
    );
    const twcc = this.transportCc;
    if (twcc)
      this.timers.push(
        setInterval(() => {
          const packet = twcc.feedback.take();
          if (packet) send(packet);
        }, 100),
      );
  }

  /** libdatachannel calls this from native code: nothing here may throw. */
  private onPacket(packet: Buffer): void {
    try {
      if (packet.length < 12) return;
      const now = performance.now();
      if (isRtcp(packet)) {
        for (const p of rtcpPackets(packet)) {
          if (p.pt !== RTCP.SR) continue;
          const sr = senderReportMiddle(p.packet);
          if (sr) this.streams.get(sr.ssrc)?.stream.onSenderReport(sr.lsr, now);
        }
        return;
      }
      if (this.transportCc) {
        const value = readExtension(packet, this.transportCc.id);
        if (value && value.length >= 2) this.transportCc.feedback.onPacket(value.readUInt16BE(0), now);
      }
      this.streams.get(packet.readUInt32BE(8))?.stream.push(packet, now);
    } catch (error) {
      if (!this.error) this.error = `packet handling: ${(error as Error).message}`;
    }
  }

  counts(): MemberCounts {
    const counts = { audio: 0, video: 0, bytes: 0 };
    for (const { stream, kind } of this.streams.values()) {
      counts[kind] += stream.counter.received;
      counts.bytes += stream.bytes;
    }
    return counts;
  }

  report(stoppedAt: number | undefined): MemberReport {
    const audio = { expected: 0, received: 0, lostBeforeFirst: 0, lostAtEnd: 0 };
    const video = { expected: 0, received: 0, lostBeforeFirst: 0, lostAtEnd: 0, fpsLow: [] as number[], fpsHigh: 0 };
    const firstFrameMs: number[] = [];
    let camerasWithoutFrame = 0;
    let bytesReceived = 0;
    for (const { stream, kind, high, resumedAt } of this.streams.values()) {
      const r = stream.report(resumedAt ?? this.receivingAt, stoppedAt);
      bytesReceived += stream.bytes;
      const target = kind === 'audio' ? audio : video;
      target.expected += r.expected;
      target.received += r.received;
      target.lostBeforeFirst += r.lostBeforeFirst;
      target.lostAtEnd += r.lostAtEnd;
      if (kind === 'video') {
        if (high) video.fpsHigh = r.fps ?? 0;
        else video.fpsLow.push(r.fps ?? 0);
        if (stream.firstFrameAt !== undefined && this.receivingAt !== undefined)
          firstFrameMs.push(Math.round(stream.firstFrameAt - this.receivingAt));
        else camerasWithoutFrame += 1;
      }
    }
    return {
      id: this.id,
      ...(this.error ? { error: this.error } : {}),
      audio,
      video,
      firstFrameMs,
      camerasWithoutFrame,
      bytesReceived,
    };
  }

  close(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers.length = 0;
    this.pc?.close();
    this.speaker.close();
  }
}
