/**
 * A moderator's list of everyone in the room, raised hands first, with what each person
 * can be asked: mute their live microphone, give or take back the floor (listeners), remove
 * (after a confirmation in the row itself, usable from the keyboard). Every state is said
 * in words, with an icon beside it, never by colour alone.
 *
 * Rows are updated in place, never rebuilt: a keyboard user keeps the focus on the button
 * they are on while the list changes around them.
 */
import type { ParticipantView, RequestName } from '../../../server/src/signalling/catalog.js';
import { t } from '../i18n/i18n.js';
import type { ConferenceClient } from '../rtc/ConferenceClient.js';
import type { Roster } from '../rtc/Roster.js';
import type { Announcer } from './Announcer.js';
import { h } from './element.js';
import { icon } from './icons.js';
import { requestErrorText } from './requestErrorText.js';

type MicState = 'on' | 'muted' | 'none';

/** A state in words beside its icon. */
interface Badge {
  element: HTMLElement;
  label: HTMLElement;
}

interface Row {
  id: string;
  element: HTMLLIElement;
  name: HTMLElement;
  role: HTMLElement;
  hand: Badge;
  floor: Badge;
  mic: Badge;
  actions: HTMLElement;
  mute: HTMLButtonElement;
  floorButton: HTMLButtonElement;
  remove: HTMLButtonElement;
  roleSelect: HTMLSelectElement;
  spotlight: HTMLButtonElement;
  confirm: HTMLElement;
  question: HTMLElement;
  confirmButton: HTMLButtonElement;
  cancelButton: HTMLButtonElement;
}

export class ModeratorPanel {
  readonly element: HTMLElement;
  private readonly list: HTMLUListElement;
  private readonly title: HTMLElement;
  private readonly handsSummary: HTMLElement;
  private readonly error: HTMLElement;
  private readonly rows = new Map<string, Row>();
  /** When each hand went up: the first raised is the first listed. */
  private readonly raisedAt = new Map<string, number>();
  private readonly unsubscribe: (() => void)[] = [];
  private raiseCounter = 0;

  constructor(
    private readonly client: ConferenceClient,
    private readonly roster: Roster,
    private readonly announcer: Announcer,
  ) {
    // Focusable from script: where the focus goes when the row it was in disappears.
    this.title = h('h2', { id: 'moderation-title', tabindex: '-1' });
    this.handsSummary = h('p', { className: 'hint', 'data-testid': 'hands-summary' });
    this.error = h('p', { className: 'notice', role: 'alert', hidden: true, 'data-testid': 'moderation-error' });
    this.list = h('ul', { className: 'moderation-list', 'aria-labelledby': 'moderation-title' });
    this.element = h(
      'aside',
      {
        id: 'moderation-panel',
        className: 'moderation',
        'aria-labelledby': 'moderation-title',
        'data-testid': 'moderation-panel',
      },
      this.title,
      this.handsSummary,
      this.error,
      // Focusable because it scrolls on its own.
      h('div', { className: 'moderation-scroll', tabindex: '0', 'aria-labelledby': 'moderation-title' }, this.list),
    );
    this.wire();
    for (const p of roster.all()) this.upsert(p, undefined, false);
    this.refreshAll();
  }

  /** Our own microphone changed (published, muted, released): no notification says so. */
  refreshSelf(): void {
    const id = this.client.self?.id;
    if (id) this.refreshRow(id);
  }

  /** Another part of the moderator's tools (who may enter), after the list of who is in. */
  addSection(section: HTMLElement): void {
    this.element.append(section);
  }

  dispose(): void {
    for (const off of this.unsubscribe) off();
  }

  private wire(): void {
    const c = this.client;
    const on = this.unsubscribe;
    const r = this.roster;
    on.push(r.on('arrived', (p, live) => this.upsert(p, undefined, live)));
    on.push(r.on('changed', (p, before, live) => this.upsert(p, before, live)));
    on.push(
      r.on('departed', (p) => {
        this.drop(p.id);
        this.refreshCounts();
      }),
    );
    on.push(r.on('synced', () => this.refreshAll()));
    const micChanged = (participantId: string | undefined): void => {
      if (participantId) this.refreshRow(participantId);
    };
    on.push(c.on('trackAdded', (track) => micChanged(track.participantId)));
    on.push(c.on('trackRemoved', (track) => micChanged(track.participantId)));
    on.push(c.on('trackPaused', (track) => micChanged(track.participantId)));
    on.push(c.on('producerPaused', (info) => micChanged(info.participantId)));
    on.push(c.on('spotlight', () => this.refreshAll()));
  }

  /** `live`: a change as it happens (announced, recounted at once), not part of a whole new list. */
  private upsert(p: ParticipantView, before: ParticipantView | undefined, live: boolean): void {
    if (p.handRaised && !before?.handRaised) this.raisedAt.set(p.id, ++this.raiseCounter);
    if (!p.handRaised) this.raisedAt.delete(p.id);
    // Hands raised are announced by the meeting view for everyone who sees the list.
    if (live && before && p.role !== before.role) {
      this.announcer.say(t('roleChangedOther', { name: p.name, role: t(`role_${p.role}`) }));
    }
    if (live && before && p.hasFloor !== before.hasFloor) {
      this.announcer.say(t(p.hasFloor ? 'floorGivenNow' : 'floorTakenNow', { name: p.name }));
    }
    if (!this.rows.has(p.id)) this.rows.set(p.id, this.createRow(p));
    this.refreshRow(p.id);
    if (live) this.refreshCounts();
  }

  private drop(id: string): void {
    const element = this.rows.get(id)?.element;
    const hadFocus = element?.contains(document.activeElement) ?? false;
    element?.remove();
    if (hadFocus) this.title.focus();
    this.rows.delete(id);
    this.raisedAt.delete(id);
  }

  private isSelf(id: string): boolean {
    return id === this.client.self?.id;
  }

  private micState(participantId: string): MicState {
    if (this.isSelf(participantId)) {
      if (!this.client.producerId('mic')) return 'none';
      return this.client.isMuted('mic') ? 'muted' : 'on';
    }
    const mic = this.client
      .remoteTracks()
      .find((track) => track.participantId === participantId && track.source === 'mic');
    if (!mic) return 'none';
    return mic.paused ? 'muted' : 'on';
  }

  private createRow(p: ParticipantView): Row {
    const self = this.isSelf(p.id);
    const badge = (className: string, symbol: Parameters<typeof icon>[0]): Badge => {
      const label = h('span', {});
      return { element: h('span', { className: `badge ${className}` }, icon(symbol), label), label };
    };
    const row: Row = {
      id: p.id,
      element: h('li', {
        className: 'moderation-row',
        'data-participant-id': p.id,
        'data-self': self ? 'true' : undefined,
      }),
      name: h('span', { className: 'name' }),
      role: h('span', { className: 'role hint' }),
      hand: badge('badge-hand', 'hand'),
      floor: badge('badge-floor', 'speaking'),
      mic: badge('badge-mic', 'mic'),
      actions: h('div', { className: 'moderation-actions' }),
      mute: h(
        'button',
        { type: 'button', className: 'button small', 'data-action': 'mute-participant' },
        icon('micOff'),
        t('muteAction'),
      ),
      floorButton: h('button', { type: 'button', className: 'button small', 'data-action': 'floor' }),
      remove: h(
        'button',
        { type: 'button', className: 'button small danger', 'data-action': 'remove-participant' },
        t('removeAction'),
      ),
      roleSelect: h(
        'select',
        { className: 'role-select', 'data-action': 'set-role' },
        ...(['listener', 'speaker', 'moderator'] as const).map((role) =>
          h('option', { value: role }, t(`role_${role}`)),
        ),
      ),
      spotlight: h('button', { type: 'button', className: 'button small', 'data-action': 'spotlight' }),
      confirm: h('div', { className: 'moderation-confirm', role: 'group', hidden: true }),
      question: h('p', { className: 'confirm-question' }),
      confirmButton: h(
        'button',
        { type: 'button', className: 'button small danger', 'data-action': 'confirm-remove' },
        t('removeConfirm'),
      ),
      cancelButton: h(
        'button',
        { type: 'button', className: 'button small', 'data-action': 'cancel-remove' },
        t('cancel'),
      ),
    };
    const questionId = `remove-question-${this.rows.size}-${Math.random().toString(36).slice(2, 8)}`;
    row.question.id = questionId;
    row.confirm.setAttribute('aria-labelledby', questionId);
    row.confirm.append(
      row.question,
      h('div', { className: 'moderation-actions' }, row.confirmButton, row.cancelButton),
    );
    row.confirm.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        event.preventDefault();
        this.closeConfirm(row);
      }
    });
    row.mute.addEventListener('click', () => void this.act(row, row.mute, 'muteParticipant'));
    row.floorButton.addEventListener('click', () => {
      const person = this.roster.get(row.id);
      void this.act(row, row.floorButton, person?.hasFloor ? 'revokeFloor' : 'grantFloor');
    });
    row.remove.addEventListener('click', () => this.openConfirm(row));
    row.roleSelect.addEventListener('change', () => {
      const role = row.roleSelect.value as ParticipantView['role'];
      void this.request(() => this.client.request('setRole', { participantId: row.id, role }));
    });
    row.spotlight.addEventListener('click', () => {
      const participantId = this.client.spotlight === row.id ? null : row.id;
      void this.request(() => this.client.request('setSpotlight', { participantId }));
    });
    row.cancelButton.addEventListener('click', () => this.closeConfirm(row));
    row.confirmButton.addEventListener('click', () => void this.act(row, row.confirmButton, 'removeParticipant'));
    row.actions.append(row.mute, row.floorButton, row.spotlight, row.roleSelect, row.remove);
    row.element.append(
      h('div', { className: 'moderation-who' }, row.name, row.role),
      h('div', { className: 'badges' }, row.hand.element, row.floor.element, row.mic.element),
    );
    // Nobody moderates themselves (the server refuses it too).
    if (!self) row.element.append(row.actions, row.confirm);
    return row;
  }

  private openConfirm(row: Row): void {
    row.actions.hidden = true;
    row.confirm.hidden = false;
    // The safe choice has the focus: Enter pressed twice by mistake removes nobody.
    row.cancelButton.focus();
  }

  private closeConfirm(row: Row): void {
    row.confirm.hidden = true;
    row.actions.hidden = false;
    row.remove.focus();
  }

  private async act(
    row: Row,
    button: HTMLButtonElement,
    request: Extract<RequestName, 'muteParticipant' | 'grantFloor' | 'revokeFloor' | 'removeParticipant'>,
  ): Promise<void> {
    const id = row.id;
    const name = this.roster.get(id)?.name ?? '';
    // aria-disabled, not disabled: a disabled button drops the keyboard focus.
    if (button.getAttribute('aria-disabled') === 'true') return;
    this.showError(undefined);
    button.setAttribute('aria-disabled', 'true');
    try {
      await this.client.request(request, { participantId: id });
      if (request === 'removeParticipant') this.announcer.say(t('removedNow', { name }));
    } catch (error) {
      this.showError(requestErrorText(error));
      if (request === 'removeParticipant' && this.rows.has(id)) this.closeConfirm(row);
    } finally {
      button.removeAttribute('aria-disabled');
    }
  }

  /** A request whose outcome the server announces to everyone (role, spotlight): only a refusal is said here. */
  private async request(send: () => Promise<unknown>): Promise<void> {
    this.showError(undefined);
    try {
      await send();
    } catch (error) {
      this.showError(requestErrorText(error));
      this.refreshAll();
    }
  }

  private showError(text: string | undefined): void {
    this.error.hidden = !text;
    this.error.textContent = text ?? '';
  }

  private refreshRow(id: string): void {
    const row = this.rows.get(id);
    const p = this.roster.get(id);
    if (!row || !p) return;
    const self = this.isSelf(id);
    const mic = this.micState(id);
    const el = row.element;
    el.dataset.name = p.name;
    el.dataset.role = p.role;
    el.dataset.hand = p.handRaised ? 'raised' : 'down';
    el.dataset.floor = p.hasFloor ? 'true' : 'false';
    el.dataset.mic = mic;
    row.name.textContent = self ? t('you', { name: p.name }) : p.name;
    row.role.textContent = t(`role_${p.role}`);
    row.hand.element.hidden = !p.handRaised;
    row.hand.label.textContent = t('handRaised');
    row.floor.element.hidden = !p.hasFloor;
    row.floor.label.textContent = t('hasFloor');
    row.mic.label.textContent = mic === 'on' ? t('micLive') : mic === 'muted' ? t('muted') : t('noMic');
    row.mic.element.querySelector('svg')?.replaceWith(icon(mic === 'on' ? 'mic' : 'micOff'));
    // A listener without the floor has no microphone by design: saying so for hundreds is noise.
    row.mic.element.hidden = mic === 'none' && p.role === 'listener';
    if (self) return;
    const muteHadFocus = document.activeElement === row.mute;
    row.mute.hidden = mic !== 'on';
    // Muted: the button goes; the focus stays in the row instead of falling to the page.
    if (muteHadFocus && row.mute.hidden) row.remove.focus();
    row.mute.setAttribute('aria-label', t('muteActionLabel', { name: p.name }));
    row.floorButton.hidden = p.role !== 'listener';
    row.floorButton.textContent = t(p.hasFloor ? 'revokeFloor' : 'grantFloor');
    row.floorButton.dataset.action = p.hasFloor ? 'revoke-floor' : 'grant-floor';
    row.floorButton.setAttribute(
      'aria-label',
      t(p.hasFloor ? 'revokeFloorLabel' : 'grantFloorLabel', { name: p.name }),
    );
    row.remove.setAttribute('aria-label', t('removeActionLabel', { name: p.name }));
    row.roleSelect.value = p.role;
    row.roleSelect.setAttribute('aria-label', t('roleSelectLabel', { name: p.name }));
    const spotlit = this.client.spotlight === id;
    row.spotlight.textContent = t(spotlit ? 'spotlightOff' : 'spotlightAction');
    row.spotlight.setAttribute(
      'aria-label',
      t(spotlit ? 'spotlightOffLabel' : 'spotlightActionLabel', { name: p.name }),
    );
    row.spotlight.setAttribute('aria-pressed', String(spotlit));
    row.question.textContent = t('removeConfirmQuestion', { name: p.name });
    row.confirmButton.setAttribute('aria-label', t('removeConfirmLabel', { name: p.name }));
    row.cancelButton.setAttribute('aria-label', t('cancelRemoveLabel', { name: p.name }));
  }

  private refreshAll(): void {
    for (const id of this.rows.keys()) this.refreshRow(id);
    this.refreshCounts();
  }

  /** Title, hands summary, and the order: raised hands first (first raised first), then by name. */
  private refreshCounts(): void {
    this.title.textContent = t('moderationTitle', { count: this.roster.size });
    const hands = this.raisedAt.size;
    this.handsSummary.textContent =
      hands === 0 ? t('handsNone') : hands === 1 ? t('handsOne') : t('handsCount', { count: hands });
    // Then who may speak now (listeners given the floor first), then the listeners.
    const rank = (p: ParticipantView): number => (p.hasFloor ? 0 : p.role !== 'listener' ? 1 : 2);
    const order = this.roster.all().sort((a, b) => {
      const ra = this.raisedAt.get(a.id);
      const rb = this.raisedAt.get(b.id);
      if (ra !== undefined || rb !== undefined) {
        if (ra === undefined) return 1;
        if (rb === undefined) return -1;
        return ra - rb;
      }
      return rank(a) - rank(b) || a.name.localeCompare(b.name, 'fr');
    });
    const wanted = order.flatMap((p) => this.rows.get(p.id)?.element ?? []);
    const current = [...this.list.children];
    if (wanted.length === current.length && wanted.every((el, i) => el === current[i])) return;
    // Moving a node that holds the focus blurs it: give it back.
    const focused =
      document.activeElement instanceof HTMLElement && this.list.contains(document.activeElement)
        ? document.activeElement
        : undefined;
    this.list.append(...wanted);
    focused?.focus();
  }
}
