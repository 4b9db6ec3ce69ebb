/**
 * The meeting: a grid of participants (or, for a listener, an audio-first list of the
 * speakers), a shared screen shown large, chat, hands, and the controls. It renders what
 * the ConferenceClient reports and turns clicks into its calls.
 */
import type {
  ChatMessage,
  JoinResult,
  ParticipantView,
  SessionEndReason,
} from '../../../server/src/signalling/catalog.js';
import { t } from '../i18n/i18n.js';
import type { ConferenceClient, ConnectionState, RemoteTrack } from '../rtc/ConferenceClient.js';
import type { Announcer } from './Announcer.js';
import { AudioSinks } from './AudioSinks.js';
import { ChatPanel } from './ChatPanel.js';
import { ConnectionStatus } from './ConnectionStatus.js';
import { controlButton, type ControlButton } from './ControlButton.js';
import { clear, h } from './element.js';
import { LocalControls, type LocalMedia } from './LocalControls.js';
import { ModeratorPanel } from './ModeratorPanel.js';
import { NowSpeaking } from './NowSpeaking.js';
import { ParticipantTile } from './ParticipantTile.js';
import { ScreenStage } from './ScreenStage.js';
import { SimulcastLayers } from './SimulcastLayers.js';
import { VideoOffers } from './VideoOffers.js';

export type { LocalMedia } from './LocalControls.js';

export interface MeetingCallbacks {
  leave: () => void;
  retry: () => void;
  ended: (reason: SessionEndReason) => void;
}

export class MeetingView {
  private readonly tiles = new Map<string, ParticipantTile>();
  private readonly names = new Map<string, string>();
  private readonly hands = new Map<string, boolean>();
  private readonly unsubscribe: (() => void)[] = [];
  private readonly status: ConnectionStatus;
  private readonly grid: HTMLUListElement;
  private readonly stage: ScreenStage;
  private readonly audio = new AudioSinks();
  private readonly nowSpeaking: NowSpeaking;
  private readonly counts: HTMLElement;
  private readonly chat: ChatPanel | undefined;
  private readonly local: LocalControls;
  private readonly moderation: ModeratorPanel | undefined;
  private readonly participantsToggle: ControlButton | undefined;
  private readonly offers: VideoOffers;
  private readonly layers: SimulcastLayers;
  private readonly listener: boolean;
  private speaker: string | null = null;

  constructor(
    private readonly root: HTMLElement,
    private readonly client: ConferenceClient,
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
    this.grid = h('ul', {
      className: this.listener ? 'grid speakers' : 'grid',
      'aria-labelledby': 'participants-title',
    });
    this.stage = new ScreenStage(
      (id) => this.names.get(id) ?? this.client.self?.name ?? '',
      (sharing) => this.root.querySelector('.meeting')?.classList.toggle('sharing', sharing),
    );
    this.nowSpeaking = new NowSpeaking(announcer);
    this.counts = h('p', { className: 'hint' });
    this.local = new LocalControls(client, announcer, this.stage, {
      handRaised: () => {
        const self = this.client.self;
        return self ? (this.hands.get(self.id) ?? self.handRaised) : false;
      },
      handSet: (self, raised) => {
        // Listeners are not sent participant updates: record our own hand here.
        this.hands.set(self.id, raised);
        this.tiles.get(self.id)?.update({ ...self, handRaised: raised });
      },
      changed: () => this.refreshControls(),
    });
    if (joined.permissions.moderate) {
      this.moderation = new ModeratorPanel(client, announcer);
      this.participantsToggle = controlButton('participants', () => this.toggleParticipants());
      this.participantsToggle.element.setAttribute('aria-controls', 'moderation-panel');
    }
    this.offers = new VideoOffers(client, (id) => this.names.get(id) ?? '');
    this.layers = new SimulcastLayers(client);
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
    root.appendChild(
      h(
        'div',
        { className: this.listener ? 'meeting listener' : 'meeting' },
        h('header', { className: 'topbar' }, heading, this.status.element),
        this.local.problem,
        this.local.notice,
        h(
          'div',
          { className: 'meeting-body' },
          h(
            'section',
            // Focusable because it scrolls on its own (keyboard users can scroll it too).
            { className: 'main-area', 'aria-labelledby': 'participants-title', tabindex: '0' },
            this.listener ? this.nowSpeaking.element : null,
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
        ),
        h(
          'nav',
          { className: 'controls', 'aria-label': t('controls') },
          ...this.local.buttons,
          this.participantsToggle?.element,
        ),
        this.audio.element,
      ),
    );
    heading.focus();
    this.setParticipantsOpen(true);

    this.wire();
    this.sync(joined);
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
    this.unsubscribe.forEach((off) => off());
    this.moderation?.dispose();
    this.layers.dispose();
    for (const tile of this.tiles.values()) tile.dispose();
    this.audio.dispose();
    this.local.dispose();
    this.tiles.clear();
  }

  setState(state: ConnectionState): void {
    this.status.set(state);
  }

  private wire(): void {
    const c = this.client;
    const on = this.unsubscribe;
    on.push(c.on('state', (state) => this.status.set(state)));
    on.push(c.on('joined', (result) => this.sync(result)));
    on.push(
      c.on('participantJoined', (p) => {
        this.upsert(p);
        this.announcer.say(t('joinedNow', { name: p.name }));
      }),
    );
    on.push(
      c.on('participantLeft', (id) => {
        const name = this.names.get(id);
        this.remove(id);
        if (name) this.announcer.say(t('leftNow', { name }));
      }),
    );
    on.push(c.on('participantUpdated', (p) => this.upsert(p)));
    on.push(c.on('trackAdded', (track) => this.attach(track)));
    on.push(c.on('trackRemoved', (track) => this.detach(track)));
    on.push(
      c.on('trackPaused', (track) => {
        if (track.source === 'mic') this.tiles.get(track.participantId)?.setMic(track.paused ? 'muted' : 'on');
      }),
    );
    on.push(c.on('activeSpeaker', (id) => this.setSpeaker(id)));
    on.push(c.on('chatMessage', (message: ChatMessage) => this.chat?.add(message)));
    on.push(
      c.on('roomSummary', (summary) => this.summary(summary.speakers, summary.participants, summary.handsRaised)),
    );
    on.push(c.on('mutedByModerator', () => this.local.mutedByModerator()));
    on.push(c.on('permissionsChanged', () => this.local.permissionsChanged()));
    on.push(c.on('sessionEnded', (reason) => this.callbacks.ended(reason)));
    on.push(c.on('videoAvailable', () => this.refreshOffers()));
    on.push(c.on('videoUnavailable', () => this.refreshOffers()));
    on.push(c.on('trackRemoved', () => this.refreshOffers()));
  }

  /** (Re)builds the participant list from a join result: after a reconnect too. */
  private sync(result: JoinResult): void {
    const present = new Set([result.self.id, ...result.participants.map((p) => p.id)]);
    for (const id of [...this.tiles.keys()]) if (!present.has(id)) this.remove(id);
    if (!this.listener) this.upsert(result.self);
    for (const p of result.participants) this.upsert(p);
    this.moderation?.sync(result);
    this.local.joined();
    if (this.listener) this.counts.textContent = '';
    this.refreshSelf();
    // Someone may already be speaking when we arrive (or come back).
    if (result.activeSpeaker) this.setSpeaker(result.activeSpeaker);
  }

  private summary(speakers: ParticipantView[], participants: number, handsRaised: number): void {
    const present = new Set(speakers.map((p) => p.id));
    for (const id of [...this.tiles.keys()]) if (!present.has(id)) this.remove(id);
    for (const p of speakers) this.upsert(p);
    const hands =
      handsRaised === 0 ? t('handsNone') : handsRaised === 1 ? t('handsOne') : t('handsCount', { count: handsRaised });
    this.counts.textContent = `${t('participantsCount', { count: participants })} · ${hands}`;
  }
  private upsert(p: ParticipantView): void {
    const selfId = this.client.self?.id;
    if (this.listener && p.id === selfId) {
      this.hands.set(p.id, p.handRaised);
      this.refreshControls();
      return;
    }
    this.names.set(p.id, p.name);
    // The grid shows who can be heard or seen; the audience of a briefing (hundreds of
    // listeners) lives in the moderator's panel, not in 600 video tiles.
    const onStage = p.role !== 'listener' || p.hasFloor || p.id === selfId;
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
      for (const track of this.client.remoteTracks()) if (track.participantId === p.id) this.attach(track);
    }
    tile?.update(p);
    const known = this.hands.has(p.id);
    const wasRaised = this.hands.get(p.id) ?? false;
    this.hands.set(p.id, p.handRaised);
    // Announced as a change (or a hand already up when someone appears), never our own.
    if (p.id !== selfId && (known ? wasRaised !== p.handRaised : p.handRaised)) {
      this.announcer.say(t(p.handRaised ? 'raisedNow' : 'loweredNow', { name: p.name }));
    }
    if (p.id === selfId) this.refreshControls();
  }

  private remove(id: string): void {
    this.dropTile(id);
    this.hands.delete(id);
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
    // A shared screen goes on the stage, and so does a video a listener asked for.
    if (track.source === 'screen' || this.listener) {
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
    if (track.source === 'screen' || this.listener) {
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
    if (this.listener) this.offers.refresh();
  }

  private setSpeaker(id: string | null): void {
    if (id === this.speaker) return;
    if (this.speaker) this.tiles.get(this.speaker)?.setSpeaking(false);
    this.speaker = id;
    const isSelf = id === this.client.self?.id;
    const name = id ? (this.names.get(id) ?? (isSelf ? this.client.self?.name : undefined)) : undefined;
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
