/**
 * What we send and the buttons that control it: microphone, camera, screen, hand and low
 * bandwidth, the
 * local tracks behind them, the floor given to or taken from a listener, and the lines that
 * tell us what happened to our media (a device error, muted by a moderator, the floor).
 */
import type { MediaSource } from '../../../server/src/signalling/catalog.js';
import { RequestFailed } from '../../../server/src/signalling/catalogRequest.js';
import { t } from '../i18n/i18n.js';
import { captureCamera, captureMic, captureScreen, errorText } from '../media/localMedia.js';
import { chooseLowBandwidth } from '../media/lowBandwidthPreference.js';
import type { ConferenceClient } from '../rtc/ConferenceClient.js';
import type { Announcer } from './Announcer.js';
import { controlButton, type ControlButton } from './ControlButton.js';
import { h } from './element.js';
import type { ParticipantTile } from './ParticipantTile.js';
import type { ScreenStage } from './ScreenStage.js';
import { requestErrorText } from './requestErrorText.js';

/** A device the browser refused, or a request the server refused, in words. */
function problemText(error: unknown): string {
  return error instanceof RequestFailed ? requestErrorText(error) : t('mediaError', { message: errorText(error) });
}

export interface LocalMedia {
  mic: MediaStreamTrack | undefined;
  camera: MediaStreamTrack | undefined;
  micOn: boolean;
}

export interface LocalControlsHooks {
  /** Whether our hand is up, as the meeting last heard it. */
  handRaised(): boolean;
  /** The server took our hand up or down. */
  handSet(raised: boolean): void;
  /** What we send changed: the buttons, our tile and the moderator's view of us follow. */
  changed(): void;
}

export class LocalControls {
  readonly buttons: HTMLButtonElement[];
  readonly problem: HTMLElement;
  /** What happened to us, said in words and kept on screen: floor given or taken back, muted by a moderator. */
  readonly notice: HTMLElement;
  private readonly mic: ControlButton;
  private readonly camera: ControlButton;
  private readonly screen: ControlButton;
  private readonly hand: ControlButton;
  private readonly lowBandwidth: ControlButton;
  /** Whether we may send audio: a listener's changes when the floor is given or taken back. */
  private micAllowed: boolean;
  private micTrack: MediaStreamTrack | undefined;
  private cameraTrack: MediaStreamTrack | undefined;
  private screenTrack: MediaStreamTrack | undefined;

  constructor(
    private readonly client: ConferenceClient,
    private readonly announcer: Announcer,
    private readonly stage: ScreenStage,
    private readonly hooks: LocalControlsHooks,
    /** A listener already hears first and sees video only on request: no switch for them. */
    private readonly lowBandwidthSwitch = true,
  ) {
    this.problem = h('p', { className: 'notice', role: 'alert', hidden: true });
    // Not a live region: the Announcer says the same thing once.
    this.notice = h('p', { className: 'notice info', 'data-testid': 'meeting-notice', hidden: true });
    this.micAllowed = client.canPublish('mic');
    this.mic = controlButton('mic', () => void this.toggleMic());
    this.camera = controlButton('camera', () => void this.toggleCamera());
    this.screen = controlButton('screen', () => void this.toggleScreen());
    this.hand = controlButton('hand', () => void this.toggleHand());
    this.lowBandwidth = controlButton('low-bandwidth', () => void this.toggleLowBandwidth());
    this.buttons = [
      this.mic.element,
      this.camera.element,
      this.screen.element,
      this.hand.element,
      this.lowBandwidth.element,
    ];
  }

  /** Publishes what the person chose on the join screen. */
  async publishLocal(local: LocalMedia): Promise<void> {
    if (local.mic && this.client.canPublish('mic')) {
      this.micTrack = local.mic;
      await this.publish('mic', local.mic);
      if (!local.micOn) await this.client.setMuted('mic', true);
    } else local.mic?.stop();
    if (local.camera && this.client.canPublish('camera') && !this.client.lowBandwidth) {
      this.cameraTrack = local.camera;
      await this.publish('camera', local.camera);
    } else local.camera?.stop();
  }

  dispose(): void {
    for (const track of [this.micTrack, this.cameraTrack, this.screenTrack]) track?.stop();
  }

  /** Shows the buttons we may use, each in its current state. */
  refresh(): void {
    const c = this.client;
    this.mic.element.hidden = !c.canPublish('mic');
    // Low bandwidth sends no camera: no button to turn it on.
    this.camera.element.hidden = !c.canPublish('camera') || c.lowBandwidth;
    this.screen.element.hidden = !c.canPublish('screen') || !navigator.mediaDevices?.getDisplayMedia;
    this.hand.element.hidden = !c.permissions.raiseHand;
    const local = this.state();
    const micOn = local.mic === 'on';
    this.mic.set(micOn, micOn ? t('micOn') : t('micOff'), micOn ? 'mic' : 'micOff');
    const cameraOn = local.camera;
    this.camera.set(cameraOn, cameraOn ? t('cameraOn') : t('cameraOff'), cameraOn ? 'camera' : 'cameraOff');
    const sharing = Boolean(c.producerId('screen'));
    this.screen.set(sharing, sharing ? t('stopShare') : t('shareScreen'), 'screen');
    const raised = this.hooks.handRaised();
    this.hand.set(raised, raised ? t('lowerHand') : t('raiseHand'), 'hand');
    const low = c.lowBandwidth;
    this.lowBandwidth.element.hidden = !this.lowBandwidthSwitch;
    this.lowBandwidth.set(low, low ? t('lowBandwidthOn') : t('lowBandwidthOff'), 'lowBandwidth');
    this.lowBandwidth.element.setAttribute('aria-pressed', String(low));
  }

  /** Shows what we send on our own tile. */
  showOn(tile: ParticipantTile): void {
    const { mic, camera } = this.state();
    tile.setVideo(camera ? this.cameraTrack : undefined);
    tile.setAudio(mic !== 'none' ? this.micTrack : undefined);
    tile.setMic(mic);
  }

  /** After a (re)join: the floor may be gone (a new session starts without it). */
  joined(): void {
    if (this.micAllowed && !this.client.canPublish('mic')) {
      this.micAllowed = false;
      this.floorTaken();
    }
  }

  mutedByModerator(): void {
    this.announcer.say(t('mutedByModerator'));
    this.showNotice('muted-by-moderator', t('mutedByModeratorHint'));
    this.hooks.changed();
  }

  permissionsChanged(): void {
    const c = this.client;
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
    this.hooks.changed();
  }

  /**
   * What we send, from our own tracks (pausing a producer disables its track): true at once,
   * and through a reconnect while the client publishes them again.
   */
  private state(): { mic: 'on' | 'muted' | 'none'; camera: boolean } {
    const live = (track: MediaStreamTrack | undefined): track is MediaStreamTrack => track?.readyState === 'live';
    return {
      mic: live(this.micTrack) ? (this.micTrack.enabled ? 'on' : 'muted') : 'none',
      camera: live(this.cameraTrack),
    };
  }

  private release(track: MediaStreamTrack | undefined): undefined {
    track?.stop();
    return undefined;
  }

  private showProblem(text: string | undefined): void {
    this.problem.hidden = !text;
    this.problem.textContent = text ?? '';
  }

  private showNotice(kind: string | undefined, text?: string): void {
    this.notice.hidden = !kind;
    this.notice.textContent = text ?? '';
    if (kind) this.notice.dataset.notice = kind;
    else delete this.notice.dataset.notice;
  }

  private async publish(source: MediaSource, track: MediaStreamTrack): Promise<void> {
    try {
      await this.client.publish(source, track);
      this.showProblem(undefined);
    } catch (error) {
      this.showProblem(problemText(error));
    }
  }

  /** The floor was given to us (a listener): say so, ask for the microphone now, and send it. */
  private async floorGiven(): Promise<void> {
    this.showNotice('floor-given', t('youHaveFloor'));
    this.announcer.say(t('youHaveFloor'));
    if (this.state().mic !== 'none') return;
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
      this.showProblem(problemText(error));
    }
    this.hooks.changed();
  }

  /** The floor was taken back: the client has closed our microphone producer, the device is released. */
  private floorTaken(): void {
    this.micTrack = this.release(this.micTrack);
    this.showNotice('floor-taken', t('floorTakenBack'));
    this.announcer.say(t('floorTakenBack'));
  }

  private async toggleMic(): Promise<void> {
    if (this.notice.dataset.notice === 'muted-by-moderator') this.showNotice(undefined);
    try {
      if (this.state().mic === 'none') {
        this.micTrack = await captureMic();
        await this.publish('mic', this.micTrack);
      } else {
        await this.client.setMuted('mic', this.state().mic === 'on');
      }
    } catch (error) {
      this.showProblem(problemText(error));
    }
    this.hooks.changed();
  }

  private async toggleCamera(): Promise<void> {
    try {
      if (this.state().camera) {
        // Off means off: the camera is released, its light goes out.
        await this.client.unpublish('camera');
        this.cameraTrack?.stop();
        this.cameraTrack = undefined;
      } else {
        this.cameraTrack = await captureCamera();
        await this.publish('camera', this.cameraTrack);
      }
    } catch (error) {
      this.showProblem(problemText(error));
    }
    this.hooks.changed();
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
        // Our own screen is shown to us from the local track.
        if (self) this.stage.add('self', { participantId: self.id, track });
      }
    } catch (error) {
      this.showProblem(problemText(error));
    }
    this.hooks.changed();
  }

  private async stopScreen(): Promise<void> {
    await this.client.unpublish('screen');
    this.screenTrack?.stop();
    this.screenTrack = undefined;
    this.stage.remove('self');
    this.hooks.changed();
  }

  /**
   * Low bandwidth on: the client stops sending our camera (released here, its light goes out)
   * and receiving videos, which are offered instead. Off: videos come again; the camera stays
   * off until the person turns it on. The choice is kept for the rest of the visit.
   */
  private async toggleLowBandwidth(): Promise<void> {
    const on = !this.client.lowBandwidth;
    chooseLowBandwidth(on);
    try {
      await this.client.setLowBandwidth(on);
    } catch (error) {
      this.showProblem(problemText(error));
    }
    if (on) this.cameraTrack = this.release(this.cameraTrack);
    this.announcer.say(on ? t('lowBandwidthNotice') : t('lowBandwidthOffNow'));
    this.hooks.changed();
  }

  private async toggleHand(): Promise<void> {
    const self = this.client.self;
    if (!self) return;
    const raised = this.hooks.handRaised();
    try {
      await this.client.request('setHand', { raised: !raised });
      this.hooks.handSet(!raised);
      this.hooks.changed();
    } catch (error) {
      this.showProblem(requestErrorText(error));
    }
  }
}
