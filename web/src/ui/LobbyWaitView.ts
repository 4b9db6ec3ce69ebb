/**
 * The page of someone the room keeps in its lobby: says in words that they wait for a
 * moderator (read out by screen readers, as a status), and offers to leave.
 */
import { t } from '../i18n/i18n.js';
import { clear, h } from './element.js';

export function showLobbyWait(root: HTMLElement, who: { name: string; room: string }, leave: () => void): void {
  clear(root);
  root.dataset.view = 'lobby';
  const heading = h('h1', { id: 'lobby-title', tabindex: '-1' }, t('lobbyTitle'));
  root.appendChild(
    h(
      'section',
      { className: 'message-view lobby-wait', 'aria-labelledby': 'lobby-title', 'data-testid': 'lobby-wait' },
      heading,
      h('p', { role: 'status', className: 'lead' }, t('lobbyWaiting', { name: who.name, room: who.room })),
      h('p', {}, t('lobbyHint')),
      h(
        'p',
        { className: 'actions' },
        h('button', { type: 'button', className: 'button', 'data-action': 'leave', onclick: leave }, t('leave')),
      ),
    ),
  );
  heading.focus();
}
