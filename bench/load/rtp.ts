/** Just enough RTP for a speaker that sends Opus and listeners that count what arrives. */

export function isRtcp(packet: Buffer): boolean {
  const type = packet[1] ?? 0;
  return type >= 192 && type <= 223;
}

export function rtpPacket(payloadType: number, seq: number, timestamp: number, ssrc: number, payload: Buffer): Buffer {
  const packet = Buffer.allocUnsafe(12 + payload.length);
  packet[0] = 0x80;
  packet[1] = payloadType & 0x7f;
  packet.writeUInt16BE(seq & 0xffff, 2);
  packet.writeUInt32BE(timestamp >>> 0, 4);
  packet.writeUInt32BE(ssrc >>> 0, 8);
  payload.copy(packet, 12);
  return packet;
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

  get expected(): number {
    return this.first < 0 ? 0 : this.highest - this.first + 1;
  }
}
