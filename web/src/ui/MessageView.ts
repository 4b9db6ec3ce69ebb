/** A full-page message: an error before joining, or the end of a session. */
import { clear, h } from './element.js';

export interface MessageAction {
  label: string;
  action: string;
  run: () => void;
}

export function showMessage(
  root: HTMLElement,
  view: string,
  title: string,
  lines: string[],
  actions: MessageAction[] = [],
): void {
  clear(root);
  root.dataset.view = view;
  const heading = h('h1', { tabindex: '-1' }, title);
  root.appendChild(
    h(
      'section',
      { className: 'message-view', role: actions.length ? undefined : 'alert', 'aria-labelledby': 'message-title' },
      heading,
      ...lines.map((line) => h('p', {}, line)),
      actions.length
        ? h(
            'p',
            { className: 'actions' },
            ...actions.map((a) =>
              h(
                'button',
                { type: 'button', className: 'button primary', 'data-action': a.action, onclick: a.run },
                a.label,
              ),
            ),
          )
        : null,
    ),
  );
  heading.id = 'message-title';
  heading.focus();
}
