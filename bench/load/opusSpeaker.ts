import type { Dictionary } from '../../server/src/signalling/catalog.js';
import { LoadSignalling } from './signalling.js';
import {
  ATTEMPT_TIMEOUT_MS,
  MAX_RECONNECT_ATTEMPTS,
  reconnectDelay,
  redirectOf,
  type SpeakerRecovery,
  sleep,
  within,
} from './reconnect.js';
import { localFingerprint, remoteSdp, type MediaSection } from './sdp.js';
import { isRtcp, rtpPacket, type HeaderExtension } from './rtp.js';
import { CHROME_AUDIO, chromeRtpCapabilities, EXT } from './chromeCapabilities.js';
import { CHROME_VIDEO } from './chromeCapabilities.js';
import { Vp8SimulcastSender, webClientLayers } from './vp8Simulcast.js';
import { isKeyframeRequest, RTCP, rtcpPackets, senderReport } from './rtcp.js';

import {
  Audio,
  loopbackPeer,
  nextEvent,
  type PeerConnectionT,
  type RouterExtension,
  type TrackT,
  Video,
} from './peers.js';

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
  /** Keyframe requests (PLI, FIR) that reached the speaker: when (performance.now()) and for which SSRC. */
  readonly keyframeRequestLog: { at: number; ssrc: number }[] = [];
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
        // PLI names the stream in its media SSRC; FIR in its first FCI entry.
        const target = p.fmt === 1 ? p.packet.readUInt32BE(8) : p.packet.length >= 16 ? p.packet.readUInt32BE(12) : 0;
        if (this.keyframeRequestLog.length < 100_000)
          this.keyframeRequestLog.push({ at: performance.now(), ssrc: target });
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
