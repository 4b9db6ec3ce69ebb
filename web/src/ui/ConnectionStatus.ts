/**
 * The connection state, always on screen, in words and with an icon (never colour alone),
 * with a way out: retry when the connection is lost, leave at any time. Once connected it also
 * says how the media flows (direct UDP, direct TCP, or relayed through TURN), in words.
 */
import type { ConnectionState, Interruption, MediaPath } from '../rtc/ConferenceClient.js';
import { t } from '../i18n/i18n.js';
import { h } from './element.js';
import { icon } from './icons.js';

const ICONS: Record<ConnectionState, string> = {
  connecting: '◌',
  connected: '●',
  reconnecting: '◐',
  failed: '✕',
  ended: '■',
};

export class ConnectionStatus {
  readonly element: HTMLElement;
  private readonly text: HTMLElement;
  private readonly icon: HTMLElement;
  private readonly path: HTMLElement;
  private state: ConnectionState = 'connecting';
  private mediaPath: MediaPath | undefined;
  private readonly retryButton: HTMLButtonElement;

  constructor(actions: { retry: () => void; leave: () => void }) {
    this.icon = h('span', { className: 'status-icon', 'aria-hidden': 'true' });
    this.text = h('span', { className: 'status-text' });
    this.path = h('span', { className: 'status-path', hidden: true });
    this.retryButton = h(
      'button',
      { type: 'button', className: 'button', 'data-action': 'retry', onclick: () => actions.retry(), hidden: true },
      t('retry'),
    );
    this.element = h(
      'div',
      { className: 'connection' },
      h(
        'p',
        { className: 'status', role: 'status', 'aria-label': t('connectionLabel'), 'data-testid': 'connection-state' },
        this.icon,
        ' ',
        this.text,
        this.path,
      ),
      this.retryButton,
      h(
        'button',
        { type: 'button', className: 'button danger', 'data-action': 'leave', onclick: () => actions.leave() },
        icon('leave'),
        t('leave'),
      ),
    );
    this.set('connecting');
  }

  /** `interruption` says why we are reconnecting, in words (lost path, restarting service). */
  set(state: ConnectionState, interruption?: Interruption): void {
    this.state = state;
    this.element.dataset.state = state;
    if (interruption) this.element.dataset.interruption = interruption;
    else delete this.element.dataset.interruption;
    this.icon.textContent = ICONS[state];
    this.text.textContent =
      state === 'reconnecting' && interruption ? t(`interrupted_${interruption}`) : t(`state_${state}`);
    // While the service restarts the page retries by itself; a manual retry would only fail sooner.
    this.retryButton.hidden = (state !== 'failed' && state !== 'reconnecting') || interruption === 'restarting';
    this.showPath();
  }

  /** The media path once media flows; undefined when none is connected (yet). */
  setPath(path: MediaPath | undefined): void {
    this.mediaPath = path;
    this.showPath();
  }

  private showPath(): void {
    const path = this.state === 'connected' ? this.mediaPath : undefined;
    if (path) this.element.dataset.path = path;
    else delete this.element.dataset.path;
    this.path.hidden = !path;
    // « Connecté, liaison relayée par le serveur TURN »: one sentence for a screen reader.
    this.path.textContent = path ? `, ${t(`path_${path}`)}` : '';
  }
}
