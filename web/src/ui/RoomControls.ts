/**
 * A moderator's control of who enters: the room's policy (open, waiting room, locked), the
 * people waiting with "let in" and "refuse" for each or for all, and the attendance register
 * to download. The server decides and tells everyone; this view follows what it says.
 */
import type { JoinResult, LobbyView, RoomPolicy } from '../../../server/src/signalling/catalog.js';
import { lang, t } from '../i18n/i18n.js';
import type { ConferenceClient } from '../rtc/ConferenceClient.js';
import type { Announcer } from './Announcer.js';
import { clear, h } from './element.js';
import { sayRefusal } from './requestErrorText.js';

const POLICIES: readonly RoomPolicy[] = ['open', 'lobby', 'locked'];

export class RoomControls {
  readonly element: HTMLElement;
  private readonly radios = new Map<RoomPolicy, HTMLInputElement>();
  private readonly lobbyTitle: HTMLElement;
  private readonly lobbyList: HTMLUListElement;
  private readonly lobbyEmpty: HTMLElement;
  private readonly allActions: HTMLElement;
  private readonly error: HTMLElement;
  private readonly unsubscribe: (() => void)[] = [];
  private waiting: LobbyView[] = [];

  constructor(
    private readonly client: ConferenceClient,
    joined: Pick<JoinResult, 'policy' | 'lobby'>,
    private readonly announcer: Announcer,
  ) {
    const fieldset = h('fieldset', { className: 'policy-choice' }, h('legend', {}, t('policyLegend')));
    for (const policy of POLICIES) {
      const radio = h('input', {
        type: 'radio',
        name: 'room-policy',
        value: policy,
        id: `policy-${policy}`,
        'data-policy': policy,
      });
      radio.addEventListener('change', () => {
        if (radio.checked) void this.act(() => this.client.request('setRoomPolicy', { policy }));
      });
      this.radios.set(policy, radio);
      fieldset.append(h('div', {}, radio, h('label', { for: `policy-${policy}` }, t(`policy_${policy}`))));
    }
    this.lobbyTitle = h('h3', { id: 'lobby-list-title' });
    this.lobbyEmpty = h('p', { className: 'hint' }, t('lobbyEmpty'));
    this.lobbyList = h('ul', {
      className: 'lobby-list',
      'aria-labelledby': 'lobby-list-title',
      'data-testid': 'lobby-list',
    });
    this.allActions = h(
      'p',
      { className: 'moderation-actions' },
      h(
        'button',
        { type: 'button', className: 'button small', 'data-action': 'admit-all', onclick: () => this.decide('admit') },
        t('admitAll'),
      ),
      h(
        'button',
        {
          type: 'button',
          className: 'button small',
          'data-action': 'refuse-all',
          onclick: () => this.decide('refuse'),
        },
        t('refuseAll'),
      ),
    );
    this.error = h('p', { className: 'notice', role: 'alert', hidden: true, 'data-testid': 'room-control-error' });
    this.element = h(
      'section',
      { className: 'room-control', 'aria-labelledby': 'room-control-title', 'data-testid': 'room-control' },
      h('h3', { id: 'room-control-title' }, t('roomControlTitle')),
      fieldset,
      this.lobbyTitle,
      this.lobbyEmpty,
      this.lobbyList,
      this.allActions,
      h('h3', { id: 'attendance-title' }, t('attendanceTitle')),
      h(
        'p',
        { className: 'moderation-actions' },
        h(
          'button',
          {
            type: 'button',
            className: 'button small',
            'data-action': 'export-csv',
            onclick: () => this.download('csv'),
          },
          t('exportCsv'),
        ),
        h(
          'button',
          {
            type: 'button',
            className: 'button small',
            'data-action': 'export-json',
            onclick: () => this.download('json'),
          },
          t('exportJson'),
        ),
      ),
      this.error,
    );
    this.showPolicy(joined.policy);
    this.showLobby(joined.lobby, false);
    this.unsubscribe.push(
      client.on('roomPolicy', (policy) => {
        this.showPolicy(policy);
        this.announcer.say(t(`policyNow_${policy}`));
      }),
      client.on('lobbyChanged', (waiting) => this.showLobby(waiting, true)),
    );
  }

  dispose(): void {
    for (const off of this.unsubscribe) off();
  }

  private showPolicy(policy: RoomPolicy): void {
    for (const [value, radio] of this.radios) radio.checked = value === policy;
    this.element.dataset.policy = policy;
  }

  /** Rebuilt from the server's list; newcomers are announced when it changes live. */
  private showLobby(waiting: LobbyView[], live: boolean): void {
    const before = new Set(this.waiting.map((w) => w.id));
    this.waiting = waiting;
    if (live)
      for (const w of waiting) if (!before.has(w.id)) this.announcer.say(t('lobbyArrivedNow', { name: w.name }));
    this.lobbyTitle.textContent = t('lobbyListTitle', { count: waiting.length });
    this.lobbyEmpty.hidden = waiting.length > 0;
    this.allActions.hidden = waiting.length < 2;
    // Keep the keyboard focus in the list when the row it was on goes away.
    const hadFocus = this.lobbyList.contains(document.activeElement);
    clear(this.lobbyList);
    const time = new Intl.DateTimeFormat(lang(), { hour: '2-digit', minute: '2-digit' });
    for (const w of waiting) {
      this.lobbyList.append(
        h(
          'li',
          { className: 'moderation-row', 'data-participant': w.id },
          h(
            'div',
            { className: 'moderation-who' },
            h('strong', {}, w.name),
            h('span', { className: 'role' }, t(`role_${w.role}`)),
            h('span', { className: 'hint' }, t('lobbySince', { time: time.format(w.since) })),
          ),
          h(
            'div',
            { className: 'moderation-actions' },
            h(
              'button',
              {
                type: 'button',
                className: 'button small',
                'data-action': 'admit',
                'aria-label': t('admitActionLabel', { name: w.name }),
                onclick: () => this.decide('admit', w.id),
              },
              t('admitAction'),
            ),
            h(
              'button',
              {
                type: 'button',
                className: 'button small',
                'data-action': 'refuse',
                'aria-label': t('refuseActionLabel', { name: w.name }),
                onclick: () => this.decide('refuse', w.id),
              },
              t('refuseAction'),
            ),
          ),
        ),
      );
    }
    if (hadFocus) (this.lobbyList.querySelector('button') ?? this.lobbyTitle).focus();
  }

  private decide(decision: 'admit' | 'refuse', participantId?: string): void {
    void this.act(() => this.client.request('decideLobby', { decision, ...(participantId ? { participantId } : {}) }));
  }

  private async download(format: 'csv' | 'json'): Promise<void> {
    await this.act(async () => {
      const { content } = await this.client.request('exportAttendance', { format });
      const type = format === 'csv' ? 'text/csv;charset=utf-8' : 'application/json';
      const url = URL.createObjectURL(new Blob([content], { type }));
      const link = h('a', { href: url, download: `presence-${new Date().toISOString().slice(0, 10)}.${format}` });
      link.click();
      // The browser has taken the file: the blob is no longer needed.
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      this.announcer.say(t('exportedNow'));
    });
  }

  /** Said in the page's own words when the server refuses. */
  private act(request: () => Promise<unknown>): Promise<void> {
    return sayRefusal(this.error, request);
  }
}
