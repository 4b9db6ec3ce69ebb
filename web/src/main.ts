/**
 * relais in the browser: checks the browser can do WebRTC, takes the token from the link,
 * shows the join screen (or the listener's one), then the meeting, and the way out.
 */
import './styles.css';
import { t } from './i18n/i18n.js';
import { unlockAudio } from './media/AudioLevel.js';
import { captureCamera, captureMic } from './media/localMedia.js';
import { ConferenceClient, RequestFailed } from './rtc/ConferenceClient.js';
import { forgetToken, readClaims, takeToken, type TokenClaims } from './session/accessToken.js';
import { Announcer } from './ui/Announcer.js';
import { JoinView, type JoinChoice } from './ui/JoinView.js';
import { MeetingView } from './ui/MeetingView.js';
import { showMessage } from './ui/MessageView.js';
import { h } from './ui/element.js';

declare global {
  interface Window {
    /** The live client, for diagnostics from the developer tools (and the end-to-end tests). */
    relais?: { client: ConferenceClient | undefined };
  }
}

const root = document.getElementById('main')!;
const announcer = new Announcer(document.getElementById('announcer')!);
document.querySelector('.skip-link')!.textContent = t('skipLink');
const debug: { client: ConferenceClient | undefined } = { client: undefined };
window.relais = debug;

function webRtcMissing(): string | undefined {
  if (typeof RTCPeerConnection !== 'function' || typeof MediaStream !== 'function') return t('noWebRtcBody');
  if (!window.isSecureContext || !navigator.mediaDevices) return t('noSecureContext');
  return undefined;
}

function refusal(error: unknown): void {
  const detail =
    error instanceof RequestFailed ? error.message : error instanceof Error ? error.message : String(error);
  const expired = /expired/i.test(detail);
  const revoked = /revoked/i.test(detail);
  showMessage(root, 'error', expired ? t('expiredTokenTitle') : t('badTokenTitle'), [
    expired ? t('expiredTokenBody') : revoked ? t('revokedTokenBody') : t('badTokenBody'),
    t('serverSaid', { message: detail }),
  ]);
}

class Session {
  private client: ConferenceClient | undefined;
  private view: MeetingView | undefined;
  private local: JoinChoice = { mic: undefined, camera: undefined, micOn: true };

  constructor(
    private readonly token: string,
    private readonly claims: TokenClaims,
  ) {}

  async enter(local: JoinChoice): Promise<void> {
    this.local = local;
    this.close();
    // Listeners hear first; a video is received only when they ask for it (light on old laptops).
    const client = new ConferenceClient({
      token: this.token,
      receiveVideo: this.claims.role === 'listener' ? 'on-request' : 'auto',
    });
    this.client = debug.client = client;
    client.on('state', (state, detail) => {
      if (state === 'failed' && !this.view && client === this.client && detail?.code !== 'UNAUTHORIZED')
        this.failedBeforeJoin(detail?.message);
    });
    // Before joining, an unreachable server is said at once, with a retry (not an endless spinner).
    client.socket.on('connect_error', (error: Error & { data?: { code?: string } }) => {
      if (this.view || client !== this.client || error.data?.code === 'UNAUTHORIZED') return;
      client.socket.close();
      this.failedBeforeJoin(error.message);
    });
    let joined;
    try {
      joined = await client.connect();
    } catch (error) {
      if (error instanceof RequestFailed && error.code === 'UNAUTHORIZED') {
        this.stopLocal();
        forgetToken();
        refusal(error);
      } else if (!this.view) this.failedBeforeJoin(error instanceof Error ? error.message : String(error));
      return;
    }
    if (client !== this.client) return;
    this.view = new MeetingView(root, client, joined, this.claims.room, announcer, {
      leave: () => void this.leave(),
      retry: () => void this.recapture().then((again) => this.enter(again)),
      ended: (reason) => this.ended(reason),
    });
    await this.view.publishLocal(local);
  }

  private failedBeforeJoin(message: string | undefined): void {
    this.client = debug.client = undefined;
    showMessage(
      root,
      'failed',
      t('connectFailed'),
      [t('connectFailedBody'), ...(message ? [t('serverSaid', { message })] : [])],
      [
        { label: t('retry'), action: 'retry', run: () => void this.recapture().then((again) => this.enter(again)) },
        { label: t('leave'), action: 'leave', run: () => void this.leave() },
      ],
    );
  }

  /** Local tracks end with a view; a retry captures again the devices that were in use. */
  private async recapture(): Promise<JoinChoice> {
    const again = async (track: MediaStreamTrack | undefined, capture: () => Promise<MediaStreamTrack>) =>
      track?.readyState === 'live' ? track : track ? capture().catch(() => undefined) : undefined;
    return {
      mic: await again(this.local.mic, captureMic),
      camera: await again(this.local.camera, captureCamera),
      micOn: this.local.micOn,
    };
  }

  private close(): void {
    this.view?.dispose();
    this.view = undefined;
    const old = this.client;
    this.client = debug.client = undefined;
    if (old && old.state !== 'ended') void old.leave();
  }

  private stopLocal(): void {
    this.local.mic?.stop();
    this.local.camera?.stop();
  }

  async leave(): Promise<void> {
    this.view?.dispose();
    this.view = undefined;
    const client = this.client;
    this.client = debug.client = undefined;
    await client?.leave();
    this.stopLocal();
    showMessage(
      root,
      'left',
      t('leftTitle'),
      [],
      [{ label: t('rejoin'), action: 'rejoin', run: () => void this.rejoin() }],
    );
  }

  private async rejoin(): Promise<void> {
    unlockAudio();
    if (this.claims.role === 'listener') return this.enter({ mic: undefined, camera: undefined, micOn: false });
    // Back to the join screen: devices are chosen again, the preview shows what others will see.
    startJoin(this);
  }

  private ended(reason: string): void {
    this.view?.dispose();
    this.view = undefined;
    this.client = debug.client = undefined;
    this.stopLocal();
    const key = `ended_${reason}` as Parameters<typeof t>[0];
    const canReturn = reason === 'server-shutdown' || reason === 'media-lost';
    showMessage(
      root,
      'ended',
      t('state_ended'),
      [t(key)],
      canReturn ? [{ label: t('rejoin'), action: 'rejoin', run: () => void this.rejoin() }] : [],
    );
  }

  get role(): TokenClaims['role'] {
    return this.claims.role;
  }

  get tokenClaims(): TokenClaims {
    return this.claims;
  }
}

function startJoin(session: Session): void {
  if (session.role === 'listener') {
    // Audio first: no camera or microphone prompt, one click (which also lets audio play).
    const button = h(
      'button',
      { type: 'button', className: 'button primary large', 'data-action': 'join' },
      t('listenButton'),
    );
    button.addEventListener('click', () => {
      unlockAudio();
      button.disabled = true;
      button.textContent = t('joining');
      void session.enter({ mic: undefined, camera: undefined, micOn: false });
    });
    root.replaceChildren(
      h(
        'section',
        { className: 'join-view listener-join', 'aria-labelledby': 'join-title', 'data-ready': 'true' },
        h('h1', { id: 'join-title', tabindex: '-1' }, t('listenTitle', { room: session.tokenClaims.room })),
        h('p', { className: 'lead' }, t('joinAs', { name: session.tokenClaims.name })),
        h('p', {}, t('listenIntro')),
        button,
      ),
    );
    root.dataset.view = 'join';
    button.focus();
    return;
  }
  const view = new JoinView(root, session.tokenClaims, (choice) => void session.enter(choice));
  void view.start();
}

function main(): void {
  const missing = webRtcMissing();
  if (missing) return showMessage(root, 'unsupported', t('noWebRtcTitle'), [missing]);
  const token = takeToken();
  if (!token) return showMessage(root, 'error', t('noTokenTitle'), [t('noTokenBody')]);
  const claims = readClaims(token);
  if (!claims) {
    forgetToken();
    return showMessage(root, 'error', t('badTokenTitle'), [t('badTokenBody')]);
  }
  const session = new Session(token, claims);
  // An expired link: let the server confirm (and record the attempt) rather than show a preview.
  if (claims.exp !== undefined && claims.exp * 1000 < Date.now()) {
    void session.enter({ mic: undefined, camera: undefined, micOn: false });
    return;
  }
  startJoin(session);
}

main();
