import type { ProducerInfo, SessionEndReason, TransportOptions } from '../../server/src/signalling/catalog.js';
import { LoadSignalling } from './signalling.js';
import {
  ATTEMPT_TIMEOUT_MS,
  MAX_RECONNECT_ATTEMPTS,
  reconnectDelay,
  type Recovery,
  redirectOf,
  sleep,
  within,
} from './reconnect.js';
import { localFingerprint, remoteSdp, type MediaSection } from './sdp.js';
import { isRtcp, readExtension, rtpPayload } from './rtp.js';
import { ToneDetector } from './opusTone.js';
import { chromeRtpCapabilities, EXT, leanRtpCapabilities } from './chromeCapabilities.js';
import {
  consumerSection,
  extensionId,
  addProbatorAfterFirstVideo,
  type ConsumerRtpParameters,
} from './consumerSection.js';
import { ReceivedStream, type StreamReport } from './receivedStream.js';
import { RTCP, receiverReport, rtcpPackets, senderReportMiddle, TransportCcFeedback } from './rtcp.js';

import {
  loopbackPeer,
  nextEvent,
  type PeerConnectionT,
  RECOVERABLE_ENDS,
  type TrackT,
  type Fidelity,
} from './peers.js';

export interface ListenerReport {
  id: number;
  ok: boolean;
  error?: string;
  /** From the start of the join to ICE + DTLS connected, and to the first audio packet. */
  connectedMs?: number;
  firstAudioMs?: number;
  /** Video listeners: from the start of the join to the first video packet. */
  firstVideoMs?: number;
  /** From the start of the join to the last signalling answer (resumeConsumer). */
  signalledMs?: number;
  /** Socket.IO notifications this listener received (acknowledgements not included). */
  notifications: number;
  /** Audio, counted by sequence number plus the losses before the first packet and after the last. */
  expected: number;
  received: number;
  lost: number;
  lostBeforeFirst: number;
  lostAtEnd: number;
  video?: StreamReport;
  /** RTCP this listener sent: receiver reports and transport-cc feedback packets. */
  rtcpSent: { receiverReports: number; transportCc: number };
  /** What the consumers negotiated: header extensions and each codec's rtcp-fb, per kind. */
  negotiated: string[];
  /** RTP on SSRCs no consumer announced (mediasoup's bandwidth probation), not counted as media. */
  probationPackets: number;
  /** Sampled listeners decode the stream: the tone's share of the power, ~1 for real audio. */
  toneDominance?: number;
  /** Listeners with `reconnectUrl`: each interruption of their audio and its recovery. */
  recoveries?: Recovery[];
}

export interface ListenerOptions {
  url: string;
  token: string;
  decode: boolean;
  toneHz: number;
  /** Chrome's capabilities and RTCP (the default), or the lean client of the first benchmarks. */
  fidelity?: Fidelity;
  /** Also take the camera at the lowest simulcast layer (the video briefing). */
  video?: boolean;
  /**
   * Opt-in recovery (audio): when the signalling drops, rejoin through this address (a redirect
   * is followed first), and follow the commander's microphone when it is published again.
   */
  reconnectUrl?: string;
}

/**
 * One receive-only listener: real signalling, ICE, DTLS-SRTP; counts RTP by sequence number and
 * sends RTCP back as Chrome does with what it negotiated: a receiver report every 5 s (1 s with
 * video: libwebrtc's intervals) and, when transport-wide-cc was negotiated (video), transport-cc
 * feedback every 100 ms (libwebrtc's default interval).
 */
export class RtcListener {
  private pc: PeerConnectionT | undefined;
  private signalling: LoadSignalling | undefined;
  private audio: ReceivedStream | undefined;
  private video: ReceivedStream | undefined;
  private readonly streams = new Map<number, ReceivedStream>();
  private startedAt = 0;
  private connectedAt: number | undefined;
  private readyAt: number | undefined;
  private signalledMs: number | undefined;
  private notifications = 0;
  private probationPackets = 0;
  private readonly negotiated: string[] = [];
  private readonly rtcpSent = { receiverReports: 0, transportCc: 0 };
  private transportCc: { id: number; feedback: TransportCcFeedback } | undefined;
  private readonly ssrc = (Math.random() * 0xffffffff) >>> 0;
  private readonly timers: NodeJS.Timeout[] = [];
  private error: string | undefined;
  /** Sampled listeners keep the first second of payloads, decoded once the run is over. */
  private captured: Buffer[] | undefined;
  private readonly keep: TrackT[] = [];
  // Recovery (with `reconnectUrl`): see follow(), work() and reconnect().
  private joined = false;
  private closed = false;
  private working = false;
  private want: Recovery['cause'] | undefined;
  private nextProducer: ProducerInfo | undefined;
  private redirectTo: string | undefined;
  private ended: SessionEndReason | undefined;
  private audioProducerId: string | undefined;
  /** The room's audio producers as this signalling knows them (join's list, added, less closed). */
  private audioProducers = new Map<string, ProducerInfo>();
  private transport: TransportOptions | undefined;
  /** The m-sections offered so far on the current transport (a re-offer keeps them all). */
  private sections: MediaSection[] = [];
  /** When the current audio stream could first receive (only the join's: a recovery's gap is counted apart). */
  private streamReadyAt: number | undefined;
  /** Audio of the streams before each recovery, and the recoveries themselves. */
  private readonly retired: StreamReport[] = [];
  private readonly recoveries: Recovery[] = [];
  private lastAudioAt: number | undefined;
  private firstAudioAt: number | undefined;
  private gapFrom = 0;

  constructor(
    readonly id: number,
    private readonly options: ListenerOptions,
  ) {}

  async join(timeoutMs = 30_000): Promise<void> {
    this.startedAt = performance.now();
    try {
      await Promise.race([
        this.joinSteps(),
        new Promise((_, reject) => setTimeout(() => reject(new Error('join timed out')), timeoutMs).unref()),
      ]);
    } catch (error) {
      this.error = (error as Error).message;
      throw error;
    }
  }

  private async joinSteps(): Promise<void> {
    const { signalling, producers } = await this.signal(this.options.url);
    await this.receive(signalling, producers, true);
    this.joined = true;
  }

  /**
   * Connects and joins; `producers` reads the room's producers: the join's list and any
   * announced meanwhile (a producer added while the transport is being created is not missed).
   */
  private async signal(url: string): Promise<{ signalling: LoadSignalling; producers: () => ProducerInfo[] }> {
    const signalling = await LoadSignalling.connect(url, this.options.token);
    this.signalling = signalling;
    signalling.socket.onAny(() => {
      this.notifications += 1;
    });
    const added: ProducerInfo[] = [];
    const known = new Map<string, ProducerInfo>();
    this.audioProducers = known;
    signalling.on('producerAdded', (p) => {
      added.push(p);
      if (p.kind === 'audio') known.set(p.producerId, p);
    });
    signalling.on('producerClosed', ({ producerId }) => known.delete(producerId));
    if (this.options.reconnectUrl) this.follow(signalling);
    const { rtpCapabilities } = await signalling.request('getRouterRtpCapabilities', {});
    const caps =
      this.options.fidelity !== 'lean'
        ? chromeRtpCapabilities(rtpCapabilities, this.kinds)
        : leanRtpCapabilities(rtpCapabilities);
    const joined = await signalling.request('join', { rtpCapabilities: caps });
    for (const p of joined.producers) if (p.kind === 'audio' && !known.has(p.producerId)) known.set(p.producerId, p);
    return { signalling, producers: () => [...joined.producers, ...added] };
  }

  private get kinds(): ('audio' | 'video')[] {
    return this.options.video ? ['audio', 'video'] : ['audio'];
  }

  /**
   * A receive transport and a consumer per kind, then ICE + DTLS. `first`: the join's own
   * (its timings and negotiation are the report's); otherwise a recovery's.
   */
  private async receive(
    signalling: LoadSignalling,
    producers: () => ProducerInfo[],
    first: boolean,
    chosen?: ProducerInfo,
  ): Promise<void> {
    const transport = await signalling.request('createTransport', { direction: 'recv' });
    this.transport = transport;
    const wanted = this.kinds.map((kind) => {
      const list = producers();
      // A recovering listener takes the newest: a stale one may still be listed until its node is known dead.
      const producer =
        (kind === 'audio' ? chosen : undefined) ??
        (this.options.reconnectUrl ? list.findLast((p) => p.kind === kind) : list.find((p) => p.kind === kind));
      if (!producer) throw new Error(`no ${kind} producer in the room`);
      return producer;
    });
    const sections: MediaSection[] = [];
    const consumerIds: string[] = [];
    for (const producer of wanted) {
      const consumer = await signalling.request('consume', { producerId: producer.producerId });
      // The catalog carries RTP parameters as a mediasoup dictionary.
      const rtpParameters = consumer.rtpParameters as unknown as ConsumerRtpParameters;
      const section = consumerSection(consumer.kind, rtpParameters);
      if (section.ssrc === undefined) throw new Error('consumer without SSRC');
      const stream = new ReceivedStream(
        section.ssrc,
        rtpParameters.codecs[0]?.clockRate ?? 48000,
        consumer.kind === 'audio' ? 20 : undefined,
      );
      this.streams.set(section.ssrc, stream);
      if (consumer.kind === 'audio') {
        this.audio = stream;
        this.audioProducerId = producer.producerId;
      } else this.video = stream;
      const twcc = extensionId(rtpParameters, EXT.transportCc);
      if (twcc !== undefined && !this.transportCc)
        this.transportCc = { id: twcc, feedback: new TransportCcFeedback(this.ssrc, section.ssrc) };
      if (first)
        this.negotiated.push(
          ...(rtpParameters.headerExtensions ?? []).map((e) => `${consumer.kind} extmap ${e.uri}`),
          ...rtpParameters.codecs.map(
            (c) =>
              `${consumer.kind} ${c.mimeType} rtcp-fb [${(c.rtcpFeedback ?? []).map((f) => `${f.type}${f.parameter ? ` ${f.parameter}` : ''}`).join(', ')}]`,
          ),
        );
      sections.push(section);
      consumerIds.push(consumer.consumerId);
      addProbatorAfterFirstVideo(sections, consumer.kind, rtpParameters);
    }

    const pc = loopbackPeer(`listener-${this.id}`);
    this.pc = pc;
    const connected = nextEvent<void>(
      (done) =>
        pc.onStateChange((state) => {
          if (state === 'connected') {
            if (first) this.connectedAt = performance.now();
            done();
          }
        }),
      20_000,
      'ICE + DTLS',
    );
    pc.onTrack((track) => {
      this.keep.push(track);
      track.onMessage((packet) => this.onPacket(packet));
    });
    const answered = nextEvent<string>((done) => pc.onLocalDescription((sdp) => done(sdp)), 10_000, 'the local answer');
    pc.setRemoteDescription(remoteSdp(transport, sections, 'offer'), 'offer');
    this.sections = sections;
    const answer = pc.localDescription()?.sdp ?? (await answered);
    await signalling.request('connectTransport', {
      transportId: transport.id,
      dtlsParameters: { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: localFingerprint(answer) }] },
    });
    for (const consumerId of consumerIds) await signalling.request('resumeConsumer', { consumerId });
    const resumedAt = performance.now();
    if (first) {
      this.signalledMs = resumedAt - this.startedAt;
      if (this.options.decode) this.captured = [];
    }
    await connected;
    if (first) {
      this.readyAt = Math.max(resumedAt, this.connectedAt ?? resumedAt);
      this.streamReadyAt = this.readyAt;
    }
    this.startRtcp();
  }

  /**
   * Recovery triggers on a joined listener's signalling: its drop (a redirect first names where
   * to go), and the commander's microphone published again: any new audio producer, a briefing
   * having one speaker (a meeting's members would need to tell theirs apart by participant).
   */
  private follow(signalling: LoadSignalling): void {
    const live = (): boolean => this.joined && !this.closed && this.signalling === signalling;
    signalling.on('sessionEnded', ({ reason, redirect }) => {
      if (!live()) return;
      if (redirect) this.redirectTo = redirect.url;
      // As the page: removed, revoked, replaced… is final; a restart, a drain or lost media is not.
      else if (!RECOVERABLE_ENDS.has(reason)) this.ended = reason;
    });
    signalling.socket.on('disconnect', () => {
      if (!live()) return;
      if (this.ended) {
        this.error ??= `session ended: ${this.ended}`;
        return;
      }
      this.want = this.redirectTo ? 'redirected' : 'signalling-lost';
      void this.work();
    });
    signalling.on('producerClosed', ({ producerId }) => {
      if (!live() || producerId !== this.audioProducerId) return;
      this.notice('producer-changed');
      // Rejoined while the dead node's producer was still listed beside the commander's new one,
      // this listener may have taken the stale one: when it closes, take the one still there.
      const other = [...this.audioProducers.values()].findLast((p) => p.producerId !== producerId);
      if (!other) return;
      this.nextProducer = other;
      this.want ??= 'producer-changed';
      void this.work();
    });
    signalling.on('producerAdded', (producer) => {
      if (!live() || producer.kind !== 'audio' || producer.producerId === this.audioProducerId) return;
      this.notice('producer-changed');
      this.nextProducer = producer;
      this.want ??= 'producer-changed';
      void this.work();
    });
  }

  /** The open recovery (audio not back yet), or a new one from now. */
  private notice(cause: Recovery['cause']): Recovery {
    const open = this.recoveries.at(-1);
    if (open && open.backAt === undefined) return open;
    const recovery: Recovery = { cause, noticedAt: Date.now(), attempts: 0, lostAcrossGap: 0 };
    this.recoveries.push(recovery);
    this.gapFrom = this.lastAudioAt ?? performance.now();
    return recovery;
  }

  /** One recovery at a time; a drop during a producer change turns it into a reconnection. */
  private async work(): Promise<void> {
    if (this.working) return;
    this.working = true;
    try {
      while (this.want && !this.closed) {
        const cause = this.want;
        this.want = undefined;
        if (cause !== 'producer-changed') {
          const recovery = this.notice(cause);
          this.retire();
          await this.reconnect(recovery, cause);
          continue;
        }
        const producer = this.nextProducer;
        const signalling = this.signalling;
        this.nextProducer = undefined;
        if (!producer || !signalling || producer.producerId === this.audioProducerId) continue;
        const recovery = this.notice(cause);
        recovery.attempts += 1;
        try {
          await within(this.consumeAgain(signalling, producer), ATTEMPT_TIMEOUT_MS, 'consume');
        } catch (error) {
          // A drop meanwhile has queued a reconnection; otherwise the next announcement retries.
          recovery.error = (error as Error).message;
        }
      }
    } finally {
      this.working = false;
    }
  }

  /**
   * The commander's microphone published again (from another node): consumed on the same
   * transport (relais gives a participant one receive transport). The new consumer's SSRC is
   * told to the peer in a new offer.
   */
  private async consumeAgain(signalling: LoadSignalling, producer: ProducerInfo): Promise<void> {
    const pc = this.pc;
    const transport = this.transport;
    if (!pc || !transport) throw new Error('no receive transport to consume on');
    const consumer = await signalling.request('consume', { producerId: producer.producerId });
    const rtpParameters = consumer.rtpParameters as unknown as ConsumerRtpParameters;
    const section = consumerSection('audio', rtpParameters);
    if (section.ssrc === undefined) throw new Error('consumer without SSRC');
    if (this.audio) {
      this.retired.push(this.audio.report(this.streamReadyAt, undefined));
      this.streams.delete(this.audio.ssrc);
    }
    this.streamReadyAt = undefined;
    const stream = new ReceivedStream(section.ssrc, rtpParameters.codecs[0]?.clockRate ?? 48000, 20);
    this.streams.set(section.ssrc, stream);
    this.audio = stream;
    this.audioProducerId = producer.producerId;
    // The new consumer has its own mid on the transport: a section added, as a browser's re-offer.
    this.sections.push(section);
    pc.setRemoteDescription(remoteSdp(transport, this.sections, 'offer'), 'offer');
    await signalling.request('resumeConsumer', { consumerId: consumer.consumerId });
  }

  /** Connects again (to the redirect's node, else the balancer) with backoff and jitter, bounded. */
  private async reconnect(recovery: Recovery, cause: Recovery['cause']): Promise<void> {
    const reconnectUrl = this.options.reconnectUrl ?? this.options.url;
    let url = this.redirectTo ?? reconnectUrl;
    this.redirectTo = undefined;
    this.dropSignalling();
    for (let attempt = 0; attempt < MAX_RECONNECT_ATTEMPTS && !this.closed; attempt++) {
      // A redirect is followed at once; a lost node is retried after a jittered pause.
      if (attempt > 0 || cause !== 'redirected') await sleep(reconnectDelay(attempt));
      recovery.attempts += 1;
      try {
        const { signalling, producers } = await within(this.signal(url), ATTEMPT_TIMEOUT_MS, 'rejoin');
        await within(this.receive(signalling, producers, false), ATTEMPT_TIMEOUT_MS, 'receive again');
        // A drop meanwhile has set `want`: work() goes round again.
        return;
      } catch (error) {
        recovery.error = (error as Error).message;
        this.retire();
        this.dropSignalling();
        url = redirectOf(error) ?? reconnectUrl;
      }
    }
    if (!this.closed) this.error ??= `reconnection failed: ${recovery.error ?? 'no attempt'}`;
  }

  private dropSignalling(): void {
    const signalling = this.signalling;
    this.signalling = undefined;
    signalling?.close();
  }

  /** The current receive transport is of no more use: its counts are kept, its peer closed. */
  private retire(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers.length = 0;
    if (this.audio) this.retired.push(this.audio.report(this.streamReadyAt, undefined));
    this.streamReadyAt = undefined;
    this.audio = undefined;
    this.video = undefined;
    this.audioProducerId = undefined;
    this.streams.clear();
    this.transportCc = undefined;
    this.keep.length = 0;
    this.pc?.close();
    this.pc = undefined;
    this.transport = undefined;
  }

  /** Receiver reports and transport-cc feedback, on libwebrtc's intervals. */
  private startRtcp(): void {
    if (this.options.fidelity === 'lean') return;
    const send = (packet: Buffer): boolean => {
      const track = this.keep[0];
      try {
        return track?.isOpen() === true && track.sendMessageBinary(packet);
      } catch {
        return false;
      }
    };
    this.timers.push(
      setInterval(
        () => {
          const now = performance.now();
          const blocks = [...this.streams.values()]
            .filter((s) => s.firstAt !== undefined)
            .map((s) => s.receptionBlock(now));
          if (blocks.length > 0 && send(receiverReport(this.ssrc, blocks))) this.rtcpSent.receiverReports += 1;
        },
        this.video ? 1000 : 5000,
      ),
    );
    const twcc = this.transportCc;
    if (twcc)
      this.timers.push(
        setInterval(() => {
          const packet = twcc.feedback.take();
          if (packet && send(packet)) this.rtcpSent.transportCc += 1;
        }, 100),
      );
  }

  /** libdatachannel calls this from native code: an exception here would end the process. */
  private onPacket(packet: Buffer): void {
    try {
      this.countPacket(packet);
    } catch (error) {
      if (!this.error)
        this.error = `packet handling: ${(error as Error).message} (header ${packet.subarray(0, 16).toString('hex')})`;
      this.captured = undefined;
    }
  }

  private countPacket(packet: Buffer): void {
    if (packet.length < 8) return;
    const now = performance.now();
    if (isRtcp(packet)) {
      for (const p of rtcpPackets(packet)) {
        if (p.pt !== RTCP.SR) continue;
        const sr = senderReportMiddle(p.packet);
        if (sr) this.streams.get(sr.ssrc)?.onSenderReport(sr.lsr, now);
      }
      return;
    }
    if (packet.length < 12) return;
    if (this.transportCc) {
      const value = readExtension(packet, this.transportCc.id);
      if (value && value.length >= 2) this.transportCc.feedback.onPacket(value.readUInt16BE(0), now);
    }
    const stream = this.streams.get(packet.readUInt32BE(8));
    if (!stream) {
      this.probationPackets += 1;
      return;
    }
    stream.push(packet, now);
    if (stream === this.audio) this.audioArrived(now);
    if (stream === this.audio && this.captured && this.captured.length < 50)
      this.captured.push(Buffer.from(rtpPayload(packet)));
  }

  /** The first audio packet after a gap closes the open recovery. */
  private audioArrived(now: number): void {
    this.lastAudioAt = now;
    this.firstAudioAt ??= now;
    const open = this.recoveries.at(-1);
    if (!open || open.backAt !== undefined) return;
    open.backAt = Date.now();
    open.lostAcrossGap = Math.max(0, Math.floor((now - this.gapFrom) / 20) - 1);
  }

  /** Waits (bounded) for the first audio packet. */
  async firstAudio(timeoutMs: number): Promise<boolean> {
    const until = performance.now() + timeoutMs;
    while (this.audio?.firstAt === undefined && performance.now() < until) await new Promise((r) => setTimeout(r, 50));
    return this.audio?.firstAt !== undefined;
  }

  /** Packets received so far (audio, video): read by the benchmark at the edges of its window. */
  receivedSoFar(): { audio: number; video: number } {
    return { audio: this.audio?.counter.received ?? 0, video: this.video?.counter.received ?? 0 };
  }

  /**
   * What this listener got. `speakerStoppedAt` lets the stream count as lost what was due after
   * its last packet (sequence numbers alone cannot see a missing tail).
   */
  report(speakerStoppedAt?: number): ListenerReport {
    const audio = this.audioReport(speakerStoppedAt);
    const firstAudio = this.firstAudioAt;
    const firstVideo = this.video?.firstAt;
    return {
      id: this.id,
      ok: this.error === undefined && firstAudio !== undefined,
      ...(this.error ? { error: this.error } : firstAudio === undefined ? { error: 'no audio' } : {}),
      ...(this.connectedAt !== undefined ? { connectedMs: Math.round(this.connectedAt - this.startedAt) } : {}),
      ...(firstAudio !== undefined ? { firstAudioMs: Math.round(firstAudio - this.startedAt) } : {}),
      ...(firstVideo !== undefined ? { firstVideoMs: Math.round(firstVideo - this.startedAt) } : {}),
      ...(this.signalledMs !== undefined ? { signalledMs: Math.round(this.signalledMs) } : {}),
      notifications: this.notifications,
      expected: audio?.expected ?? 0,
      received: audio?.received ?? 0,
      lost: audio?.lost ?? 0,
      lostBeforeFirst: audio?.lostBeforeFirst ?? 0,
      lostAtEnd: audio?.lostAtEnd ?? 0,
      ...(this.video ? { video: this.video.report(this.readyAt, speakerStoppedAt) } : {}),
      rtcpSent: { ...this.rtcpSent },
      negotiated: this.negotiated,
      probationPackets: this.probationPackets,
      ...(this.captured ? { toneDominance: this.toneDominance(this.captured) } : {}),
      ...(this.recoveries.length > 0 ? { recoveries: this.recoveries.map((r) => ({ ...r })) } : {}),
    };
  }

  /** The audio of every stream this listener had, and what each recovery's gap lost. */
  private audioReport(speakerStoppedAt: number | undefined): StreamReport | undefined {
    const current = this.audio?.report(this.streamReadyAt, speakerStoppedAt);
    if (this.recoveries.length === 0) return current;
    const open = this.recoveries.at(-1);
    // A gap still open at the end: everything due from its start to the speaker's stop was lost.
    const openLoss =
      open?.backAt === undefined && speakerStoppedAt !== undefined
        ? Math.max(0, Math.floor((speakerStoppedAt - this.gapFrom) / 20) - 1)
        : 0;
    const gaps = this.recoveries.reduce((sum, r) => sum + r.lostAcrossGap, 0) + openLoss;
    const parts = [...this.retired, ...(current ? [current] : [])];
    const sum = (key: keyof StreamReport): number => parts.reduce((total, part) => total + (part[key] ?? 0), 0);
    const expected = sum('expected') + gaps;
    const received = sum('received');
    return {
      expected,
      received,
      lost: expected - received,
      lostBeforeFirst: sum('lostBeforeFirst'),
      lostAtEnd: sum('lostAtEnd') + openLoss,
    };
  }

  /** One decoder at a time, after the run: libopus in wasm is neither cheap nor reentrant here. */
  private toneDominance(payloads: Buffer[]): number {
    if (payloads.length < 25) return 0;
    const detector = new ToneDetector();
    try {
      for (const payload of payloads) detector.push(payload);
      return Number(detector.dominance(this.options.toneHz).toFixed(4));
    } catch {
      return 0;
    } finally {
      detector.close();
    }
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    this.timers.length = 0;
    this.captured = undefined;
    this.pc?.close();
    this.signalling?.close();
  }
}
