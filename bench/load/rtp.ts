/** Just enough RTP for a speaker that sends Opus and listeners that count what arrives. */

export function isRtcp(packet: Buffer): boolean {
  const type = packet[1] ?? 0;
  return type >= 192 && type <= 223;
}

/** One RTP header extension element: its negotiated id (1..14) and value (1..16 bytes). */
export interface HeaderExtension {
  id: number;
  value: Buffer;
}

/**
 * An RTP packet; extensions are written as a browser writes them, in the one-byte form
 * (RFC 8285, 0xBEDE), padded to 32 bits.
 */
export function rtpPacket(
  payloadType: number,
  seq: number,
  timestamp: number,
  ssrc: number,
  payload: Buffer,
  options: { marker?: boolean; extensions?: HeaderExtension[] } = {},
): Buffer {
  const extensions = options.extensions ?? [];
  const elements = extensions.reduce((n, e) => n + 1 + e.value.length, 0);
  const words = Math.ceil(elements / 4);
  const headerLength = 12 + (extensions.length > 0 ? 4 + words * 4 : 0);
  const packet = Buffer.alloc(headerLength + payload.length);
  packet[0] = extensions.length > 0 ? 0x90 : 0x80;
  packet[1] = (payloadType & 0x7f) | (options.marker ? 0x80 : 0);
  packet.writeUInt16BE(seq & 0xffff, 2);
  packet.writeUInt32BE(timestamp >>> 0, 4);
  packet.writeUInt32BE(ssrc >>> 0, 8);
  if (extensions.length > 0) {
    packet.writeUInt16BE(0xbede, 12);
    packet.writeUInt16BE(words, 14);
    let offset = 16;
    for (const e of extensions) {
      packet[offset] = ((e.id & 0x0f) << 4) | ((e.value.length - 1) & 0x0f);
      e.value.copy(packet, offset + 1);
      offset += 1 + e.value.length;
    }
  }
  payload.copy(packet, headerLength);
  return packet;
}

/** The value of header extension `id` in an RTP packet (one-byte or two-byte form), if present. */
export function readExtension(packet: Buffer, id: number): Buffer | undefined {
  if (!((packet[0] ?? 0) & 0x10)) return undefined;
  const start = 12 + ((packet[0] ?? 0) & 0x0f) * 4;
  if (packet.length < start + 4) return undefined;
  const profile = packet.readUInt16BE(start);
  const end = Math.min(packet.length, start + 4 + packet.readUInt16BE(start + 2) * 4);
  const twoByte = (profile & 0xfff0) === 0x1000;
  if (profile !== 0xbede && !twoByte) return undefined;
  let offset = start + 4;
  while (offset < end) {
    const first = packet[offset] ?? 0;
    if (first === 0) {
      offset += 1; // padding
      continue;
    }
    const elementId = twoByte ? first : first >> 4;
    if (!twoByte && elementId === 15) return undefined;
    const length = twoByte ? (packet[offset + 1] ?? 0) : (first & 0x0f) + 1;
    const valueAt = offset + (twoByte ? 2 : 1);
    if (elementId === id) return packet.subarray(valueAt, valueAt + length);
    offset = valueAt + length;
  }
  return undefined;
}

/** The payload of an RTP packet (after CSRCs and a header extension, without padding). */
export function rtpPayload(packet: Buffer): Buffer {
  const csrcs = (packet[0] ?? 0) & 0x0f;
  let offset = 12 + csrcs * 4;
  if ((packet[0] ?? 0) & 0x10) offset += 4 + packet.readUInt16BE(offset + 2) * 4;
  let end = packet.length;
  if ((packet[0] ?? 0) & 0x20) end -= packet[packet.length - 1] ?? 0;
  return packet.subarray(offset, end);
}

/**
 * Counts packets of one stream by sequence number (with wrap-around), as a receiver report
 * would: expected = highest − first + 1, lost = expected − received.
 */
export class SequenceCounter {
  received = 0;
  private first = -1;
  private highest = -1;
  private cycles = 0;
  private lastSeq = -1;

  push(seq: number): void {
    this.received += 1;
    if (this.first < 0) {
      this.first = seq;
      this.highest = seq;
      this.lastSeq = seq;
      return;
    }
    // A jump back by more than half the space is a wrap, not a reordering.
    if (seq < this.lastSeq && this.lastSeq - seq > 0x8000) this.cycles += 0x10000;
    this.lastSeq = seq;
    const extended = this.cycles + seq;
    if (extended > this.highest) this.highest = extended;
  }

  /** The extended highest sequence number received (cycles << 16 | seq), as a receiver report carries it. */
  get extendedHighest(): number {
    return this.highest < 0 ? 0 : this.highest >>> 0;
  }

  get expected(): number {
    return this.first < 0 ? 0 : this.highest - this.first + 1;
  }
}
