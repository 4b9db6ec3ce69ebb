/**
 * Asks for the simulcast layer that suits each remote video's size on screen, so a small
 * tile does not receive a full-size stream.
 */
import type { ConferenceClient } from '../rtc/ConferenceClient.js';

/** The simulcast layer that suits a video shown `width` CSS pixels wide. */
function layerForWidth(width: number): number {
  const pixels = width * (window.devicePixelRatio || 1);
  if (pixels <= 360) return 0;
  if (pixels <= 800) return 1;
  return 2;
}

export class SimulcastLayers {
  private readonly layers = new Map<string, number>();
  private readonly resize: ResizeObserver | undefined;

  constructor(private readonly client: ConferenceClient) {
    this.resize =
      typeof ResizeObserver === 'function' ? new ResizeObserver((entries) => this.onResize(entries)) : undefined;
  }

  /** Follows a video whose `data-consumer-id` names the consumer it shows. */
  watch(video: HTMLVideoElement): void {
    this.resize?.observe(video);
  }

  unwatch(video: HTMLVideoElement): void {
    this.resize?.unobserve(video);
  }

  dispose(): void {
    this.resize?.disconnect();
  }

  private onResize(entries: ResizeObserverEntry[]): void {
    for (const entry of entries) {
      const consumerId = (entry.target as HTMLElement).dataset.consumerId;
      if (!consumerId) continue;
      const layer = layerForWidth(entry.contentRect.width);
      if (this.layers.get(consumerId) === layer) continue;
      this.layers.set(consumerId, layer);
      const video = entry.target as HTMLElement;
      this.client
        .setPreferredLayer(consumerId, layer)
        .then(() => (video.dataset.layer = String(layer)))
        .catch(() => this.layers.delete(consumerId));
    }
  }
}
