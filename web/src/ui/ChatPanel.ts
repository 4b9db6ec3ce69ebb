/**
 * Text chat: nothing stored, messages shown as text (never markup), limited in size like
 * the server limits them.
 */
import { chatTextProblem, MAX_CHAT_LENGTH } from '../../../server/src/domain/chat.js';
import type { ChatMessage } from '../../../server/src/signalling/catalog.js';
import { RequestFailed } from '../../../server/src/signalling/catalogRequest.js';
import { lang, t } from '../i18n/i18n.js';
import { h } from './element.js';

/** Old messages go first: the page stays light in a long meeting. */
const MAX_SHOWN = 200;

export class ChatPanel {
  readonly element: HTMLElement;
  private readonly log: HTMLOListElement;
  private readonly scroller: HTMLElement;
  private readonly input: HTMLTextAreaElement;
  private readonly remaining: HTMLElement;
  private readonly error: HTMLElement;

  constructor(
    private readonly send: (text: string) => Promise<void>,
    private readonly selfId: () => string | undefined,
  ) {
    this.log = h('ol', { className: 'chat-list' });
    // The live region wraps the list (role="log" on the <ol> itself would hide that it is a list).
    this.scroller = h(
      'div',
      { className: 'chat-log', role: 'log', 'aria-live': 'polite', 'aria-labelledby': 'chat-title', tabindex: '0' },
      this.log,
    );
    this.input = h('textarea', {
      id: 'chat-input',
      rows: 2,
      maxlength: MAX_CHAT_LENGTH,
      'aria-describedby': 'chat-remaining chat-notice',
      'data-action': 'chat-input',
    });
    this.remaining = h('span', { id: 'chat-remaining', className: 'hint' });
    this.error = h('p', { className: 'notice', role: 'alert', hidden: true });
    this.input.addEventListener('input', () => this.count());
    this.input.addEventListener('keydown', (event) => {
      // Enter sends, Shift+Enter makes a new line.
      if (event.key === 'Enter' && !event.shiftKey) {
        event.preventDefault();
        void this.submit();
      }
    });
    this.element = h(
      'aside',
      { className: 'chat', 'aria-labelledby': 'chat-title' },
      h('h2', { id: 'chat-title' }, t('chatHeading')),
      h('p', { id: 'chat-notice', className: 'hint' }, t('chatNotice')),
      this.scroller,
      this.error,
      h(
        'form',
        {
          className: 'chat-form',
          onsubmit: (event) => {
            event.preventDefault();
            void this.submit();
          },
        },
        h('label', { for: 'chat-input' }, t('chatLabel')),
        this.input,
        h(
          'div',
          { className: 'chat-actions' },
          this.remaining,
          h('button', { type: 'submit', className: 'button primary', 'data-action': 'chat-send' }, t('chatSend')),
        ),
      ),
    );
    this.count();
  }

  add(message: ChatMessage): void {
    const time = new Date(message.at).toLocaleTimeString(lang(), { hour: '2-digit', minute: '2-digit' });
    const own = message.from === this.selfId();
    this.log.appendChild(
      h(
        'li',
        { className: own ? 'chat-message own' : 'chat-message', 'data-from': message.from },
        h(
          'span',
          { className: 'chat-meta' },
          h('strong', {}, message.name),
          ' ',
          h('time', { datetime: new Date(message.at).toISOString() }, time),
        ),
        h('span', { className: 'chat-text' }, message.text.slice(0, MAX_CHAT_LENGTH)),
      ),
    );
    while (this.log.childElementCount > MAX_SHOWN) this.log.firstElementChild?.remove();
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  private count(): void {
    this.remaining.textContent = t('chatRemaining', { count: MAX_CHAT_LENGTH - this.input.value.length });
  }

  private async submit(): Promise<void> {
    const text = this.input.value.trim();
    const problem = chatTextProblem(text);
    if (problem === 'empty') return;
    if (problem === 'too-long') return this.showError(t('chatTooLong', { count: MAX_CHAT_LENGTH }));
    this.error.hidden = true;
    try {
      await this.send(text);
      this.input.value = '';
      this.count();
    } catch (error) {
      // Decided on the code; the server's text is for its logs, not for this page.
      const code = error instanceof RequestFailed ? error.code : undefined;
      this.showError(
        code === 'FORBIDDEN'
          ? t('chatFailed_FORBIDDEN')
          : code === 'RATE_LIMITED'
            ? t('chatFailed_RATE_LIMITED')
            : t('chatFailed'),
      );
    }
  }

  private showError(text: string): void {
    this.error.textContent = text;
    this.error.hidden = false;
  }
}
