import nodeDataChannel from 'node-datachannel';
import type { Dictionary, ProducerInfo } from '../../server/src/signalling/catalog.js';
import { LoadSignalling } from './signalling.js';
import { localFingerprint, remoteSdp, type MediaSection } from './sdp.js';
import { isRtcp, readExtension, rtpPacket, rtpPayload, type HeaderExtension } from './rtp.js';
import { ToneDetector } from './opusTone.js';
import { CHROME_AUDIO, chromeRtpCapabilities, EXT, leanRtpCapabilities } from './chromeCapabilities.js';
import { consumerSection, extensionId, type ConsumerRtpParameters } from './consumerSection.js';
import { ReceivedStream, type StreamReport } from './receivedStream.js';
import { CHROME_VIDEO } from './chromeCapabilities.js';
import { Vp8SimulcastSender, webClientLayers } from './vp8Simulcast.js';
import {
  isKeyframeRequest,
  RTCP,
  receiverReport,
  rtcpPackets,
  senderReport,
  senderReportMiddle,
  TransportCcFeedback,
} from './rtcp.js';

const { PeerConnection, Audio, Video } = nodeDataChannel;
type PeerConnectionT = InstanceType<typeof PeerConnection>;
type TrackT = ReturnType<PeerConnectionT['addTrack']>;

/** A router header extension, as the capabilities carry it. */
type RouterExtension = { kind: string; uri: string; preferredId: number };

/** What the generator's peers offer: Chrome's capabilities, or the lean set of the first benchmarks. */
export type Fidelity = 'chrome' | 'lean';

/** A libdatachannel peer bound to loopback: no STUN server, no other interface. */
export function loopbackPeer(name: string): PeerConnectionT {
  return new PeerConnection(name, { iceServers: [], bindAddress: '127.0.0.1', enableIceTcp: false });
}

/**
 * Resolves with the first value `register`'s callback is given: a one-shot event, bounded in time.
 * Marked handled: a join that fails at an earlier step never awaits it, and its timeout must not
 * then end the process as an unhandled rejection (a caller that awaits it still sees the rejection).
 */
export function nextEvent<T>(
  register: (done: (value: T) => void) => void,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const event = new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
    register((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
  event.catch(() => undefined);
  return event;
}

/** The speaker's header extensions: Chrome's set for the kind, at the ids the router prefers. */
function speakerExtensions(routerCaps: Dictionary, kind: 'audio' | 'video'): { uri: string; id: number }[] {
  const extensions = (routerCaps.headerExtensions ?? []) as RouterExtension[];
  const chrome: readonly string[] = kind === 'audio' ? CHROME_AUDIO.headerExtensions : CHROME_VIDEO.headerExtensions;
  return extensions
    .filter((e) => e.kind === kind && chrome.includes(e.uri))
    .map((e) => ({ uri: e.uri, id: e.preferredId }));
}

/** abs-send-time: 6.18 fixed-point seconds, 24 bits. */
function absSendTime(ms: number): Buffer {
  const value = Math.floor((ms * 2 ** 18) / 1000) & 0xffffff;
  return Buffer.from([value >> 16, (value >> 8) & 0xff, value & 0xff]);
}

/**
 * One speaker sending a looped, known Opus stream through the real signalling and WebRTC, as
 * Chrome sends it: mid, audio level, abs-send-time and transport-wide sequence numbers in every
 * packet, a sender report every 5 s (libwebrtc's audio interval). Chrome stops sending mid once
 * the SFU has acknowledged it; this speaker always sends it (one more byte to parse).
 */
export class OpusSpeaker {
  sent = 0;
  /** Packets libdatachannel refused to send (track not open or buffer full). */
  refused = 0;
  /** Ticks that found more than one packet due: the event loop was late. */
  lateTicks = 0;
  /** RTCP the SFU sent back, by kind: transport-cc feedback, receiver reports, keyframe requests. */
  readonly rtcpReceived = { transportCc: 0, receiverReports: 0, keyframeRequests: 0, other: 0 };
  private timer: NodeJS.Timeout | undefined;
  private reportTimer: NodeJS.Timeout | undefined;
  private seq = Math.floor(Math.random() * 0xffff);
  private timestamp = Math.floor(Math.random() * 0xffffffff);
  private transportSeq = 0;
  private octets = 0;
  private startedAt = 0;
  /** The camera, when the speaker is a video commander. */
  video: { sender: Vp8SimulcastSender; producerId: string } | undefined;
  /** Keyframe requests (PLI, FIR) that reached the speaker, with when (performance.now()). */
  readonly keyframeRequestTimes: number[] = [];

  private constructor(
    /** The speaker's participant: a meeting member also receives through it. */
    readonly signalling: LoadSignalling,
    private readonly pc: PeerConnectionT,
    private readonly track: TrackT,
    private readonly ssrc: number,
    private readonly extensionIds: { uri: string; id: number }[],
    readonly producerId: string,
  ) {}

  /** `video`: also publish a camera (synthetic VP8, three simulcast layers) on the same transport. */
  static async start(
    url: string,
    token: string,
    frames: Buffer[],
    options: { video?: boolean } = {},
  ): Promise<OpusSpeaker> {
    if (frames.length === 0) throw new Error('the speaker needs at least one Opus frame');
    const signalling = await LoadSignalling.connect(url, token);
    const pc = loopbackPeer('speaker');
    try {
      const { rtpCapabilities } = await signalling.request('getRouterRtpCapabilities', {});
      await signalling.request('join', {
        rtpCapabilities: chromeRtpCapabilities(rtpCapabilities, options.video ? ['audio', 'video'] : ['audio']),
      });
      const transport = await signalling.request('createTransport', { direction: 'send' });
      const payloadType = 111;
      const audio = new Audio('0', 'SendOnly');
      audio.addOpusCodec(payloadType);
      const cname = 'relais-load-speaker';
      const ssrc = (Math.random() * 0xffffffff) >>> 0;
      audio.addSSRC(ssrc, cname, 'speaker', 'mic');
      const track = pc.addTrack(audio);
      const opened = nextEvent<void>((done) => track.onOpen(() => done()), 15_000, 'the speaker track to open');
      const layers = webClientLayers();
      const vp8 = 96;
      let videoTrack: TrackT | undefined;
      if (options.video) {
        const video = new Video('1', 'SendOnly');
        video.addVP8Codec(vp8);
        for (const layer of layers) video.addSSRC(layer.ssrc, cname, 'speaker', 'camera');
        videoTrack = pc.addTrack(video);
      }
      pc.setLocalDescription();
      const offer = pc.localDescription();
      if (!offer) throw new Error('no local offer');
      const headerExtensions = speakerExtensions(rtpCapabilities, 'audio');
      const videoExtensions = speakerExtensions(rtpCapabilities, 'video');
      const videoSection: MediaSection = {
        kind: 'video',
        mid: '1',
        codecs: [
          { payloadType: vp8, rtpmap: 'VP8/90000', rtcpFeedback: CHROME_VIDEO.vp8Feedback },
          { payloadType: vp8 + 1, rtpmap: 'rtx/90000', parameters: { apt: vp8 } },
        ],
        headerExtensions: videoExtensions,
      };
      const section: MediaSection = {
        kind: 'audio',
        mid: '0',
        codecs: [
          {
            payloadType,
            rtpmap: 'opus/48000/2',
            parameters: CHROME_AUDIO.opusFmtp,
            rtcpFeedback: CHROME_AUDIO.opusFeedback,
          },
        ],
        headerExtensions,
      };
      pc.setRemoteDescription(
        remoteSdp(transport, options.video ? [section, videoSection] : section, 'answer'),
        'answer',
      );
      await signalling.request('connectTransport', {
        transportId: transport.id,
        dtlsParameters: {
          role: 'client',
          fingerprints: [{ algorithm: 'sha-256', value: localFingerprint(offer.sdp) }],
        },
      });
      const { producerId } = await signalling.request('produce', {
        transportId: transport.id,
        kind: 'audio',
        source: 'mic',
        rtpParameters: {
          mid: '0',
          codecs: [
            {
              mimeType: 'audio/opus',
              payloadType,
              clockRate: 48000,
              channels: 2,
              parameters: CHROME_AUDIO.opusFmtp,
              rtcpFeedback: CHROME_AUDIO.opusFeedback,
            },
          ],
          headerExtensions: headerExtensions.map((e) => ({ uri: e.uri, id: e.id })),
          encodings: [{ ssrc }],
          rtcp: { cname, reducedSize: true },
        },
      });
      await opened;
      const self = new OpusSpeaker(signalling, pc, track, ssrc, headerExtensions, producerId);
      track.onMessage((packet) => self.onRtcp(packet));
      if (videoTrack) {
        const camera = videoTrack;
        const { producerId: videoProducerId } = await signalling.request('produce', {
          transportId: transport.id,
          kind: 'video',
          source: 'camera',
          rtpParameters: {
            mid: '1',
            codecs: [
              {
                mimeType: 'video/VP8',
                payloadType: vp8,
                clockRate: 90000,
                parameters: {},
                rtcpFeedback: CHROME_VIDEO.vp8Feedback,
              },
              {
                mimeType: 'video/rtx',
                payloadType: vp8 + 1,
                clockRate: 90000,
                parameters: { apt: vp8 },
                rtcpFeedback: [],
              },
            ],
            headerExtensions: videoExtensions,
            encodings: layers.map((l, i) => ({
              rid: l.rid,
              scalabilityMode: 'L1T3',
              maxBitrate: l.bitrate,
              scaleResolutionDownBy: 2 ** (layers.length - 1 - i),
            })),
            rtcp: { cname, reducedSize: true },
          },
        });
        const sender = new Vp8SimulcastSender(
          layers,
          vp8,
          videoExtensions,
          (packet) => {
            try {
              return camera.isOpen() && camera.sendMessageBinary(packet);
            } catch {
              return false; // closed under the sender, as the audio above
            }
          },
          () => self.nextTransportSeq(),
          absSendTime,
        );
        self.video = { sender, producerId: videoProducerId };
        camera.onMessage((packet) => self.onRtcp(packet));
        sender.start();
      }
      self.send(frames, payloadType);
      return self;
    } catch (error) {
      pc.close();
      signalling.close();
      throw error;
    }
  }

  /** libdatachannel calls this from native code: nothing here may throw. */
  private onRtcp(packet: Buffer): void {
    if (!isRtcp(packet)) return;
    for (const p of rtcpPackets(packet)) {
      if (p.pt === RTCP.RTPFB && p.fmt === 15) this.rtcpReceived.transportCc += 1;
      else if (p.pt === RTCP.RR || p.pt === RTCP.SR) this.rtcpReceived.receiverReports += 1;
      else if (isKeyframeRequest(p)) {
        this.rtcpReceived.keyframeRequests += 1;
        if (this.keyframeRequestTimes.length < 100_000) this.keyframeRequestTimes.push(performance.now());
        // PLI names the stream in its media SSRC; FIR in its first FCI entry.
        const target = p.fmt === 1 ? p.packet.readUInt32BE(8) : p.packet.length >= 16 ? p.packet.readUInt32BE(12) : 0;
        this.video?.sender.keyframeRequested(target);
      } else this.rtcpReceived.other += 1;
    }
  }

  /**
   * A packet out, or false: a track that closed under the speaker (its transport failed on a
   * saturated machine) makes libdatachannel throw, which in a timer would end the process.
   */
  private sendPacket(packet: Buffer): boolean {
    try {
      return this.track.isOpen() && this.track.sendMessageBinary(packet);
    } catch {
      return false;
    }
  }

  /** One transport-wide sequence for every packet on the transport, audio and video. */
  private nextTransportSeq(): number {
    const seq = this.transportSeq;
    this.transportSeq = (this.transportSeq + 1) & 0xffff;
    return seq;
  }

  private extensions(now: number): HeaderExtension[] {
    return this.extensionIds.map(({ uri, id }) => {
      if (uri === EXT.mid) return { id, value: Buffer.from('0') };
      if (uri === EXT.absSendTime) return { id, value: absSendTime(now) };
      if (uri === EXT.transportCc) {
        const value = Buffer.alloc(2);
        value.writeUInt16BE(this.nextTransportSeq());
        return { id, value };
      }
      // ssrc-audio-level: voice activity, and the tone's level (−12 dBov).
      return { id, value: Buffer.from([0x80 | 12]) };
    });
  }

  /** 50 packets a second, caught up against the clock so timer drift loses none. */
  private send(frames: Buffer[], payloadType: number): void {
    this.startedAt = performance.now();
    const tick = (): void => {
      const now = performance.now();
      const due = Math.floor((now - this.startedAt) / 20) + 1;
      if (due - this.sent > 1) this.lateTicks += 1;
      for (let n = 0; this.sent < due && n < 50; n++) {
        const frame = frames[this.sent % frames.length];
        if (!frame) return;
        const packet = rtpPacket(payloadType, this.seq, this.timestamp, this.ssrc, frame, {
          extensions: this.extensions(now),
        });
        if (!this.sendPacket(packet)) this.refused += 1;
        this.octets += frame.length;
        this.seq = (this.seq + 1) & 0xffff;
        this.timestamp = (this.timestamp + 960) >>> 0;
        this.sent += 1;
      }
    };
    this.timer = setInterval(tick, 10);
    this.reportTimer = setInterval(() => {
      this.sendPacket(senderReport(this.ssrc, this.timestamp, this.sent, this.octets));
    }, 5000);
  }

  stop(): void {
    this.video?.sender.stop();
    if (this.timer) clearInterval(this.timer);
    if (this.reportTimer) clearInterval(this.reportTimer);
    this.timer = undefined;
    this.reportTimer = undefined;
  }

  close(): void {
    this.stop();
    this.pc.close();
    this.signalling.close();
  }
}

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
    const signalling = await LoadSignalling.connect(this.options.url, this.options.token);
    this.signalling = signalling;
    signalling.socket.onAny(() => {
      this.notifications += 1;
    });
    const added: ProducerInfo[] = [];
    signalling.on('producerAdded', (p) => added.push(p));
    const { rtpCapabilities } = await signalling.request('getRouterRtpCapabilities', {});
    const kinds: ('audio' | 'video')[] = this.options.video ? ['audio', 'video'] : ['audio'];
    const caps =
      this.options.fidelity !== 'lean'
        ? chromeRtpCapabilities(rtpCapabilities, kinds)
        : leanRtpCapabilities(rtpCapabilities);
    const joined = await signalling.request('join', { rtpCapabilities: caps });
    const transport = await signalling.request('createTransport', { direction: 'recv' });
    const producers = [...joined.producers, ...added];
    const wanted = kinds.map((kind) => {
      const producer = producers.find((p) => p.kind === kind);
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
      if (consumer.kind === 'audio') this.audio = stream;
      else this.video = stream;
      const twcc = extensionId(rtpParameters, EXT.transportCc);
      if (twcc !== undefined && !this.transportCc)
        this.transportCc = { id: twcc, feedback: new TransportCcFeedback(this.ssrc, section.ssrc) };
      this.negotiated.push(
        ...(rtpParameters.headerExtensions ?? []).map((e) => `${consumer.kind} extmap ${e.uri}`),
        ...rtpParameters.codecs.map(
          (c) =>
            `${consumer.kind} ${c.mimeType} rtcp-fb [${(c.rtcpFeedback ?? []).map((f) => `${f.type}${f.parameter ? ` ${f.parameter}` : ''}`).join(', ')}]`,
        ),
      );
      sections.push(section);
      consumerIds.push(consumer.consumerId);
    }

    const pc = loopbackPeer(`listener-${this.id}`);
    this.pc = pc;
    const connected = nextEvent<void>(
      (done) =>
        pc.onStateChange((state) => {
          if (state === 'connected') {
            this.connectedAt = performance.now();
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
    const answer = pc.localDescription()?.sdp ?? (await answered);
    await signalling.request('connectTransport', {
      transportId: transport.id,
      dtlsParameters: { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: localFingerprint(answer) }] },
    });
    for (const consumerId of consumerIds) await signalling.request('resumeConsumer', { consumerId });
    const resumedAt = performance.now();
    this.signalledMs = resumedAt - this.startedAt;
    if (this.options.decode) this.captured = [];
    await connected;
    this.readyAt = Math.max(resumedAt, this.connectedAt ?? resumedAt);
    this.startRtcp();
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
    if (stream === this.audio && this.captured && this.captured.length < 50)
      this.captured.push(Buffer.from(rtpPayload(packet)));
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
    const audio = this.audio?.report(this.readyAt, speakerStoppedAt);
    const firstAudio = this.audio?.firstAt;
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
    for (const timer of this.timers) clearInterval(timer);
    this.timers.length = 0;
    this.captured = undefined;
    this.pc?.close();
    this.signalling?.close();
  }
}
