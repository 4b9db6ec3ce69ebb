import type { RedirectTarget } from '../../../server/src/domain/errors.js';
/**
 * The meeting: a grid of participants (or, for a listener, an audio-first list of the
 * speakers), a shared screen shown large, chat, hands, and the controls. It renders what
 * the ConferenceClient reports and turns clicks into its calls.
 */
import type {
  ChatMessage,
  JoinResult,
  LobbyView,
  Notifications,
  ParticipantView,
  RoomPolicy,
  SessionEndReason,
} from '../../../server/src/signalling/catalog.js';
import { t } from '../i18n/i18n.js';
import { isOnStage } from '../../../server/src/domain/stage.js';
import type { ConferenceClient, RemoteTrack } from '../rtc/ConferenceClient.js';
import type { RoomCounts, Roster } from '../rtc/Roster.js';
import type { Announcer } from './Announcer.js';
import { AudioSinks } from './AudioSinks.js';
import { ChatPanel } from './ChatPanel.js';
import { ConnectionStatus } from './ConnectionStatus.js';
import { controlButton, type ControlButton } from './ControlButton.js';
import { clear, h } from './element.js';
import { LocalControls, type LocalMedia } from './LocalControls.js';
import { ModeratorPanel } from './ModeratorPanel.js';
import { RoomControls } from './RoomControls.js';
import { RoomWideActions } from './RoomWideActions.js';
import { NowSpeaking } from './NowSpeaking.js';
import { ParticipantTile } from './ParticipantTile.js';
import { ScreenStage } from './ScreenStage.js';
import { SimulcastLayers } from './SimulcastLayers.js';
import { VideoOffers } from './VideoOffers.js';

export type { LocalMedia } from './LocalControls.js';

export interface MeetingCallbacks {
  leave: () => void;
  retry: () => void;
  /** `redirect`: the session continues on that node (this one is draining). */
  ended: (reason: SessionEndReason, redirect?: RedirectTarget) => void;
}

export class MeetingView {
  private readonly tiles = new Map<string, ParticipantTile>();
  private readonly unsubscribe: (() => void)[] = [];
  private readonly status: ConnectionStatus;
  /** Whether the last state was a reconnection, so its end is announced as the return. */
  private wasInterrupted = false;
  private readonly grid: HTMLUListElement;
  private readonly stage: ScreenStage;
  private readonly audio = new AudioSinks();
  private readonly nowSpeaking: NowSpeaking;
  private readonly counts: HTMLElement;
  private readonly chat: ChatPanel | undefined;
  private readonly local: LocalControls;
  private moderation: ModeratorPanel | undefined;
  private roomControls: RoomControls | undefined;
  private roomWide: RoomWideActions | undefined;
  private participantsToggle: ControlButton | undefined;
  private readonly body: HTMLElement;
  private readonly nav: HTMLElement;
  private spotlight: string | null = null;
  private readonly offers: VideoOffers;
  private readonly layers: SimulcastLayers;
  private readonly listener: boolean;
  /** Says that low bandwidth is on, and what it means, while it is. */
  private readonly lowBandwidthNotice: HTMLElement;
  private speaker: string | null = null;

  constructor(
    private readonly root: HTMLElement,
    private readonly client: ConferenceClient,
    private readonly roster: Roster,
    joined: JoinResult,
    room: string,
    private readonly announcer: Announcer,
    private readonly callbacks: MeetingCallbacks,
  ) {
    this.listener = !joined.permissions.seeParticipantList;
    clear(root);
    root.dataset.view = this.listener ? 'listener' : 'meeting';
    this.status = new ConnectionStatus({ retry: callbacks.retry, leave: callbacks.leave });
    this.status.set(client.state);
    this.status.setPath(client.mediaPath);
    this.grid = h('ul', {
      className: this.listener ? 'grid speakers' : 'grid',
      'aria-labelledby': 'participants-title',
    });
    this.stage = new ScreenStage(
      (id) => this.roster.get(id)?.name ?? this.client.self?.name ?? '',
      (sharing) => this.root.querySelector('.meeting')?.classList.toggle('sharing', sharing),
    );
    this.nowSpeaking = new NowSpeaking(announcer);
    this.counts = h('p', { className: 'hint' });
    this.local = new LocalControls(
      client,
      announcer,
      this.stage,
      {
        handRaised: () => {
          const self = this.client.self;
          return self ? (this.roster.get(self.id)?.handRaised ?? self.handRaised) : false;
        },
        handSet: (raised) => this.roster.setOwnHand(raised),
        changed: () => this.refreshControls(),
      },
      !this.listener,
    );
    if (joined.permissions.moderate) this.enableModeration(joined.policy, joined.lobby);
    this.offers = new VideoOffers(client, (id) => this.roster.get(id)?.name ?? '');
    this.layers = new SimulcastLayers(client);
    this.lowBandwidthNotice = h(
      'p',
      { className: 'notice info', 'data-testid': 'low-bandwidth-notice', hidden: true },
      t('lowBandwidthNotice'),
    );
    this.chat = joined.permissions.chat
      ? new ChatPanel(
          (text) => client.request('chat', { text }).then(() => undefined),
          () => client.self?.id,
        )
      : undefined;

    const heading = h(
      'h1',
      { tabindex: '-1' },
      this.listener ? t('listenTitle', { room }) : t('meetingTitle', { room }),
    );
    this.body = h(
      'div',
      { className: 'meeting-body' },
      h(
        'section',
        // Focusable because it scrolls on its own (keyboard users can scroll it too).
        { className: 'main-area', 'aria-labelledby': 'participants-title', tabindex: '0' },
        this.listener ? this.nowSpeaking.element : null,
        this.lowBandwidthNotice,
        this.offers.element,
        this.stage.element,
        h(
          'h2',
          { id: 'participants-title', className: this.listener ? '' : 'visually-hidden' },
          this.listener ? t('speakersHeading') : t('participantsHeading'),
        ),
        this.listener ? this.counts : null,
        this.grid,
      ),
      this.moderation?.element,
      this.chat?.element,
    );
    this.nav = h(
      'nav',
      { className: 'controls', 'aria-label': t('controls') },
      ...this.local.buttons,
      this.participantsToggle?.element,
    );
    root.appendChild(
      h(
        'div',
        { className: this.listener ? 'meeting listener' : 'meeting' },
        h('header', { className: 'topbar' }, heading, this.status.element),
        this.local.problem,
        this.local.notice,
        this.body,
        this.nav,
        this.audio.element,
      ),
    );
    heading.focus();
    this.setParticipantsOpen(true);

    this.wire();
    for (const p of roster.all()) this.arrived(p);
    this.joined(joined);
    this.refreshControls();
    this.refreshOffers();
  }

  /** Publishes what the person chose on the join screen. */
  async publishLocal(local: LocalMedia): Promise<void> {
    await this.local.publishLocal(local);
    this.refreshControls();
  }

  dispose(): void {
    this.nowSpeaking.dispose();
    for (const off of this.unsubscribe) off();
    this.disableModeration();
    this.layers.dispose();
    for (const tile of this.tiles.values()) tile.dispose();
    this.audio.dispose();
    this.local.dispose();
    this.tiles.clear();
  }

  private wire(): void {
    const c = this.client;
    const on = this.unsubscribe;
    on.push(
      c.on('state', (state, interruption) => {
        this.status.set(state, interruption);
        // Said aloud too: a screen reader user hears the loss and the return, not only sees them.
        if (state === 'reconnecting' && interruption) this.announcer.say(t(`interrupted_${interruption}`));
        if (state === 'connected' && this.wasInterrupted) this.announcer.say(t('connectionBack'));
        this.wasInterrupted = state === 'reconnecting';
      }),
    );
    on.push(c.on('mediaPath', (path) => this.status.setPath(path)));
    on.push(c.on('joined', (result) => this.joined(result)));
    const r = this.roster;
    on.push(
      r.on('arrived', (p, live) => {
        this.arrived(p);
        if (live) this.announcer.say(t('joinedNow', { name: p.name }));
      }),
    );
    on.push(
      r.on('departed', (p, live) => {
        this.remove(p.id);
        if (live) this.announcer.say(t('leftNow', { name: p.name }));
      }),
    );
    on.push(r.on('changed', (p, before) => this.changed(p, before)));
    on.push(r.on('counted', (counts) => this.showCounts(counts)));
    on.push(c.on('trackAdded', (track) => this.attach(track)));
    on.push(c.on('trackRemoved', (track) => this.detach(track)));
    on.push(
      c.on('trackPaused', (track) => {
        if (track.source === 'mic') this.tiles.get(track.participantId)?.setMic(track.paused ? 'muted' : 'on');
      }),
    );
    on.push(c.on('activeSpeaker', (id) => this.setSpeaker(id)));
    on.push(c.on('chatMessage', (message: ChatMessage) => this.chat?.add(message)));
    on.push(c.on('mutedByModerator', () => this.local.mutedByModerator()));
    on.push(c.on('permissionsChanged', () => this.local.permissionsChanged()));
    on.push(c.on('roleChanged', (change) => this.roleChanged(change)));
    on.push(c.on('spotlight', (id) => this.setSpotlight(id, true)));
    // Moderators hear it from their room controls; everyone else here.
    on.push(c.on('roomPolicy', (policy) => !this.roomControls && this.announcer.say(t(`policyNow_${policy}`))));
    on.push(c.on('sessionEnded', (reason, redirect) => this.callbacks.ended(reason, redirect)));
    on.push(c.on('videoAvailable', () => this.refreshOffers()));
    on.push(c.on('videoUnavailable', () => this.refreshOffers()));
    on.push(c.on('trackRemoved', () => this.refreshOffers()));
    on.push(c.on('trackAdded', () => this.refreshOffers()));
    on.push(
      c.on('lowBandwidth', () => {
        this.refreshOffers();
        this.refreshControls();
      }),
    );
  }

  /** What a join result brings besides the people (the roster has them): at first and after a reconnect. */
  private joined(result: JoinResult): void {
    this.local.joined();
    if (this.listener) this.counts.textContent = '';
    this.refreshSelf();
    // Someone may already be speaking when we arrive (or come back).
    if (result.activeSpeaker) this.setSpeaker(result.activeSpeaker);
    this.setSpotlight(result.spotlight, false);
  }

  private showCounts({ participants, handsRaised }: RoomCounts): void {
    const hands =
      handsRaised === 0 ? t('handsNone') : handsRaised === 1 ? t('handsOne') : t('handsCount', { count: handsRaised });
    this.counts.textContent = `${t('participantsCount', { count: participants })} · ${hands}`;
  }

  private arrived(p: ParticipantView): void {
    this.show(p);
    // A hand already up when someone appears is said too, never our own.
    if (p.handRaised && p.id !== this.client.self?.id) this.announcer.say(t('raisedNow', { name: p.name }));
  }

  private changed(p: ParticipantView, before: ParticipantView): void {
    this.show(p);
    if (p.id !== this.client.self?.id && p.handRaised !== before.handRaised) {
      this.announcer.say(t(p.handRaised ? 'raisedNow' : 'loweredNow', { name: p.name }));
    }
  }

  private show(p: ParticipantView): void {
    const selfId = this.client.self?.id;
    // A listener has no tile of their own: their hand is on the controls.
    if (!(this.listener && p.id === selfId)) this.showTile(p, selfId);
    if (p.id === selfId) this.refreshControls();
  }

  private showTile(p: ParticipantView, selfId: string | undefined): void {
    // The grid shows who can be heard or seen; the audience of a briefing (hundreds of
    // listeners) lives in the moderator's panel, not in 600 video tiles.
    const onStage = isOnStage(p) || p.id === selfId;
    let tile = this.tiles.get(p.id);
    if (tile && !onStage) {
      this.dropTile(p.id);
      tile = undefined;
    }
    if (!tile && onStage) {
      tile = new ParticipantTile(p, p.id === selfId);
      this.tiles.set(p.id, tile);
      if (tile.isSelf) this.grid.prepend(tile.element);
      else this.grid.appendChild(tile.element);
      tile.setSpeaking(this.speaker === p.id);
      tile.setSpotlight(this.spotlight === p.id);
      for (const track of this.client.remoteTracks()) if (track.participantId === p.id) this.attach(track);
    }
    tile?.update(p);
  }

  private remove(id: string): void {
    this.dropTile(id);
    if (this.speaker === id) this.setSpeaker(null);
  }

  private dropTile(id: string): void {
    const tile = this.tiles.get(id);
    if (tile) {
      this.layers.unwatch(tile.video);
      tile.dispose();
    }
    this.tiles.delete(id);
  }

  private attach(track: RemoteTrack): void {
    if (track.kind === 'audio') {
      this.audio.add(track);
      const tile = this.tiles.get(track.participantId);
      if (tile && track.source === 'mic') {
        tile.setAudio(track.track);
        tile.setMic(track.paused ? 'muted' : 'on');
      }
      return;
    }
    // A shared screen goes on the stage, and so does a video asked for (by a listener, or in
    // low bandwidth): there no tile size asks for a higher simulcast layer, it stays the lowest.
    if (track.source === 'screen' || this.listener || this.client.lowBandwidth) {
      this.stage.add(track.consumerId, track);
      return;
    }
    const tile = this.tiles.get(track.participantId);
    if (!tile) return;
    tile.setVideo(track.track);
    tile.video.dataset.consumerId = track.consumerId;
    this.layers.watch(tile.video);
  }

  private detach(track: RemoteTrack): void {
    if (track.kind === 'audio') {
      this.audio.remove(track);
      if (track.source === 'mic') {
        const tile = this.tiles.get(track.participantId);
        tile?.setAudio(undefined);
        tile?.setMic('none');
      }
      return;
    }
    if (this.stage.has(track.consumerId)) {
      this.stage.remove(track.consumerId);
      return;
    }
    const tile = this.tiles.get(track.participantId);
    if (tile?.hasVideo(track.track)) {
      this.layers.unwatch(tile.video);
      delete tile.video.dataset.consumerId;
      delete tile.video.dataset.layer;
      tile.setVideo(undefined);
    }
  }

  private refreshOffers(): void {
    const onRequest = this.listener || this.client.lowBandwidth;
    this.lowBandwidthNotice.hidden = !this.client.lowBandwidth;
    if (onRequest) this.offers.refresh();
    else this.offers.element.hidden = true;
  }

  /** The moderator's choice leads the stage on every page; null gives it back to the active speaker. */
  private setSpotlight(id: string | null, live: boolean): void {
    if (this.spotlight) this.tiles.get(this.spotlight)?.setSpotlight(false);
    this.spotlight = id;
    if (id) this.tiles.get(id)?.setSpotlight(true);
    this.root.dataset.spotlight = id ?? '';
    if (!live) return;
    const name = id ? (this.roster.get(id)?.name ?? (id === this.client.self?.id ? this.client.self?.name : '')) : '';
    this.announcer.say(id ? t('spotlightNow', { name: name ?? '' }) : t('spotlightCleared'));
  }

  /**
   * A moderator gave us another role: the controls follow the permissions (already applied by
   * the client), and the moderator's tools come or go, without a reconnect.
   */
  private roleChanged(change: Notifications['roleChanged']): void {
    this.root.dataset.role = change.self.role;
    if (change.permissions.moderate && !this.moderation) {
      const { panel, toggle } = this.enableModeration(change.policy ?? 'open', change.lobby ?? []);
      this.body.insertBefore(panel.element, this.chat?.element ?? null);
      this.nav.append(toggle.element);
      this.setParticipantsOpen(true);
    } else if (!change.permissions.moderate && this.moderation) {
      this.disableModeration();
    }
    this.announcer.say(t('roleChangedNow', { role: t(`role_${change.self.role}`) }));
    this.refreshControls();
  }

  private enableModeration(policy: RoomPolicy, lobby: LobbyView[]): { panel: ModeratorPanel; toggle: ControlButton } {
    const panel = new ModeratorPanel(this.client, this.roster, this.announcer);
    this.roomWide = new RoomWideActions(this.client, this.announcer);
    this.roomControls = new RoomControls(this.client, { policy, lobby }, this.announcer);
    panel.addSection(this.roomWide.element);
    panel.addSection(this.roomControls.element);
    const toggle = controlButton('participants', () => this.toggleParticipants());
    toggle.element.setAttribute('aria-controls', 'moderation-panel');
    this.moderation = panel;
    this.participantsToggle = toggle;
    return { panel, toggle };
  }

  private disableModeration(): void {
    this.moderation?.dispose();
    this.roomControls?.dispose();
    this.moderation?.element.remove();
    this.participantsToggle?.element.remove();
    this.moderation = undefined;
    this.roomControls = undefined;
    this.roomWide = undefined;
    this.participantsToggle = undefined;
  }

  private setSpeaker(id: string | null): void {
    if (id === this.speaker) return;
    if (this.speaker) this.tiles.get(this.speaker)?.setSpeaking(false);
    this.speaker = id;
    const isSelf = id === this.client.self?.id;
    const name = id ? (this.roster.get(id)?.name ?? (isSelf ? this.client.self?.name : undefined)) : undefined;
    if (id) this.tiles.get(id)?.setSpeaking(true);
    this.nowSpeaking.show(id, name, isSelf);
  }

  private refreshSelf(): void {
    const self = this.client.self;
    if (!self) return;
    const tile = this.tiles.get(self.id);
    if (tile) this.local.showOn(tile);
  }

  private refreshControls(): void {
    this.local.refresh();
    this.refreshSelf();
    this.moderation?.refreshSelf();
  }

  private toggleParticipants(): void {
    this.setParticipantsOpen(Boolean(this.moderation?.element.hidden));
  }

  private setParticipantsOpen(open: boolean): void {
    if (!this.moderation || !this.participantsToggle) return;
    this.moderation.element.hidden = !open;
    this.participantsToggle.set(open, t('participantsToggle'), 'people');
    this.participantsToggle.element.setAttribute('aria-expanded', String(open));
  }
}
