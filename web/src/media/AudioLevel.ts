/**
 * Audio levels for the meters (own microphone, each remote voice), from one shared
 * AudioContext and one timer: cheap enough for old laptops.
 */
let context: AudioContext | undefined;
const watchers = new Set<() => void>();
let ticker: number | undefined;

function sharedContext(): AudioContext {
  context ??= new AudioContext();
  // Created before any click, a context starts suspended; resume it when the person acts.
  if (context.state === 'suspended') void context.resume().catch(() => undefined);
  return context;
}

// Browsers keep an AudioContext suspended until the person interacts with the page.
for (const event of ['pointerdown', 'keydown'] as const) {
  document.addEventListener(
    event,
    () => context?.state === 'suspended' && void context.resume().catch(() => undefined),
    { capture: true, passive: true },
  );
}

/** Resumes audio processing; call from a click handler. */
export function unlockAudio(): void {
  sharedContext();
}

export class AudioLevel {
  private readonly source: MediaStreamAudioSourceNode;
  private readonly analyser: AnalyserNode;
  private readonly samples: Float32Array<ArrayBuffer>;
  private readonly onTick: () => void;

  /** Calls `onLevel` about eight times a second with a level between 0 and 1. */
  constructor(track: MediaStreamTrack, onLevel: (level: number) => void) {
    const ctx = sharedContext();
    this.source = ctx.createMediaStreamSource(new MediaStream([track]));
    this.analyser = ctx.createAnalyser();
    this.analyser.fftSize = 512;
    this.samples = new Float32Array(this.analyser.fftSize);
    this.source.connect(this.analyser);
    this.onTick = () => onLevel(this.level());
    watchers.add(this.onTick);
    ticker ??= window.setInterval(() => {
      for (const watch of watchers) watch();
    }, 125);
  }

  level(): number {
    this.analyser.getFloatTimeDomainData(this.samples);
    let sum = 0;
    for (const sample of this.samples) sum += sample * sample;
    const rms = Math.sqrt(sum / this.samples.length);
    // A perceptual scale: -60 dBFS reads as 0, 0 dBFS as 1.
    const db = 20 * Math.log10(rms || 1e-9);
    return Math.min(1, Math.max(0, (db + 60) / 60));
  }

  close(): void {
    watchers.delete(this.onTick);
    this.source.disconnect();
    if (watchers.size === 0 && ticker !== undefined) {
      clearInterval(ticker);
      ticker = undefined;
    }
  }
}
