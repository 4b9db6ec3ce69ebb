/**
 * The RTCP a browser sends back, written by hand: libdatachannel (node-datachannel 0.33) has
 * no transport-cc feedback, and its RtcpReceivingSession answers each sender report with a
 * receiver report that carries no loss or jitter. Packets go out through
 * `track.sendMessageBinary`, which libdatachannel SRTCP-protects (RTCP passes on a recvonly track).
 */

const NTP_UNIX_OFFSET = 2_208_988_800;

/** Payload types and feedback formats the generator reads or writes. */
export const RTCP = { SR: 200, RR: 201, RTPFB: 205, PSFB: 206 } as const;

/** Each RTCP packet in a compound packet: its type, format (count) field and bytes. */
export function* rtcpPackets(compound: Buffer): Generator<{ pt: number; fmt: number; packet: Buffer }> {
  let offset = 0;
  while (offset + 4 <= compound.length) {
    const length = (compound.readUInt16BE(offset + 2) + 1) * 4;
    if (offset + length > compound.length) return;
    yield {
      pt: compound[offset + 1] ?? 0,
      fmt: (compound[offset] ?? 0) & 0x1f,
      packet: compound.subarray(offset, offset + length),
    };
    offset += length;
  }
}

/** A keyframe request: PLI (PSFB fmt 1) or FIR (PSFB fmt 4). */
export function isKeyframeRequest(p: { pt: number; fmt: number }): boolean {
  return p.pt === RTCP.PSFB && (p.fmt === 1 || p.fmt === 4);
}

/** The "middle 32 bits" of a sender report's NTP timestamp, which a receiver report echoes as LSR. */
export function senderReportMiddle(sr: Buffer): { ssrc: number; lsr: number } | undefined {
  if (sr.length < 28) return undefined;
  return { ssrc: sr.readUInt32BE(4), lsr: ((sr.readUInt32BE(8) & 0xffff) << 16) | (sr.readUInt32BE(12) >>> 16) };
}

/** An NTP timestamp for now (wall clock), as a sender report carries it. */
function ntpNow(): { seconds: number; fraction: number } {
  const ms = Date.now();
  return {
    seconds: (Math.floor(ms / 1000) + NTP_UNIX_OFFSET) >>> 0,
    fraction: Math.floor(((ms % 1000) / 1000) * 2 ** 32) >>> 0,
  };
}

export interface ReceptionBlock {
  ssrc: number;
  fractionLost: number;
  cumulativeLost: number;
  extendedHighest: number;
  jitter: number;
  /** LSR and the delay since that SR in 1/65536 s (0 when no SR was received). */
  lsr: number;
  dlsr: number;
}

/** A receiver report (PT 201) with one reception block per stream. */
export function receiverReport(senderSsrc: number, blocks: ReceptionBlock[]): Buffer {
  const packet = Buffer.alloc(8 + 24 * blocks.length);
  packet[0] = 0x80 | blocks.length;
  packet[1] = RTCP.RR;
  packet.writeUInt16BE(packet.length / 4 - 1, 2);
  packet.writeUInt32BE(senderSsrc >>> 0, 4);
  blocks.forEach((b, i) => {
    const at = 8 + 24 * i;
    packet.writeUInt32BE(b.ssrc >>> 0, at);
    packet[at + 4] = Math.max(0, Math.min(255, b.fractionLost));
    packet.writeUIntBE(Math.max(0, Math.min(0x7fffff, b.cumulativeLost)), at + 5, 3);
    packet.writeUInt32BE(b.extendedHighest >>> 0, at + 8);
    packet.writeUInt32BE(Math.max(0, Math.round(b.jitter)) >>> 0, at + 12);
    packet.writeUInt32BE(b.lsr >>> 0, at + 16);
    packet.writeUInt32BE(b.dlsr >>> 0, at + 20);
  });
  return packet;
}

/** A sender report (PT 200) without reception blocks, as a send-only browser peer sends it. */
export function senderReport(ssrc: number, rtpTimestamp: number, packets: number, octets: number): Buffer {
  const packet = Buffer.alloc(28);
  packet[0] = 0x80;
  packet[1] = RTCP.SR;
  packet.writeUInt16BE(6, 2);
  packet.writeUInt32BE(ssrc >>> 0, 4);
  const ntp = ntpNow();
  packet.writeUInt32BE(ntp.seconds, 8);
  packet.writeUInt32BE(ntp.fraction, 12);
  packet.writeUInt32BE(rtpTimestamp >>> 0, 16);
  packet.writeUInt32BE(packets >>> 0, 20);
  packet.writeUInt32BE(octets >>> 0, 24);
  return packet;
}

/** A picture loss indication (PSFB fmt 1): what a browser sends when it needs a keyframe. */
export function pictureLossIndication(senderSsrc: number, mediaSsrc: number): Buffer {
  const packet = Buffer.alloc(12);
  packet[0] = 0x81;
  packet[1] = RTCP.PSFB;
  packet.writeUInt16BE(2, 2);
  packet.writeUInt32BE(senderSsrc >>> 0, 4);
  packet.writeUInt32BE(mediaSsrc >>> 0, 8);
  return packet;
}

/**
 * Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01,
 * RTPFB fmt 15): arrival times of the packets by transport-wide sequence number, sent back
 * every interval as libwebrtc's RemoteEstimatorProxy does. Arrivals are kept until reported.
 */
export class TransportCcFeedback {
  private readonly arrivals = new Map<number, number>();
  private nextBase: number | undefined;
  private feedbackCount = 0;
  private highest = -1;

  constructor(
    private readonly senderSsrc: number,
    private readonly mediaSsrc: number,
  ) {}

  /** Records one packet: its 16-bit transport-wide sequence number and arrival time (ms). */
  onPacket(seq16: number, arrivalMs: number): void {
    let seq = seq16;
    if (this.highest >= 0) {
      // Unwrapped against the highest seen: the nearest value with these low 16 bits.
      let diff = seq16 - (this.highest & 0xffff);
      if (diff > 0x8000) diff -= 0x10000;
      if (diff < -0x8000) diff += 0x10000;
      seq = this.highest + diff;
    }
    if (seq > this.highest) this.highest = seq;
    if (this.nextBase === undefined) this.nextBase = seq;
    if (seq < this.nextBase || this.arrivals.size > 5000) return;
    this.arrivals.set(seq, arrivalMs);
  }

  /** The feedback packet for what arrived since the last one, or undefined if nothing did. */
  take(): Buffer | undefined {
    if (this.nextBase === undefined || this.arrivals.size === 0) return undefined;
    const base = this.nextBase;
    const count = Math.min(this.highest - base + 1, 0xffff);
    let firstArrival = 0;
    for (let seq = base; seq < base + count; seq++) {
      const at = this.arrivals.get(seq);
      if (at !== undefined) {
        firstArrival = at;
        break;
      }
    }
    const reference = Math.floor(firstArrival / 64);
    let previous = reference * 64;
    const symbols: number[] = [];
    const deltas: Buffer[] = [];
    for (let seq = base; seq < base + count; seq++) {
      const at = this.arrivals.get(seq);
      if (at === undefined) {
        symbols.push(0);
        continue;
      }
      const delta = Math.round((at - previous) * 4); // 250 µs units
      previous = at;
      if (delta >= 0 && delta <= 255) {
        symbols.push(1);
        deltas.push(Buffer.from([delta]));
      } else {
        symbols.push(2);
        const large = Buffer.alloc(2);
        large.writeInt16BE(Math.max(-32768, Math.min(32767, delta)));
        deltas.push(large);
      }
    }
    // Two-bit status vector chunks, seven symbols each.
    const chunks: number[] = [];
    for (let i = 0; i < symbols.length; i += 7) {
      let chunk = 0xc000;
      for (let j = 0; j < 7; j++) chunk |= (symbols[i + j] ?? 0) << (12 - 2 * j);
      chunks.push(chunk);
    }
    const deltaBytes = deltas.reduce((n, d) => n + d.length, 0);
    const unpadded = 20 + chunks.length * 2 + deltaBytes;
    const padding = (4 - (unpadded % 4)) % 4;
    const packet = Buffer.alloc(unpadded + padding);
    packet[0] = 0x80 | (padding > 0 ? 0x20 : 0) | 15;
    packet[1] = RTCP.RTPFB;
    packet.writeUInt16BE(packet.length / 4 - 1, 2);
    packet.writeUInt32BE(this.senderSsrc >>> 0, 4);
    packet.writeUInt32BE(this.mediaSsrc >>> 0, 8);
    packet.writeUInt16BE(base & 0xffff, 12);
    packet.writeUInt16BE(count, 14);
    packet.writeUIntBE(reference & 0xffffff, 16, 3);
    packet[19] = this.feedbackCount & 0xff;
    let offset = 20;
    for (const chunk of chunks) {
      packet.writeUInt16BE(chunk, offset);
      offset += 2;
    }
    for (const d of deltas) {
      d.copy(packet, offset);
      offset += d.length;
    }
    if (padding > 0) packet[packet.length - 1] = padding;
    this.feedbackCount += 1;
    for (let seq = base; seq < base + count; seq++) this.arrivals.delete(seq);
    this.nextBase = base + count;
    return packet;
  }
}
