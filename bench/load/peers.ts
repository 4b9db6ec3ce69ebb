import nodeDataChannel from 'node-datachannel';
import type { Dictionary, ProducerInfo, RequestPayload } from '../../server/src/signalling/catalog.js';
import { LoadSignalling } from './signalling.js';
import { localFingerprint, remoteSdp } from './sdp.js';
import { isRtcp, rtpPacket, rtpPayload, SequenceCounter } from './rtp.js';
import { ToneDetector } from './opusTone.js';

const { PeerConnection, Audio } = nodeDataChannel;
type PeerConnectionT = InstanceType<typeof PeerConnection>;
type TrackT = ReturnType<PeerConnectionT['addTrack']>;

/** The part of a mediasoup RTP codec the generator reads. */
type RtpCodec = {
  kind?: string;
  mimeType: string;
  preferredPayloadType?: number;
  payloadType?: number;
  clockRate: number;
  channels?: number;
  parameters?: Record<string, unknown>;
};

/** The part of a consumer's mediasoup RTP parameters the generator reads. */
type ConsumerRtpParameters = {
  mid?: string;
  codecs: { payloadType: number; parameters?: Record<string, unknown> }[];
  encodings: { ssrc: number }[];
  rtcp?: { cname?: string };
};

/** A libdatachannel peer bound to loopback: no STUN server, no other interface. */
function loopbackPeer(name: string): PeerConnectionT {
  return new PeerConnection(name, { iceServers: [], bindAddress: '127.0.0.1', enableIceTcp: false });
}

/** Resolves with the first value `register`'s callback is given: a one-shot event, bounded in time. */
function nextEvent<T>(register: (done: (value: T) => void) => void, timeoutMs: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
    register((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

/** The receive capabilities of a lean audio-only listener: the router's Opus, no extensions. */
function opusCapabilities(routerCaps: Dictionary): RequestPayload<'join'>['rtpCapabilities'] {
  // The catalog carries the router's capabilities as a mediasoup dictionary.
  const codecs = routerCaps.codecs as RtpCodec[] | undefined;
  const opus = codecs?.find((c) => c.mimeType.toLowerCase() === 'audio/opus');
  if (!opus) throw new Error('the router offers no Opus');
  return { codecs: [{ ...opus, rtcpFeedback: [] }], headerExtensions: [] };
}

/** One speaker sending a looped, known Opus stream through the real signalling and WebRTC. */
export class OpusSpeaker {
  sent = 0;
  /** Packets libdatachannel refused to send (track not open or buffer full). */
  refused = 0;
  /** Ticks that found more than one packet due: the event loop was late. */
  lateTicks = 0;
  private timer: NodeJS.Timeout | undefined;
  private seq = Math.floor(Math.random() * 0xffff);
  private timestamp = Math.floor(Math.random() * 0xffffffff);
  private startedAt = 0;

  private constructor(
    private readonly signalling: LoadSignalling,
    private readonly pc: PeerConnectionT,
    private readonly track: TrackT,
    private readonly ssrc: number,
    readonly producerId: string,
  ) {}

  static async start(url: string, token: string, frames: Buffer[]): Promise<OpusSpeaker> {
    if (frames.length === 0) throw new Error('the speaker needs at least one Opus frame');
    const signalling = await LoadSignalling.connect(url, token);
    const pc = loopbackPeer('speaker');
    try {
      const { rtpCapabilities } = await signalling.request('getRouterRtpCapabilities', {});
      await signalling.request('join', { rtpCapabilities: opusCapabilities(rtpCapabilities) });
      const transport = await signalling.request('createTransport', { direction: 'send' });
      const payloadType = 111;
      const audio = new Audio('0', 'SendOnly');
      audio.addOpusCodec(payloadType);
      const cname = 'relais-load-speaker';
      const ssrc = (Math.random() * 0xffffffff) >>> 0;
      audio.addSSRC(ssrc, cname, 'speaker', 'mic');
      const track = pc.addTrack(audio);
      const opened = nextEvent<void>((done) => track.onOpen(() => done()), 15_000, 'the speaker track to open');
      pc.setLocalDescription();
      const offer = pc.localDescription();
      if (!offer) throw new Error('no local offer');
      pc.setRemoteDescription(
        remoteSdp(transport, { mid: '0', payloadType, parameters: { minptime: 10, useinbandfec: 1 } }, 'answer'),
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
              parameters: { useinbandfec: 1 },
              rtcpFeedback: [],
            },
          ],
          headerExtensions: [],
          encodings: [{ ssrc }],
          rtcp: { cname, reducedSize: true },
        },
      });
      await opened;
      const self = new OpusSpeaker(signalling, pc, track, ssrc, producerId);
      self.send(frames, payloadType);
      return self;
    } catch (error) {
      pc.close();
      signalling.close();
      throw error;
    }
  }

  /** 50 packets a second, caught up against the clock so timer drift loses none. */
  private send(frames: Buffer[], payloadType: number): void {
    this.startedAt = performance.now();
    const tick = (): void => {
      const due = Math.floor((performance.now() - this.startedAt) / 20) + 1;
      if (due - this.sent > 1) this.lateTicks += 1;
      for (let n = 0; this.sent < due && n < 50; n++) {
        const frame = frames[this.sent % frames.length];
        if (!frame) return;
        if (!this.track.sendMessageBinary(rtpPacket(payloadType, this.seq, this.timestamp, this.ssrc, frame)))
          this.refused += 1;
        this.seq = (this.seq + 1) & 0xffff;
        this.timestamp = (this.timestamp + 960) >>> 0;
        this.sent += 1;
      }
    };
    this.timer = setInterval(tick, 10);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
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
  /** From the start of the join to the last signalling answer (resumeConsumer). */
  signalledMs?: number;
  /** Socket.IO notifications this listener received (acknowledgements not included). */
  notifications: number;
  expected: number;
  received: number;
  lost: number;
  /** Sampled listeners decode the stream: the tone's share of the power, ~1 for real audio. */
  toneDominance?: number;
}

/** One receive-only listener: real signalling, ICE, DTLS-SRTP; counts RTP by sequence number. */
export class RtcListener {
  private pc: PeerConnectionT | undefined;
  private signalling: LoadSignalling | undefined;
  private readonly counter = new SequenceCounter();
  private startedAt = 0;
  private connectedMs: number | undefined;
  private firstAudioMs: number | undefined;
  private signalledMs: number | undefined;
  private notifications = 0;
  private lastPacketAt = 0;
  private error: string | undefined;
  /** Sampled listeners keep the first second of payloads, decoded once the run is over. */
  private captured: Buffer[] | undefined;
  private readonly keep: TrackT[] = [];

  constructor(
    readonly id: number,
    private readonly options: { url: string; token: string; decode: boolean; toneHz: number },
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
    const joined = await signalling.request('join', { rtpCapabilities: opusCapabilities(rtpCapabilities) });
    const transport = await signalling.request('createTransport', { direction: 'recv' });
    const producer = [...joined.producers, ...added].find((p) => p.kind === 'audio');
    if (!producer) throw new Error('no audio producer in the room');
    const consumer = await signalling.request('consume', { producerId: producer.producerId });
    // The catalog carries RTP parameters as a mediasoup dictionary.
    const rtpParameters = consumer.rtpParameters as ConsumerRtpParameters;
    const codec = rtpParameters.codecs[0];
    const ssrc = rtpParameters.encodings[0]?.ssrc;
    if (!codec || ssrc === undefined) throw new Error('consumer without codec or SSRC');

    const pc = loopbackPeer(`listener-${this.id}`);
    this.pc = pc;
    const connected = nextEvent<void>(
      (done) =>
        pc.onStateChange((state) => {
          if (state === 'connected') {
            this.connectedMs = performance.now() - this.startedAt;
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
    pc.setRemoteDescription(
      remoteSdp(
        transport,
        {
          mid: rtpParameters.mid ?? '0',
          payloadType: codec.payloadType,
          ssrc,
          ...(rtpParameters.rtcp?.cname ? { cname: rtpParameters.rtcp.cname } : {}),
          ...(codec.parameters ? { parameters: codec.parameters } : {}),
        },
        'offer',
      ),
      'offer',
    );
    const answer = pc.localDescription()?.sdp ?? (await answered);
    await signalling.request('connectTransport', {
      transportId: transport.id,
      dtlsParameters: { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: localFingerprint(answer) }] },
    });
    await signalling.request('resumeConsumer', { consumerId: consumer.consumerId });
    this.signalledMs = performance.now() - this.startedAt;
    if (this.options.decode) this.captured = [];
    await connected;
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
    if (packet.length < 12 || isRtcp(packet)) return;
    const now = performance.now();
    if (this.firstAudioMs === undefined) this.firstAudioMs = now - this.startedAt;
    this.lastPacketAt = now;
    this.counter.push(packet.readUInt16BE(2));
    if (this.captured && this.captured.length < 50) this.captured.push(Buffer.from(rtpPayload(packet)));
  }

  /** Waits (bounded) for the first audio packet. */
  async firstAudio(timeoutMs: number): Promise<boolean> {
    const until = performance.now() + timeoutMs;
    while (this.firstAudioMs === undefined && performance.now() < until) await new Promise((r) => setTimeout(r, 50));
    return this.firstAudioMs !== undefined;
  }

  /**
   * What this listener got. `speakerStoppedAt` lets a stream that stalled before the end
   * count its missing tail as lost (sequence numbers alone cannot see it).
   */
  report(speakerStoppedAt?: number): ListenerReport {
    let expected = this.counter.expected;
    if (speakerStoppedAt !== undefined && this.lastPacketAt > 0 && speakerStoppedAt - this.lastPacketAt > 1000) {
      expected += Math.floor((speakerStoppedAt - this.lastPacketAt) / 20);
    }
    const received = Math.min(this.counter.received, expected);
    return {
      id: this.id,
      ok: this.error === undefined && this.firstAudioMs !== undefined,
      ...(this.error ? { error: this.error } : this.firstAudioMs === undefined ? { error: 'no audio' } : {}),
      ...(this.connectedMs !== undefined ? { connectedMs: Math.round(this.connectedMs) } : {}),
      ...(this.firstAudioMs !== undefined ? { firstAudioMs: Math.round(this.firstAudioMs) } : {}),
      ...(this.signalledMs !== undefined ? { signalledMs: Math.round(this.signalledMs) } : {}),
      notifications: this.notifications,
      expected,
      received,
      lost: expected - received,
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
    this.captured = undefined;
    this.pc?.close();
    this.signalling?.close();
  }
}
