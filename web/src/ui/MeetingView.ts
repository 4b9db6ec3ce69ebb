/**
 * The meeting: a grid of participants (or, for a listener, an audio-first list of the
 * speakers), a shared screen shown large, chat, hands, and the controls. It renders what
 * the ConferenceClient reports and turns clicks into its calls.
 */
import type { ChatMessage, JoinResult, MediaSource, ParticipantView } from '../../../server/src/signalling/catalog.js';
import { t } from '../i18n/i18n.js';
import { captureCamera, captureMic, captureScreen, errorText } from '../media/localMedia.js';
import type { ConferenceClient, ConnectionState, RemoteTrack } from '../rtc/ConferenceClient.js';
import type { Announcer } from './Announcer.js';
import { ChatPanel } from './ChatPanel.js';
import { ConnectionStatus } from './ConnectionStatus.js';
import { clear, h } from './element.js';
import { icon, type IconName } from './icons.js';
import { ModeratorPanel } from './ModeratorPanel.js';
import { ParticipantTile } from './ParticipantTile.js';

export interface MeetingCallbacks {
  leave: () => void;
  retry: () => void;
  ended: (reason: string) => void;
}

export interface LocalMedia {
  mic: MediaStreamTrack | undefined;
  camera: MediaStreamTrack | undefined;
  micOn: boolean;
}

interface ControlButton {
  element: HTMLButtonElement;
  set(on: boolean, label: string, icon: IconName): void;
}

function controlButton(action: string, onClick: () => void): ControlButton {
  const label = h('span', { className: 'control-label' });
  const element = h('button', { type: 'button', className: 'button control', 'data-action': action, onclick: onClick }, label);
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

/** The simulcast layer that suits a video shown `width` CSS pixels wide. */
function layerForWidth(width: number): number {
  const pixels = width * (window.devicePixelRatio || 1);
  if (pixels <= 360) return 0;
  if (pixels <= 800) return 1;
  return 2;
}

export class MeetingView {
  private readonly tiles = new Map<string, ParticipantTile>();
  private readonly names = new Map<string, string>();
  private readonly hands = new Map<string, boolean>();
  private readonly audioSinks = new Map<string, HTMLAudioElement>();
  private readonly screens = new Map<string, RemoteTrack | { participantId: string; track: MediaStreamTrack }>();
  private readonly layers = new Map<string, number>();
  private readonly unsubscribe: (() => void)[] = [];
  private readonly status: ConnectionStatus;
  private readonly grid: HTMLUListElement;
  private readonly stage: HTMLElement;
  private readonly stageVideo: HTMLVideoElement;
  private readonly stageCaption: HTMLElement;
  private readonly audioBox: HTMLElement;
  private readonly nowSpeaking: HTMLElement;
  private readonly counts: HTMLElement;
  private readonly chat: ChatPanel | undefined;
  private readonly controls: { mic: ControlButton; camera: ControlButton; screen: ControlButton; hand: ControlButton };
  private readonly problem: HTMLElement;
  /** What happened to us, said in words and kept on screen: floor given or taken back, muted by a moderator. */
  private readonly notice: HTMLElement;
  private readonly moderation: ModeratorPanel | undefined;
  private readonly participantsToggle: ControlButton | undefined;
  /** Whether we may send audio: a listener's changes when the floor is given or taken back. */
  private micAllowed: boolean;
  private readonly offers: HTMLElement;
  private readonly resize: ResizeObserver | undefined;
  private readonly listener: boolean;
  private speaker: string | null = null;
  private announcedSpeaker: string | null = null;
  private speakerTimer: number | undefined;
  private micTrack: MediaStreamTrack | undefined;
  private cameraTrack: MediaStreamTrack | undefined;
  private screenTrack: MediaStreamTrack | undefined;

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
    this.grid = h('ul', { className: this.listener ? 'grid speakers' : 'grid', 'aria-labelledby': 'participants-title' });
    this.stageVideo = h('video', { autoplay: true, playsinline: true, 'aria-labelledby': 'stage-caption' });
    this.stageVideo.muted = true;
    this.stageCaption = h('figcaption', { id: 'stage-caption' });
    this.stage = h('figure', { className: 'stage', hidden: true, 'data-testid': 'screen-stage' }, this.stageVideo, this.stageCaption);
    this.audioBox = h('div', { className: 'audio-sinks', hidden: true });
    // Hidden until the server names a speaker: the join result does not say who speaks now.
    this.nowSpeaking = h('p', { className: 'now-speaking', 'data-testid': 'now-speaking', hidden: true });
    this.counts = h('p', { className: 'hint' });
    this.problem = h('p', { className: 'notice', role: 'alert', hidden: true });
    // Not a live region: the Announcer says the same thing once.
    this.notice = h('p', { className: 'notice info', 'data-testid': 'meeting-notice', hidden: true });
    this.micAllowed = client.canPublish('mic');
    if (joined.permissions.moderate) {
      this.moderation = new ModeratorPanel(client, announcer);
      this.participantsToggle = controlButton('participants', () => this.toggleParticipants());
      this.participantsToggle.element.setAttribute('aria-controls', 'moderation-panel');
    }
    this.offers = h('div', { className: 'offers', hidden: true });
    this.resize = typeof ResizeObserver === 'function' ? new ResizeObserver((entries) => this.onResize(entries)) : undefined;

    this.controls = {
      mic: controlButton('mic', () => void this.toggleMic()),
      camera: controlButton('camera', () => void this.toggleCamera()),
      screen: controlButton('screen', () => void this.toggleScreen()),
      hand: controlButton('hand', () => void this.toggleHand()),
    };
    this.chat = joined.permissions.chat ? new ChatPanel((text) => client.request('chat', { text }).then(() => undefined), () => client.self?.id) : undefined;

    const heading = h('h1', { tabindex: '-1' }, this.listener ? t('listenTitle', { room }) : t('meetingTitle', { room }));
    root.appendChild(
      h(
        'div',
        { className: this.listener ? 'meeting listener' : 'meeting' },
        h('header', { className: 'topbar' }, heading, this.status.element),
        this.problem,
        this.notice,
        h(
          'div',
          { className: 'meeting-body' },
          h(
            'section',
            // Focusable because it scrolls on its own (keyboard users can scroll it too).
            { className: 'main-area', 'aria-labelledby': 'participants-title', tabindex: '0' },
            this.listener ? this.nowSpeaking : null,
            this.offers,
            this.stage,
            h('h2', { id: 'participants-title', className: this.listener ? '' : 'visually-hidden' }, this.listener ? t('speakersHeading') : t('participantsHeading')),
            this.listener ? this.counts : null,
            this.grid,
          ),
          this.moderation?.element,
          this.chat?.element,
        ),
        h(
          'nav',
          { className: 'controls', 'aria-label': t('controls') },
          this.controls.mic.element,
          this.controls.camera.element,
          this.controls.screen.element,
          this.controls.hand.element,
          this.participantsToggle?.element,
        ),
        this.audioBox,
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
    if (local.mic && this.client.canPublish('mic')) {
      this.micTrack = local.mic;
      await this.publish('mic', local.mic);
      if (!local.micOn) await this.client.setMuted('mic', true);
    } else local.mic?.stop();
    if (local.camera && this.client.canPublish('camera')) {
      this.cameraTrack = local.camera;
      await this.publish('camera', local.camera);
    } else local.camera?.stop();
    this.refreshControls();
  }

  dispose(): void {
    clearTimeout(this.speakerTimer);
    this.unsubscribe.forEach((off) => off());
    this.moderation?.dispose();
    this.resize?.disconnect();
    for (const tile of this.tiles.values()) tile.dispose();
    for (const sink of this.audioSinks.values()) sink.srcObject = null;
    for (const track of [this.micTrack, this.cameraTrack, this.screenTrack]) track?.stop();
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
    on.push(c.on('roomSummary', (summary) => this.summary(summary.speakers, summary.participants, summary.handsRaised)));
    on.push(
      c.on('mutedByModerator', () => {
        this.announcer.say(t('mutedByModerator'));
        this.showNotice('muted-by-moderator', t('mutedByModeratorHint'));
        this.refreshControls();
      }),
    );
    on.push(
      c.on('permissionsChanged', () => {
        // The client has stopped sending what is no longer allowed: release those devices too.
        if (!c.canPublish('mic')) this.micTrack = this.release(this.micTrack);
        if (!c.canPublish('camera')) this.cameraTrack = this.release(this.cameraTrack);
        if (!c.canPublish('screen') && this.screenTrack) void this.stopScreen();
        const allowed = c.canPublish('mic');
        if (allowed !== this.micAllowed) {
          this.micAllowed = allowed;
          if (allowed) void this.floorGiven();
          else this.floorTaken();
        }
        this.refreshControls();
      }),
    );
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
    // After a reconnect the floor may be gone (a new session starts without it).
    if (this.micAllowed && !this.client.canPublish('mic')) {
      this.micAllowed = false;
      this.floorTaken();
    }
    if (this.listener) this.counts.textContent = '';
    this.refreshSelf();
    // Someone may already be speaking when we arrive (or come back).
    if (result.activeSpeaker) this.setSpeaker(result.activeSpeaker);
  }

  private summary(speakers: ParticipantView[], participants: number, handsRaised: number): void {
    const present = new Set(speakers.map((p) => p.id));
    for (const id of [...this.tiles.keys()]) if (!present.has(id)) this.remove(id);
    for (const p of speakers) this.upsert(p);
    const hands = handsRaised === 0 ? t('handsNone') : handsRaised === 1 ? t('handsOne') : t('handsCount', { count: handsRaised });
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
      this.resize?.unobserve(tile.video);
      tile.dispose();
    }
    this.tiles.delete(id);
  }

  private attach(track: RemoteTrack): void {
    if (track.kind === 'audio') {
      let sink = this.audioSinks.get(track.consumerId);
      if (!sink) {
        sink = h('audio', { autoplay: true, 'data-participant-id': track.participantId, 'data-source': track.source, 'data-consumer-id': track.consumerId });
        sink.srcObject = new MediaStream([track.track]);
        this.audioSinks.set(track.consumerId, sink);
        this.audioBox.appendChild(sink);
        void sink.play().catch(() => undefined);
      }
      const tile = this.tiles.get(track.participantId);
      if (tile && track.source === 'mic') {
        tile.setAudio(track.track);
        tile.setMic(track.paused ? 'muted' : 'on');
      }
      return;
    }
    if (track.source === 'screen') {
      this.screens.set(track.consumerId, track);
      this.showStage();
      return;
    }
    if (this.listener) {
      // A listener asked for this video: it goes on the stage.
      this.screens.set(track.consumerId, track);
      this.showStage();
      return;
    }
    const tile = this.tiles.get(track.participantId);
    if (!tile) return;
    tile.setVideo(track.track);
    tile.video.dataset.consumerId = track.consumerId;
    this.resize?.observe(tile.video);
  }

  private detach(track: RemoteTrack): void {
    if (track.kind === 'audio') {
      const sink = this.audioSinks.get(track.consumerId);
      if (sink) {
        sink.srcObject = null;
        sink.remove();
      }
      this.audioSinks.delete(track.consumerId);
      if (track.source === 'mic') {
        const tile = this.tiles.get(track.participantId);
        tile?.setAudio(undefined);
        tile?.setMic('none');
      }
      return;
    }
    if (track.source === 'screen' || this.listener) {
      this.screens.delete(track.consumerId);
      this.showStage();
      return;
    }
    const tile = this.tiles.get(track.participantId);
    if (tile?.hasVideo(track.track)) {
      this.resize?.unobserve(tile.video);
      delete tile.video.dataset.consumerId;
      delete tile.video.dataset.layer;
      tile.setVideo(undefined);
    }
  }

  /** A listener's buttons to watch the videos on offer (none are received until asked). */
  private refreshOffers(): void {
    if (!this.listener) return;
    const offers = this.client.availableVideo();
    this.offers.replaceChildren(
      ...offers.map((info) => {
        const name = this.names.get(info.participantId) ?? '';
        const button = h(
          'button',
          { type: 'button', className: 'button', 'data-action': 'watch', 'data-producer-id': info.producerId },
          icon(info.source === 'screen' ? 'screen' : 'camera'),
          t(info.source === 'screen' ? 'watchScreen' : 'watchCamera', { name }),
        );
        button.addEventListener('click', () => {
          button.disabled = true;
          void this.client.watchVideo(info.producerId).finally(() => this.refreshOffers());
        });
        return button;
      }),
    );
    this.offers.hidden = offers.length === 0;
  }

  private showStage(): void {
    const latest = [...this.screens.values()].pop();
    this.stage.hidden = !latest;
    this.root.querySelector('.meeting')?.classList.toggle('sharing', Boolean(latest));
    if (!latest) {
      this.stageVideo.srcObject = null;
      return;
    }
    if ((this.stageVideo.srcObject as MediaStream | null)?.getVideoTracks()[0] !== latest.track) this.stageVideo.srcObject = new MediaStream([latest.track]);
    this.stage.dataset.participantId = latest.participantId;
    const name = this.names.get(latest.participantId) ?? this.client.self?.name ?? '';
    const isCamera = 'source' in latest && latest.source === 'camera';
    this.stageCaption.textContent = t(isCamera ? 'videoOf' : 'screenOf', { name });
  }

  private onResize(entries: ResizeObserverEntry[]): void {
    for (const entry of entries) {
      const consumerId = (entry.target as HTMLElement).dataset.consumerId;
      if (!consumerId) continue;
      const layer = layerForWidth(entry.contentRect.width);
      if (this.layers.get(consumerId) === layer) continue;
      this.layers.set(consumerId, layer);
      const video = entry.target as HTMLElement;
      this.client
        .setPreferredLayer(consumerId, layer)
        .then(() => (video.dataset.layer = String(layer)))
        .catch(() => this.layers.delete(consumerId));
    }
  }

  private setSpeaker(id: string | null): void {
    if (id === this.speaker) return;
    if (this.speaker) this.tiles.get(this.speaker)?.setSpeaking(false);
    this.speaker = id;
    const name = id ? this.names.get(id) ?? (id === this.client.self?.id ? this.client.self.name : undefined) : undefined;
    if (id) this.tiles.get(id)?.setSpeaking(true);
    this.nowSpeaking.textContent = name ? t('speakingNow', { name }) : t('nobodySpeaking');
    this.nowSpeaking.hidden = false;
    // Said aloud once the speaker has held the floor a moment: a screen reader is not flooded
    // by quick exchanges, and our own voice is not announced to us.
    clearTimeout(this.speakerTimer);
    if (name && id !== this.client.self?.id && id !== this.announcedSpeaker) {
      this.speakerTimer = window.setTimeout(() => {
        this.announcedSpeaker = id;
        this.announcer.say(t('speakingNow', { name }));
      }, 1500);
    }
  }

  private refreshSelf(): void {
    const self = this.client.self;
    if (!self) return;
    const tile = this.tiles.get(self.id);
    if (!tile) return;
    const { mic, camera } = this.localState();
    tile.setVideo(camera ? this.cameraTrack : undefined);
    tile.setAudio(mic !== 'none' ? this.micTrack : undefined);
    tile.setMic(mic);
  }

  /**
   * What we send, from our own tracks (pausing a producer disables its track): true at once,
   * and through a reconnect while the client publishes them again.
   */
  private localState(): { mic: 'on' | 'muted' | 'none'; camera: boolean } {
    const live = (track: MediaStreamTrack | undefined): track is MediaStreamTrack => track?.readyState === 'live';
    return {
      mic: live(this.micTrack) ? (this.micTrack.enabled ? 'on' : 'muted') : 'none',
      camera: live(this.cameraTrack),
    };
  }

  private refreshControls(): void {
    const c = this.client;
    const { mic, camera, screen, hand } = this.controls;
    mic.element.hidden = !c.canPublish('mic');
    camera.element.hidden = !c.canPublish('camera');
    screen.element.hidden = !c.canPublish('screen') || !navigator.mediaDevices?.getDisplayMedia;
    hand.element.hidden = !c.permissions.raiseHand;
    const local = this.localState();
    const micOn = local.mic === 'on';
    mic.set(micOn, micOn ? t('micOn') : t('micOff'), micOn ? 'mic' : 'micOff');
    const cameraOn = local.camera;
    camera.set(cameraOn, cameraOn ? t('cameraOn') : t('cameraOff'), cameraOn ? 'camera' : 'cameraOff');
    const sharing = Boolean(c.producerId('screen'));
    screen.set(sharing, sharing ? t('stopShare') : t('shareScreen'), 'screen');
    const raised = c.self ? (this.hands.get(c.self.id) ?? c.self.handRaised) : false;
    hand.set(raised, raised ? t('lowerHand') : t('raiseHand'), 'hand');
    this.refreshSelf();
    this.moderation?.refreshSelf();
  }

  private release(track: MediaStreamTrack | undefined): undefined {
    track?.stop();
    return undefined;
  }

  private showProblem(text: string | undefined): void {
    this.problem.hidden = !text;
    this.problem.textContent = text ?? '';
  }

  private async publish(source: MediaSource, track: MediaStreamTrack): Promise<void> {
    try {
      await this.client.publish(source, track);
      this.showProblem(undefined);
    } catch (error) {
      this.showProblem(t('mediaError', { message: errorText(error) }));
    }
  }

  /** The floor was given to us (a listener): say so, ask for the microphone now, and send it. */
  private async floorGiven(): Promise<void> {
    this.showNotice('floor-given', t('youHaveFloor'));
    this.announcer.say(t('youHaveFloor'));
    if (this.localState().mic !== 'none') return;
    try {
      const track = await captureMic();
      // Taken back while the browser was asking for the microphone: nothing to send.
      if (!this.client.canPublish('mic')) {
        track.stop();
        return;
      }
      this.micTrack = track;
      await this.publish('mic', track);
    } catch (error) {
      this.showProblem(t('mediaError', { message: errorText(error) }));
    }
    this.refreshControls();
  }

  /** The floor was taken back: the client has closed our microphone producer, the device is released. */
  private floorTaken(): void {
    this.micTrack = this.release(this.micTrack);
    this.showNotice('floor-taken', t('floorTakenBack'));
    this.announcer.say(t('floorTakenBack'));
  }

  private showNotice(kind: string | undefined, text?: string): void {
    this.notice.hidden = !kind;
    this.notice.textContent = text ?? '';
    if (kind) this.notice.dataset.notice = kind;
    else delete this.notice.dataset.notice;
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

  private async toggleMic(): Promise<void> {
    if (this.notice.dataset.notice === 'muted-by-moderator') this.showNotice(undefined);
    try {
      if (this.localState().mic === 'none') {
        this.micTrack = await captureMic();
        await this.publish('mic', this.micTrack);
      } else {
        await this.client.setMuted('mic', this.localState().mic === 'on');
      }
    } catch (error) {
      this.showProblem(t('mediaError', { message: errorText(error) }));
    }
    this.refreshControls();
  }

  private async toggleCamera(): Promise<void> {
    try {
      if (this.localState().camera) {
        // Off means off: the camera is released, its light goes out.
        await this.client.unpublish('camera');
        this.cameraTrack?.stop();
        this.cameraTrack = undefined;
      } else {
        this.cameraTrack = await captureCamera();
        await this.publish('camera', this.cameraTrack);
      }
    } catch (error) {
      this.showProblem(t('mediaError', { message: errorText(error) }));
    }
    this.refreshControls();
  }

  private async toggleScreen(): Promise<void> {
    const self = this.client.self;
    try {
      if (this.client.producerId('screen')) {
        await this.stopScreen();
      } else {
        const track = await captureScreen();
        this.screenTrack = track;
        // The browser's own "stop sharing" button ends the track.
        track.addEventListener('ended', () => void this.stopScreen());
        await this.publish('screen', track);
        if (self) this.screens.set('self', { participantId: self.id, track });
        this.showStage();
      }
    } catch (error) {
      this.showProblem(t('mediaError', { message: errorText(error) }));
    }
    this.refreshControls();
  }

  private async stopScreen(): Promise<void> {
    await this.client.unpublish('screen');
    this.screenTrack?.stop();
    this.screenTrack = undefined;
    this.screens.delete('self');
    this.showStage();
    this.refreshControls();
  }

  private async toggleHand(): Promise<void> {
    const self = this.client.self;
    if (!self) return;
    const raised = this.hands.get(self.id) ?? self.handRaised;
    try {
      await this.client.request('setHand', { raised: !raised });
      // Listeners are not sent participant updates: record our own hand here.
      this.hands.set(self.id, !raised);
      this.tiles.get(self.id)?.update({ ...self, handRaised: !raised });
      this.refreshControls();
    } catch (error) {
      this.showProblem(errorText(error));
    }
  }
}
