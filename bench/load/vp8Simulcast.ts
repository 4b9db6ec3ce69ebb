/**
 * Synthetic VP8 simulcast, as relais's web client asks Chrome for it (three layers at ¼, ½ and
 * full resolution, 150 / 500 / 1200 kbit/s, mediasoup-client's default L1T3 for VP8): 30 frames a
 * second per layer, RID-based like Chrome, each frame split into ≤ 1100-byte packets.
 *
 * The payload is synthetic: a valid VP8 payload descriptor (picture id, TL0PICIDX, temporal
 * layer 0-2-1-2) and a valid VP8 frame header (key/inter frame; a key frame carries the start
 * code and the layer's dimensions), then filler bytes: mediasoup reads all it needs (layers,
 * key frames, picture ids) but no decoder could show it. Key frames are sent when the SFU asks
 * (PLI or FIR for that layer's SSRC), at most one per layer every 300 ms, as libwebrtc does.
 */
import { EXT } from './chromeCapabilities.js';
import { rtpPacket, type HeaderExtension } from './rtp.js';

export interface Vp8Layer {
  rid: string;
  ssrc: number;
  width: number;
  height: number;
  bitrate: number;
}

/** The web client's three layers for a 1280×720 camera (web/src/rtc/ConferenceClient.ts). */
export function webClientLayers(): Vp8Layer[] {
  const ssrc = (): number => (Math.random() * 0xffffffff) >>> 0;
  return [
    { rid: 'r0', ssrc: ssrc(), width: 320, height: 180, bitrate: 150_000 },
    { rid: 'r1', ssrc: ssrc(), width: 640, height: 360, bitrate: 500_000 },
    { rid: 'r2', ssrc: ssrc(), width: 1280, height: 720, bitrate: 1_200_000 },
  ];
}

const FPS = 30;
const MAX_PAYLOAD = 1100;
const TEMPORAL_PATTERN = [0, 2, 1, 2];

interface LayerState {
  layer: Vp8Layer;
  seq: number;
  timestamp: number;
  pictureId: number;
  tl0PicIdx: number;
  frame: number;
  keyframeWanted: boolean;
  lastKeyframeAt: number;
}

/** The VP8 payload descriptor (RFC 7741 §4.2) with picture id, TL0PICIDX and TID. */
function descriptor(start: boolean, s: LayerState, tid: number): Buffer {
  const d = Buffer.alloc(6);
  d[0] = 0x80 | (start ? 0x10 : 0); // X, S (partition 0)
  d[1] = 0x80 | 0x40 | 0x20; // I, L, T
  d.writeUInt16BE(0x8000 | (s.pictureId & 0x7fff), 2);
  d[4] = s.tl0PicIdx & 0xff;
  d[5] = ((tid & 0x03) << 6) | (tid > 0 ? 0x20 : 0); // TID, Y (layer sync above the base)
  return d;
}

/** A VP8 frame: a real frame header (RFC 6386 §9.1), then filler bytes. */
function frameBytes(size: number, key: boolean, layer: Vp8Layer): Buffer {
  const frame = Buffer.alloc(Math.max(size, 10), 0x5a);
  const firstPartition = Math.min(size, 0x7ffff);
  // Frame tag: key frame bit 0 clear, version 0, show_frame, first partition size.
  const tag = (key ? 0 : 1) | (1 << 4) | (firstPartition << 5);
  frame[0] = tag & 0xff;
  frame[1] = (tag >> 8) & 0xff;
  frame[2] = (tag >> 16) & 0xff;
  if (key) {
    frame[3] = 0x9d;
    frame[4] = 0x01;
    frame[5] = 0x2a;
    frame.writeUInt16LE(layer.width & 0x3fff, 6);
    frame.writeUInt16LE(layer.height & 0x3fff, 8);
  }
  return frame;
}

export class Vp8SimulcastSender {
  sent = 0;
  refused = 0;
  keyframesSent = 0;
  private readonly states: LayerState[];
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private framesSent = 0;

  constructor(
    layers: Vp8Layer[],
    private readonly payloadType: number,
    /** Header extension ids by URI; `nextTransportSeq` shares the transport-wide counter with the audio. */
    private readonly extensionIds: { uri: string; id: number }[],
    private readonly send: (packet: Buffer) => boolean,
    private readonly nextTransportSeq: () => number,
    private readonly absSendTime: (ms: number) => Buffer,
  ) {
    this.states = layers.map((layer) => ({
      layer,
      seq: Math.floor(Math.random() * 0xffff),
      timestamp: (Math.random() * 0xffffffff) >>> 0,
      pictureId: Math.floor(Math.random() * 0x7fff),
      tl0PicIdx: 0,
      frame: 0,
      // Chrome starts each layer with a key frame.
      keyframeWanted: true,
      lastKeyframeAt: Number.NEGATIVE_INFINITY,
    }));
  }

  /** The layers' SSRCs, lowest first. */
  get layerSsrcs(): number[] {
    return this.states.map((s) => s.layer.ssrc);
  }

  /** A PLI or FIR for `ssrc`: that layer's next frame is a key frame (at most one per 300 ms). */
  keyframeRequested(ssrc: number): void {
    const state = this.states.find((s) => s.layer.ssrc === ssrc);
    if (state) state.keyframeWanted = true;
  }

  start(): void {
    this.startedAt = performance.now();
    this.timer = setInterval(() => {
      const now = performance.now();
      const due = Math.floor(((now - this.startedAt) * FPS) / 1000) + 1;
      // Caught up against the clock, but never more than a second's frames at once.
      for (let n = 0; this.framesSent < due && n < FPS; n++) {
        for (const state of this.states) this.sendFrame(state, now);
        this.framesSent += 1;
      }
    }, 10);
  }

  private extensions(state: LayerState, now: number): HeaderExtension[] {
    return this.extensionIds.flatMap(({ uri, id }): HeaderExtension[] => {
      if (uri === EXT.mid) return [{ id, value: Buffer.from('1') }];
      if (uri === EXT.rid) return [{ id, value: Buffer.from(state.layer.rid) }];
      if (uri === EXT.absSendTime) return [{ id, value: this.absSendTime(now) }];
      if (uri === EXT.transportCc) {
        const value = Buffer.alloc(2);
        value.writeUInt16BE(this.nextTransportSeq());
        return [{ id, value }];
      }
      return [];
    });
  }

  private sendFrame(state: LayerState, now: number): void {
    const key = state.keyframeWanted && now - state.lastKeyframeAt >= 300;
    if (key) {
      state.keyframeWanted = false;
      state.lastKeyframeAt = now;
      this.keyframesSent += 1;
    }
    const tid = key ? 0 : (TEMPORAL_PATTERN[state.frame % TEMPORAL_PATTERN.length] ?? 0);
    if (tid === 0) state.tl0PicIdx = (state.tl0PicIdx + 1) & 0xff;
    // Key frames cost about four inter frames.
    const size = Math.round(state.layer.bitrate / 8 / FPS) * (key ? 4 : 1);
    const frame = frameBytes(size, key, state.layer);
    for (let offset = 0; offset < frame.length; offset += MAX_PAYLOAD) {
      const chunk = frame.subarray(offset, offset + MAX_PAYLOAD);
      const last = offset + MAX_PAYLOAD >= frame.length;
      const payload = Buffer.concat([descriptor(offset === 0, state, tid), chunk]);
      const packet = rtpPacket(this.payloadType, state.seq, state.timestamp, state.layer.ssrc, payload, {
        marker: last,
        extensions: this.extensions(state, now),
      });
      if (!this.send(packet)) this.refused += 1;
      state.seq = (state.seq + 1) & 0xffff;
      this.sent += 1;
    }
    state.pictureId = (state.pictureId + 1) & 0x7fff;
    state.timestamp = (state.timestamp + 90_000 / FPS) >>> 0;
    state.frame += 1;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
