/**
 * The stage: a shared screen shown large (or, for a listener, a video they asked to watch).
 * Several may be shared at once; the latest one is shown.
 */
import { t } from '../i18n/i18n.js';
import type { RemoteTrack } from '../rtc/ConferenceClient.js';
import { h } from './element.js';

/** A remote track, or our own screen (shown to us from the local track, not a consumer). */
export type StagedVideo = RemoteTrack | { participantId: string; track: MediaStreamTrack };

export class ScreenStage {
  readonly element: HTMLElement;
  private readonly video: HTMLVideoElement;
  private readonly caption: HTMLElement;
  private readonly shown = new Map<string, StagedVideo>();

  constructor(
    private readonly nameOf: (participantId: string) => string,
    private readonly sharingChanged: (sharing: boolean) => void,
  ) {
    this.video = h('video', { autoplay: true, playsinline: true, 'aria-labelledby': 'stage-caption' });
    this.video.muted = true;
    this.caption = h('figcaption', { id: 'stage-caption' });
    this.element = h(
      'figure',
      { className: 'stage', hidden: true, 'data-testid': 'screen-stage' },
      this.video,
      this.caption,
    );
  }

  add(key: string, video: StagedVideo): void {
    this.shown.set(key, video);
    this.render();
  }

  has(key: string): boolean {
    return this.shown.has(key);
  }

  remove(key: string): void {
    this.shown.delete(key);
    this.render();
  }

  private render(): void {
    const [key, latest] = [...this.shown.entries()].pop() ?? [];
    this.element.hidden = !latest;
    this.sharingChanged(Boolean(latest));
    if (!latest) {
      this.video.srcObject = null;
      return;
    }
    if ((this.video.srcObject as MediaStream | null)?.getVideoTracks()[0] !== latest.track)
      this.video.srcObject = new MediaStream([latest.track]);
    this.element.dataset.participantId = latest.participantId;
    // The consumer shown (or 'self'): what a test asks the server about.
    this.element.dataset.key = key;
    const isCamera = 'source' in latest && latest.source === 'camera';
    this.caption.textContent = t(isCamera ? 'videoOf' : 'screenOf', { name: this.nameOf(latest.participantId) });
  }
}
