/** A listener's buttons to watch the videos on offer (none are received until asked). */
import { t } from '../i18n/i18n.js';
import type { ConferenceClient } from '../rtc/ConferenceClient.js';
import { h } from './element.js';
import { icon } from './icons.js';

export class VideoOffers {
  readonly element: HTMLElement = h('div', { className: 'offers', hidden: true });

  constructor(
    private readonly client: ConferenceClient,
    private readonly nameOf: (participantId: string) => string,
  ) {}

  refresh(): void {
    const offers = this.client.availableVideo();
    this.element.replaceChildren(
      ...offers.map((info) => {
        const button = h(
          'button',
          { type: 'button', className: 'button', 'data-action': 'watch', 'data-producer-id': info.producerId },
          icon(info.source === 'screen' ? 'screen' : 'camera'),
          t(info.source === 'screen' ? 'watchScreen' : 'watchCamera', { name: this.nameOf(info.participantId) }),
        );
        button.addEventListener('click', () => {
          button.disabled = true;
          void this.client.watchVideo(info.producerId).finally(() => this.refresh());
        });
        return button;
      }),
    );
    this.element.hidden = offers.length === 0;
  }
}
