import nodeDataChannel from 'node-datachannel';
import type {
  Dictionary,
  ProducerInfo,
  SessionEndReason,
  TransportOptions,
} from '../../server/src/signalling/catalog.js';
import { LoadSignalling } from './signalling.js';
import {
  ATTEMPT_TIMEOUT_MS,
  MAX_RECONNECT_ATTEMPTS,
  reconnectDelay,
  type Recovery,
  redirectOf,
  type SpeakerRecovery,
  sleep,
  within,
} from './reconnect.js';
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

/** Session ends a page recovers from by itself (the others it shows and stops). */
const RECOVERABLE_ENDS: ReadonlySet<SessionEndReason> = new Set(['server-shutdown', 'media-lost', 'node-draining']);

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
  private readonly ssrc = (Math.random() * 0xffffffff) >>> 0;
  /** The camera, when the speaker is a video commander. */
  video: { sender: Vp8SimulcastSender; producerId: string } | undefined;
  /** Keyframe requests (PLI, FIR) that reached the speaker, with when (performance.now()). */
  readonly keyframeRequestTimes: number[] = [];
  /** With `reconnectUrl`: each time the signalling dropped and the microphone was published again. */
  readonly recoveries: SpeakerRecovery[] = [];
  private closed = false;
  private redirectTo: string | undefined;
  /** Set by `publish`, again at each recovery. */
  private current!: {
    signalling: LoadSignalling;
    pc: PeerConnectionT;
    track: TrackT;
    extensionIds: { uri: string; id: number }[];
    producerId: string;
  };

  private constructor(
    private readonly token: string,
    private readonly reconnectUrl: string | undefined,
  ) {}

  /** The speaker's participant: a meeting member also receives through it. */
  get signalling(): LoadSignalling {
    return this.current.signalling;
  }

  /** The microphone's producer (a new one after each recovery). */
  get producerId(): string {
    return this.current.producerId;
  }

  /**
   * `video`: also publish a camera (synthetic VP8, three simulcast layers) on the same transport.
   * `reconnectUrl`: when the signalling drops, publish the microphone again through this address
   * (audio only: a video commander is not recovered).
   */
  static async start(
    url: string,
    token: string,
    frames: Buffer[],
    options: { video?: boolean; reconnectUrl?: string } = {},
  ): Promise<OpusSpeaker> {
    if (frames.length === 0) throw new Error('the speaker needs at least one Opus frame');
    if (options.video && options.reconnectUrl) throw new Error('a video speaker does not reconnect');
    const self = new OpusSpeaker(token, options.reconnectUrl);
    await self.publish(url, options.video === true);
    self.send(frames, 111);
    return self;
  }

  private async publish(url: string, withVideo: boolean): Promise<void> {
    const signalling = await LoadSignalling.connect(url, this.token);
    const pc = loopbackPeer('speaker');
    try {
      const { rtpCapabilities } = await signalling.request('getRouterRtpCapabilities', {});
      await signalling.request('join', {
        rtpCapabilities: chromeRtpCapabilities(rtpCapabilities, withVideo ? ['audio', 'video'] : ['audio']),
      });
      const transport = await signalling.request('createTransport', { direction: 'send' });
      const payloadType = 111;
      const audio = new Audio('0', 'SendOnly');
      audio.addOpusCodec(payloadType);
      const cname = 'relais-load-speaker';
      const ssrc = this.ssrc;
      audio.addSSRC(ssrc, cname, 'speaker', 'mic');
      const track = pc.addTrack(audio);
      const opened = nextEvent<void>((done) => track.onOpen(() => done()), 15_000, 'the speaker track to open');
      const layers = webClientLayers();
      const vp8 = 96;
      let videoTrack: TrackT | undefined;
      if (withVideo) {
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
      pc.setRemoteDescription(remoteSdp(transport, withVideo ? [section, videoSection] : section, 'answer'), 'answer');
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
      this.current = { signalling, pc, track, extensionIds: headerExtensions, producerId };
      track.onMessage((packet) => this.onRtcp(packet));
      if (this.reconnectUrl) {
        const reconnectUrl = this.reconnectUrl;
        signalling.on('sessionEnded', ({ redirect }) => {
          if (redirect) this.redirectTo = redirect.url;
        });
        signalling.socket.on('disconnect', () => {
          if (this.current.signalling === signalling && !this.closed) void this.recover(reconnectUrl);
        });
      }
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
          () => this.nextTransportSeq(),
          absSendTime,
        );
        this.video = { sender, producerId: videoProducerId };
        camera.onMessage((packet) => this.onRtcp(packet));
        sender.start();
      }
    } catch (error) {
      pc.close();
      signalling.close();
      throw error;
    }
  }

  /**
   * The signalling dropped (its node died, or it was sent elsewhere): the old transport is
   * useless, so publish again — at the node a redirect named, else through `url` — with backoff
   * and jitter. The send loop never stops:
   * what it sends meanwhile is refused, as a page's microphone keeps capturing.
   */
  private async recover(url: string): Promise<void> {
    const recovery: SpeakerRecovery = { noticedAt: Date.now(), attempts: 0 };
    this.recoveries.push(recovery);
    this.current.pc.close();
    this.current.signalling.close();
    let target = this.redirectTo ?? url;
    const redirected = this.redirectTo !== undefined;
    this.redirectTo = undefined;
    for (let attempt = 0; attempt < MAX_RECONNECT_ATTEMPTS && !this.closed; attempt++) {
      // A redirect (its node drains) is followed at once; a lost node is retried after a jittered pause.
      if (attempt > 0 || !redirected) await sleep(reconnectDelay(attempt));
      recovery.attempts = attempt + 1;
      try {
        await within(this.publish(target, false), ATTEMPT_TIMEOUT_MS, 'publishing again');
        if (this.closed) this.close();
        recovery.republishedAt = Date.now();
        return;
      } catch (error) {
        recovery.error = (error as Error).message;
        target = redirectOf(error) ?? url;
      }
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
      const { track } = this.current;
      return track.isOpen() && track.sendMessageBinary(packet);
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
    return this.current.extensionIds.map(({ uri, id }) => {
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
    this.closed = true;
    this.stop();
    this.current.pc.close();
    this.current.signalling.close();
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
    signalling.on('producerAdded', (p) => added.push(p));
    if (this.options.reconnectUrl) this.follow(signalling);
    const { rtpCapabilities } = await signalling.request('getRouterRtpCapabilities', {});
    const caps =
      this.options.fidelity !== 'lean'
        ? chromeRtpCapabilities(rtpCapabilities, this.kinds)
        : leanRtpCapabilities(rtpCapabilities);
    const joined = await signalling.request('join', { rtpCapabilities: caps });
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
      if (live() && producerId === this.audioProducerId) this.notice('producer-changed');
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
