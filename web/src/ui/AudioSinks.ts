/** What we hear: a hidden audio element per remote audio track, played as soon as it arrives. */
import type { RemoteTrack } from '../rtc/ConferenceClient.js';
import { h } from './element.js';

export class AudioSinks {
  readonly element: HTMLElement = h('div', { className: 'audio-sinks', hidden: true });
  private readonly sinks = new Map<string, HTMLAudioElement>();

  add(track: RemoteTrack): void {
    if (this.sinks.has(track.consumerId)) return;
    const sink = h('audio', {
      autoplay: true,
      'data-participant-id': track.participantId,
      'data-source': track.source,
      'data-consumer-id': track.consumerId,
    });
    sink.srcObject = new MediaStream([track.track]);
    this.sinks.set(track.consumerId, sink);
    this.element.appendChild(sink);
    void sink.play().catch(() => undefined);
  }

  remove(track: RemoteTrack): void {
    const sink = this.sinks.get(track.consumerId);
    if (sink) {
      sink.srcObject = null;
      sink.remove();
    }
    this.sinks.delete(track.consumerId);
  }

  dispose(): void {
    for (const sink of this.sinks.values()) sink.srcObject = null;
  }
}
