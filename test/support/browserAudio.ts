/**
 * What a person would hear, measured: test tones written as WAV files for Chromium's fake
 * microphone, and, inside the page, the dominant frequency and level of a received voice
 * (WebAudio AnalyserNode on the track the UI plays).
 */
import { writeFileSync } from 'node:fs';
import type { Page } from 'puppeteer-core';

/**
 * A mono 16-bit PCM WAV of a pure tone (Chromium loops it as the fake microphone). `noise` mixes
 * in white noise of that amplitude (0–0.5): a sound that never pauses and is hard to compress,
 * the worst case for the bitrate of a voice.
 */
export function writeToneWav(file: string, frequency: number, seconds = 4, sampleRate = 48_000, noise = 0): string {
  const samples = Math.round(seconds * sampleRate);
  const data = Buffer.alloc(samples * 2);
  // A fixed pseudo-random sequence (LCG): the same file at every run.
  let seed = 1;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648 - 0.5;
  };
  for (let i = 0; i < samples; i++) {
    const tone = Math.sin((2 * Math.PI * frequency * i) / sampleRate) * (0.5 - noise);
    data.writeInt16LE(Math.round((tone + random() * 2 * noise) * 32767), i * 2);
  }
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8);
  header.write('fmt ', 12);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  writeFileSync(file, Buffer.concat([header, data]));
  return file;
}

export interface HeardAudio {
  /** Frequency of the strongest bin, in Hz (0 when nothing is heard). */
  peakHz: number;
  /** RMS level in dBFS (-200 for digital silence). */
  levelDb: number;
}

/**
 * Listens for ~0.5 s to the audio the page plays for a participant's microphone and
 * reports its dominant frequency and level.
 */
export function hear(page: Page, participantId: string): Promise<HeardAudio | null> {
  return page.evaluate(async (id: string) => {
    const sink = document.querySelector<HTMLAudioElement>(`audio[data-participant-id="${id}"][data-source="mic"]`);
    const track = (sink?.srcObject as MediaStream | null)?.getAudioTracks()[0];
    if (!track) return null;
    const w = window as unknown as { __relaisTestAudio?: AudioContext };
    if (!w.__relaisTestAudio) w.__relaisTestAudio = new AudioContext();
    const context = w.__relaisTestAudio;
    if (context.state === 'suspended') await context.resume();
    const source = context.createMediaStreamSource(new MediaStream([track]));
    const analyser = context.createAnalyser();
    analyser.fftSize = 8192;
    analyser.smoothingTimeConstant = 0;
    source.connect(analyser);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const spectrum = new Float32Array(analyser.frequencyBinCount);
    analyser.getFloatFrequencyData(spectrum);
    const wave = new Float32Array(analyser.fftSize);
    analyser.getFloatTimeDomainData(wave);
    source.disconnect();
    let peak = 0;
    for (let i = 1; i < spectrum.length; i++) if ((spectrum[i] ?? -Infinity) > (spectrum[peak] ?? -Infinity)) peak = i;
    let sum = 0;
    for (const sample of wave) sum += sample * sample;
    const rms = Math.sqrt(sum / wave.length);
    // Digital silence reads as -200 dBFS (a number survives the trip out of the page).
    const levelDb = Math.max(-200, 20 * Math.log10(rms || 1e-10));
    return { peakHz: levelDb > -60 ? (peak * context.sampleRate) / analyser.fftSize : 0, levelDb };
  }, participantId);
}

/** True when `heard` is the tone `frequency` (within one FFT bin or so). */
export function isTone(heard: HeardAudio | null, frequency: number): boolean {
  return heard !== null && heard.levelDb > -40 && Math.abs(heard.peakHz - frequency) < 15;
}

/** True when the participant is silent at the listener's side. */
export function isSilent(heard: HeardAudio | null): boolean {
  return heard !== null && heard.levelDb < -50;
}
