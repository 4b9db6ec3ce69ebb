/**
 * A button in the meeting's control bar: its state is shown as `data-state`, a word and an
 * icon, so colour is never the only signal.
 */
import { h } from './element.js';
import { icon, type IconName } from './icons.js';

export interface ControlButton {
  element: HTMLButtonElement;
  set(on: boolean, label: string, icon: IconName): void;
}

export function controlButton(action: string, onClick: () => void): ControlButton {
  const label = h('span', { className: 'control-label' });
  const element = h(
    'button',
    { type: 'button', className: 'button control', 'data-action': action, onclick: onClick },
    label,
  );
  let shown: IconName | undefined;
  return {
    element,
    set(on, text, symbol) {
      element.dataset.state = on ? 'on' : 'off';
      label.textContent = text;
      if (shown !== symbol) {
        element.querySelector('svg')?.remove();
        element.prepend(icon(symbol));
        shown = symbol;
      }
    },
  };
}
