/**
 * What a moderator does to everyone at once: mute every microphone (the moderators' stay on,
 * and the floor's too if they choose), lower every hand, end the meeting for everyone (after a
 * confirmation in place, usable from the keyboard, the safe choice focused).
 */
import { t } from '../i18n/i18n.js';
import type { ConferenceClient } from '../rtc/ConferenceClient.js';
import type { Announcer } from './Announcer.js';
import { h } from './element.js';
import { sayRefusal } from './requestErrorText.js';

export class RoomWideActions {
  readonly element: HTMLElement;
  private readonly keepFloor: HTMLInputElement;
  private readonly actions: HTMLElement;
  private readonly confirm: HTMLElement;
  private readonly endButton: HTMLButtonElement;
  private readonly cancelButton: HTMLButtonElement;
  private readonly error: HTMLElement;

  constructor(
    private readonly client: ConferenceClient,
    private readonly announcer: Announcer,
  ) {
    this.keepFloor = h('input', { type: 'checkbox', id: 'mute-all-keep-floor', 'data-testid': 'keep-floor' });
    this.keepFloor.checked = true;
    this.endButton = h(
      'button',
      { type: 'button', className: 'button small danger', 'data-action': 'end-for-all' },
      t('endForAll'),
    );
    this.cancelButton = h(
      'button',
      { type: 'button', className: 'button small', 'data-action': 'cancel-end' },
      t('cancel'),
    );
    const question = h('p', { className: 'confirm-question', id: 'end-for-all-question' }, t('endForAllQuestion'));
    this.confirm = h(
      'div',
      { className: 'moderation-confirm', role: 'group', 'aria-labelledby': 'end-for-all-question', hidden: true },
      question,
      h(
        'div',
        { className: 'moderation-actions' },
        h(
          'button',
          {
            type: 'button',
            className: 'button small danger',
            'data-action': 'confirm-end-for-all',
            onclick: () => void this.act(() => this.client.request('endForAll', {})),
          },
          t('endForAllConfirm'),
        ),
        this.cancelButton,
      ),
    );
    this.confirm.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        event.preventDefault();
        this.closeConfirm();
      }
    });
    this.cancelButton.addEventListener('click', () => this.closeConfirm());
    this.endButton.addEventListener('click', () => {
      this.actions.hidden = true;
      this.confirm.hidden = false;
      this.cancelButton.focus();
    });
    this.error = h('p', { className: 'notice', role: 'alert', hidden: true, 'data-testid': 'room-wide-error' });
    this.actions = h(
      'div',
      {},
      h(
        'p',
        { className: 'moderation-actions' },
        h(
          'button',
          {
            type: 'button',
            className: 'button small',
            'data-action': 'mute-all',
            onclick: () =>
              void this.act(async () => {
                await this.client.request('muteAll', { keepFloor: this.keepFloor.checked });
                this.announcer.say(t('mutedAllNow'));
              }),
          },
          t('muteAll'),
        ),
        h('label', { for: 'mute-all-keep-floor', className: 'inline-choice' }, this.keepFloor, t('muteAllKeepFloor')),
      ),
      h(
        'p',
        { className: 'moderation-actions' },
        h(
          'button',
          {
            type: 'button',
            className: 'button small',
            'data-action': 'lower-all-hands',
            onclick: () =>
              void this.act(async () => {
                await this.client.request('lowerAllHands', {});
                this.announcer.say(t('handsLoweredNow'));
              }),
          },
          t('lowerAllHands'),
        ),
        this.endButton,
      ),
    );
    this.element = h(
      'section',
      { className: 'room-control room-wide', 'aria-labelledby': 'room-wide-title', 'data-testid': 'room-wide' },
      h('h3', { id: 'room-wide-title' }, t('roomWideTitle')),
      this.actions,
      this.confirm,
      this.error,
    );
  }

  private closeConfirm(): void {
    this.confirm.hidden = true;
    this.actions.hidden = false;
    this.endButton.focus();
  }

  /** Said in the page's own words when the server refuses. */
  private act(request: () => Promise<unknown>): Promise<void> {
    return sayRefusal(this.error, request);
  }
}
