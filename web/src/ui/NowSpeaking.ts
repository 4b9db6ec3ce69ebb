/** Who is speaking now, in words: shown at once, and said aloud once they hold the floor. */
import { t } from '../i18n/i18n.js';
import type { Announcer } from './Announcer.js';
import { h } from './element.js';

export class NowSpeaking {
  // Hidden until the server names a speaker: the join result does not say who speaks now.
  readonly element: HTMLElement = h('p', { className: 'now-speaking', 'data-testid': 'now-speaking', hidden: true });
  private announced: string | null = null;
  private timer: number | undefined;

  constructor(private readonly announcer: Announcer) {}

  /** `name` is undefined when nobody speaks (or the speaker is unknown to us). */
  show(id: string | null, name: string | undefined, isSelf: boolean): void {
    this.element.textContent = name ? t('speakingNow', { name }) : t('nobodySpeaking');
    this.element.hidden = false;
    // Said aloud once the speaker has held the floor a moment: a screen reader is not flooded
    // by quick exchanges, and our own voice is not announced to us.
    clearTimeout(this.timer);
    if (name && !isSelf && id !== this.announced) {
      this.timer = window.setTimeout(() => {
        this.announced = id;
        this.announcer.say(t('speakingNow', { name }));
      }, 1500);
    }
  }

  dispose(): void {
    clearTimeout(this.timer);
  }
}
