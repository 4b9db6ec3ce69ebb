/**
 * One participant in the grid: video (or initials), name, and states shown in words and
 * icons (speaking, microphone muted, hand raised) so colour is never the only signal.
 */
import type { ParticipantView } from '../../../server/src/signalling/catalog.js';
import { t } from '../i18n/i18n.js';
import { AudioLevel } from '../media/AudioLevel.js';
import { h } from './element.js';
import { icon } from './icons.js';

function initials(name: string): string {
  return name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((part) => part.charAt(0).toUpperCase())
    .join('');
}

export class ParticipantTile {
  readonly element: HTMLLIElement;
  readonly video: HTMLVideoElement;
  private readonly nameText: HTMLElement;
  private readonly avatar: HTMLElement;
  private readonly levelBar: HTMLElement;
  private meter: AudioLevel | undefined;
  private videoTrack: MediaStreamTrack | undefined;

  constructor(
    participant: ParticipantView,
    readonly isSelf: boolean,
  ) {
    this.video = h('video', { autoplay: true, playsinline: true, 'aria-hidden': 'true' });
    this.video.muted = true;
    this.avatar = h('span', { className: 'avatar', 'aria-hidden': 'true' });
    this.nameText = h('span', { className: 'name' });
    this.levelBar = h('span', { className: 'level-bar' });
    this.element = h(
      'li',
      {
        className: 'tile',
        'data-participant-id': participant.id,
        'data-self': isSelf ? 'true' : undefined,
        'data-mic': 'none',
        'data-video': 'off',
      },
      h('div', { className: 'tile-media' }, this.video, this.avatar),
      h(
        'div',
        { className: 'tile-caption' },
        this.nameText,
        h(
          'span',
          { className: 'badges' },
          h('span', { className: 'badge badge-speaking' }, icon('speaking'), t('speaking')),
          h('span', { className: 'badge badge-muted' }, icon('micOff'), t('muted')),
          h('span', { className: 'badge badge-hand' }, icon('hand'), t('handRaised')),
          h('span', { className: 'badge badge-floor' }, icon('speaking'), t('hasFloor')),
          h('span', { className: 'badge badge-spotlight' }, icon('people'), t('spotlightBadge')),
        ),
        h('span', { className: 'level', 'aria-hidden': 'true' }, this.levelBar),
      ),
    );
    this.update(participant);
  }

  update(participant: ParticipantView): void {
    const label = this.isSelf ? t('you', { name: participant.name }) : participant.name;
    this.nameText.textContent = label;
    this.avatar.textContent = initials(participant.name);
    this.element.dataset.name = participant.name;
    this.element.dataset.hand = participant.handRaised ? 'raised' : 'down';
    this.element.dataset.floor = participant.hasFloor ? 'true' : 'false';
  }

  setSpeaking(speaking: boolean): void {
    this.element.dataset.speaking = speaking ? 'true' : 'false';
  }

  /** A moderator put this participant in front of everyone. */
  setSpotlight(on: boolean): void {
    this.element.dataset.spotlight = on ? 'true' : 'false';
  }

  setMic(state: 'on' | 'muted' | 'none'): void {
    this.element.dataset.mic = state;
  }

  setAudio(track: MediaStreamTrack | undefined): void {
    this.meter?.close();
    this.meter = undefined;
    this.levelBar.style.transform = 'scaleX(0)';
    if (track)
      this.meter = new AudioLevel(track, (level) => (this.levelBar.style.transform = `scaleX(${level.toFixed(2)})`));
  }

  setVideo(track: MediaStreamTrack | undefined): void {
    if (track === this.videoTrack) return;
    this.videoTrack = track;
    this.video.srcObject = track ? new MediaStream([track]) : null;
    this.element.dataset.video = track ? 'on' : 'off';
  }

  hasVideo(track: MediaStreamTrack): boolean {
    return this.videoTrack === track;
  }

  dispose(): void {
    this.meter?.close();
    this.video.srcObject = null;
    this.element.remove();
  }
}
