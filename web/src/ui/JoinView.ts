/**
 * Before joining: the camera preview, the microphone level, device pickers and the name the
 * others will see (from the token). Nothing is sent until the person presses "join".
 */
import { lang, setLang, t } from '../i18n/i18n.js';
import { AudioLevel, unlockAudio } from '../media/AudioLevel.js';
import { audioConstraints, errorText, listDevices, preferences, videoConstraints } from '../media/localMedia.js';
import { chooseLowBandwidth, lowBandwidthChosen } from '../media/lowBandwidthPreference.js';
import type { TokenClaims } from '../access/accessToken.js';
import { clear, h } from './element.js';

export interface JoinChoice {
  mic: MediaStreamTrack | undefined;
  camera: MediaStreamTrack | undefined;
  micOn: boolean;
}

export class JoinView {
  private mic: MediaStreamTrack | undefined;
  private camera: MediaStreamTrack | undefined;
  private meter: AudioLevel | undefined;
  private micOn = true;
  private cameraOn = true;
  private problem = '';
  private busy = false;
  /** True once the devices have answered (the preview shows, or the problem is explained). */
  private ready = false;

  constructor(
    private readonly root: HTMLElement,
    private readonly claims: TokenClaims,
    private readonly onJoin: (choice: JoinChoice) => void,
  ) {}

  async start(): Promise<void> {
    this.render();
    await this.capture();
    this.ready = true;
    this.render();
  }

  /** Gives up the preview (the meeting view takes over the tracks it was handed). */
  dispose(): void {
    this.meter?.close();
    this.meter = undefined;
  }

  private async capture(): Promise<void> {
    this.problem = '';
    this.meter?.close();
    this.meter = undefined;
    for (const track of [this.mic, this.camera]) track?.stop();
    this.mic = this.camera = undefined;
    try {
      const stream = await navigator.mediaDevices.getUserMedia({
        audio: audioConstraints(),
        video: videoConstraints(),
      });
      this.mic = stream.getAudioTracks()[0];
      this.camera = stream.getVideoTracks()[0];
    } catch (error) {
      // One device missing or refused must not block the other.
      this.problem = t('mediaDenied', { message: errorText(error) });
      this.mic = await navigator.mediaDevices.getUserMedia({ audio: audioConstraints() }).then(
        (s) => s.getAudioTracks()[0],
        () => undefined,
      );
      this.camera = await navigator.mediaDevices.getUserMedia({ video: videoConstraints() }).then(
        (s) => s.getVideoTracks()[0],
        () => undefined,
      );
    }
    preferences.micId = this.mic?.getSettings().deviceId ?? preferences.micId;
    preferences.cameraId = this.camera?.getSettings().deviceId ?? preferences.cameraId;
  }

  private render(): void {
    const root = this.root;
    const focusedAction = (document.activeElement as HTMLElement | null)?.dataset?.action;
    clear(root);
    root.dataset.view = 'join';

    const preview = h('video', {
      className: 'preview',
      autoplay: true,
      playsinline: true,
      'aria-label': t('cameraPreview'),
    });
    preview.muted = true;
    if (this.camera) preview.srcObject = new MediaStream([this.camera]);
    const level = h('meter', { id: 'mic-level', min: 0, max: 1, low: 0.2, high: 0.9, optimum: 0.5, value: 0 });
    this.meter?.close();
    this.meter = this.mic ? new AudioLevel(this.mic, (value) => (level.value = value)) : undefined;

    const cameraSelect = h('select', {
      id: 'camera-select',
      onchange: (e) => void this.pick('camera', (e.target as HTMLSelectElement).value),
    });
    const micSelect = h('select', {
      id: 'mic-select',
      onchange: (e) => void this.pick('mic', (e.target as HTMLSelectElement).value),
    });
    void this.fillDevices(cameraSelect, 'videoinput', this.camera);
    void this.fillDevices(micSelect, 'audioinput', this.mic);

    const joinButton = h(
      'button',
      { type: 'submit', className: 'button primary large', 'data-action': 'join', disabled: this.busy || !this.ready },
      this.busy ? t('joining') : t('joinButton'),
    );
    const form = h(
      'form',
      {
        className: 'join-form',
        onsubmit: (event) => {
          event.preventDefault();
          this.join();
        },
      },
      h('div', { className: 'field' }, h('label', { for: 'camera-select' }, t('camera')), cameraSelect),
      h('div', { className: 'field' }, h('label', { for: 'mic-select' }, t('microphone')), micSelect),
      h('div', { className: 'field' }, h('label', { for: 'mic-level' }, t('micLevel')), level),
      this.checkbox('low-bandwidth', t('lowBandwidth'), lowBandwidthChosen(), (on) => {
        chooseLowBandwidth(on);
        // The camera is not sent in low bandwidth: its own box says so by being unavailable.
        this.render();
      }),
      this.checkbox(
        'camera-on',
        t('startWithCamera'),
        this.cameraOn && !lowBandwidthChosen(),
        (on) => (this.cameraOn = on),
        lowBandwidthChosen(),
      ),
      this.checkbox('mic-on', t('startWithMic'), this.micOn, (on) => (this.micOn = on)),
      this.checkbox('original-sound', t('originalSound'), preferences.originalSound, (on) => {
        preferences.originalSound = on;
        void this.recapture();
      }),
      joinButton,
    );

    root.appendChild(
      h(
        'section',
        {
          className: 'join-view',
          'aria-labelledby': 'join-title',
          'aria-busy': this.ready ? 'false' : 'true',
          'data-ready': String(this.ready),
        },
        h(
          'header',
          { className: 'topbar' },
          h('h1', { id: 'join-title' }, t('joinTitle', { room: this.claims.room })),
          h(
            'button',
            {
              type: 'button',
              className: 'button',
              lang: lang() === 'fr' ? 'en' : 'fr',
              'aria-label': t('switchLanguageLabel'),
              'data-action': 'lang',
              onclick: () => this.switchLang(),
            },
            t('switchLanguage'),
          ),
        ),
        h('p', { className: 'lead' }, t('joinAs', { name: this.claims.name })),
        this.problem ? h('p', { className: 'notice', role: 'alert' }, this.problem) : null,
        h(
          'div',
          { className: 'join-body' },
          h(
            'figure',
            { className: 'preview-frame' },
            this.camera ? preview : h('p', { className: 'no-preview' }, t('noCameraPreview')),
          ),
          form,
        ),
      ),
    );
    const refocus = focusedAction ? root.querySelector<HTMLElement>(`[data-action="${focusedAction}"]`) : null;
    (refocus ?? root.querySelector<HTMLElement>('h1'))?.focus();
  }

  private checkbox(
    id: string,
    label: string,
    checked: boolean,
    onChange: (on: boolean) => void,
    disabled = false,
  ): HTMLElement {
    return h(
      'div',
      { className: 'field checkbox' },
      h('input', {
        type: 'checkbox',
        id,
        checked,
        disabled,
        'data-action': id,
        onchange: (e) => onChange((e.target as HTMLInputElement).checked),
      }),
      h('label', { for: id }, label),
    );
  }

  private async fillDevices(
    select: HTMLSelectElement,
    kind: 'audioinput' | 'videoinput',
    current: MediaStreamTrack | undefined,
  ): Promise<void> {
    const devices = await listDevices(kind);
    const currentId = current?.getSettings().deviceId;
    if (devices.length === 0) select.appendChild(h('option', { value: '' }, t('none')));
    devices.forEach((device, index) => {
      select.appendChild(
        h(
          'option',
          { value: device.deviceId, selected: device.deviceId === currentId },
          device.label || `${kind === 'videoinput' ? t('camera') : t('microphone')} ${index + 1}`,
        ),
      );
    });
  }

  private async pick(kind: 'camera' | 'mic', deviceId: string): Promise<void> {
    if (kind === 'camera') preferences.cameraId = deviceId || undefined;
    else preferences.micId = deviceId || undefined;
    await this.recapture();
  }

  /**
   * Captures again with new settings. Not ready meanwhile (the old tracks are already
   * stopped); and once the person has joined, this screen is gone: never drawn again over
   * the meeting.
   */
  private async recapture(): Promise<void> {
    this.ready = false;
    this.render();
    await this.capture();
    if (this.busy) return;
    this.ready = true;
    this.render();
  }

  private switchLang(): void {
    setLang(lang() === 'fr' ? 'en' : 'fr');
    this.render();
  }

  private join(): void {
    // Not before the devices answered: joining meanwhile would go in without a microphone.
    if (this.busy || !this.ready) return;
    unlockAudio();
    this.busy = true;
    this.render();
    this.dispose();
    const sendCamera = this.cameraOn && !lowBandwidthChosen();
    const camera = sendCamera ? this.camera : undefined;
    if (!sendCamera) this.camera?.stop();
    this.onJoin({ mic: this.mic, camera, micOn: this.micOn });
  }
}
