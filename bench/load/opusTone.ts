import OpusScript from 'opusscript';

const RATE = 48_000;
const FRAME = 960; // 20 ms

/**
 * One second of a pure tone, Opus-encoded in 20 ms frames: the "known stream" the speaker
 * loops, and that sampled listeners decode to check they hear it, not just packets.
 */
export function encodeTone(frequency: number, frames = 50): Buffer[] {
  const encoder = new OpusScript(RATE, 2, OpusScript.Application.AUDIO);
  // 32 kbit/s: a speech-like packet size (~80 bytes), not the encoder's music default.
  encoder.setBitrate(32_000);
  const out: Buffer[] = [];
  try {
    for (let f = 0; f < frames; f++) {
      const pcm = Buffer.alloc(FRAME * 4);
      for (let i = 0; i < FRAME; i++) {
        const t = (f * FRAME + i) / RATE;
        const sample = Math.round(Math.sin(2 * Math.PI * frequency * t) * 12_000);
        pcm.writeInt16LE(sample, i * 4);
        pcm.writeInt16LE(sample, i * 4 + 2);
      }
      out.push(Buffer.from(encoder.encode(pcm, FRAME)));
    }
  } finally {
    encoder.delete();
  }
  return out;
}

/** Decodes Opus payloads and finds the strongest of the candidate frequencies (Goertzel). */
export class ToneDetector {
  private readonly decoder = new OpusScript(RATE, 2, OpusScript.Application.AUDIO);
  private readonly samples: number[] = [];

  constructor(private readonly maxSamples = RATE) {}

  push(payload: Buffer): void {
    if (this.samples.length >= this.maxSamples) return;
    const pcm = Buffer.from(this.decoder.decode(payload));
    for (let i = 0; i + 3 < pcm.length && this.samples.length < this.maxSamples; i += 4)
      this.samples.push(pcm.readInt16LE(i));
  }

  get full(): boolean {
    return this.samples.length >= this.maxSamples;
  }

  /** Power share of `frequency` against its neighbours: > 0.5 means the tone dominates. */
  dominance(frequency: number): number {
    const power = (f: number): number => {
      const k = (2 * Math.PI * f) / RATE;
      const coeff = 2 * Math.cos(k);
      let s1 = 0;
      let s2 = 0;
      // Skip the decoder's first 100 ms warm-up.
      for (let i = Math.min(4800, this.samples.length >> 1); i < this.samples.length; i++) {
        const s0 = (this.samples[i] ?? 0) + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
      }
      return s1 * s1 + s2 * s2 - coeff * s1 * s2;
    };
    const target = power(frequency);
    const others = [0.5, 0.75, 1.5, 2].map((m) => power(frequency * m));
    return target / (target + others.reduce((a, b) => a + b, 0) + 1e-9);
  }

  close(): void {
    this.decoder.delete();
  }
}
