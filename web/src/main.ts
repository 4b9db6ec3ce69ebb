/**
 * relais in the browser: checks the browser can do WebRTC, takes the token from the link,
 * shows the join screen (or the listener's one), then the meeting, and the way out.
 */
import './styles.css';
import type { RedirectTarget } from '../../server/src/domain/errors.js';
import { SESSION_END_REASONS, type SessionEndReason } from '../../server/src/domain/sessionEnd.js';
import { RequestFailed } from '../../server/src/signalling/catalogRequest.js';
import type { JoinResult } from '../../server/src/signalling/catalog.js';
import { forgetToken, readClaims, takeToken, type TokenClaims } from './access/accessToken.js';
import { redirectedUrl } from './access/redirect.js';
import { refusalWords } from './access/refusalWords.js';
import { t } from './i18n/i18n.js';
import { unlockAudio } from './media/AudioLevel.js';
import { captureCamera, captureMic } from './media/localMedia.js';
import { lowBandwidthChosen } from './media/lowBandwidthPreference.js';
import { ConferenceClient, ConnectionRefused } from './rtc/ConferenceClient.js';
import { Roster } from './rtc/Roster.js';
import { Announcer } from './ui/Announcer.js';
import { type JoinChoice, JoinView } from './ui/JoinView.js';
import { showLobbyWait } from './ui/LobbyWaitView.js';
import { MeetingView } from './ui/MeetingView.js';
import { type MessageAction, showMessage } from './ui/MessageView.js';
import { h } from './ui/element.js';

function pageElement(id: string): HTMLElement {
  const element = document.getElementById(id);
  if (!element) throw new Error(`index.html has no #${id}`);
  return element;
}

const root = pageElement('main');
const announcer = new Announcer(pageElement('announcer'));
const skipLink = document.querySelector('.skip-link');
if (skipLink) skipLink.textContent = t('skipLink');

function webRtcMissing(): string | undefined {
  if (typeof RTCPeerConnection !== 'function' || typeof MediaStream !== 'function') return t('noWebRtcBody');
  if (!window.isSecureContext || !navigator.mediaDevices) return t('noSecureContext');
  return undefined;
}

/** Session ends after which coming back with the same link makes sense. */
const RETURNABLE: readonly SessionEndReason[] = ['server-shutdown', 'media-lost', 'rate-limited'];

/** One person's time in a room with one link: entering, leaving, coming back. */
class Visit {
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
      // Chosen on the join screen or in the meeting, kept through a retry or a rejoin. A listener
      // is audio first already and has no switch to turn it off.
      lowBandwidth: this.claims.role !== 'listener' && lowBandwidthChosen(),
    });
    this.client = client;
    // Created before connecting: it hears the join result, like everything after it.
    const roster = new Roster(client);
    client.on('waiting', () => {
      if (client === this.client) showLobbyWait(root, this.claims, () => void this.leave());
    });
    client.on('admitted', () => {
      if (client !== this.client) return;
      showMessage(root, 'connecting', t('lobbyAdmittedNow'), []);
      announcer.say(t('lobbyAdmittedNow'));
    });
    // Ended before the meeting showed (refused from the lobby): the meeting view is not there to say it.
    client.on('sessionEnded', (reason) => {
      if (client === this.client && !this.view) this.ended(reason);
    });
    let joined: JoinResult;
    try {
      joined = await client.connect();
    } catch (error) {
      if (client !== this.client) return;
      if (error instanceof ConnectionRefused) this.refused(error);
      else if (error instanceof RequestFailed && error.error.redirect) this.moveTo(error.error.redirect);
      else if (error instanceof RequestFailed && error.error.code === 'ROOM_LOCKED')
        this.kept('lockedTitle', 'ROOM_LOCKED');
      else if (error instanceof RequestFailed && error.error.code === 'BANNED') this.kept('bannedTitle', 'BANNED');
      // Unreachable, or joining failed: said at once, with a retry (not an endless spinner).
      else if (!this.view) this.failedBeforeJoin();
      return;
    }
    if (client !== this.client) return;
    this.view = new MeetingView(root, client, roster, joined, this.claims.room, announcer, {
      leave: () => void this.leave(),
      retry: () => void this.recapture().then((again) => this.enter(again)),
      ended: (reason, redirect) => (redirect ? this.moveTo(redirect, reason) : this.ended(reason)),
    });
    await this.view.publishLocal(local);
  }

  private refused(refusal: ConnectionRefused): void {
    this.client = undefined;
    const expiredByClaims = this.claims.exp !== undefined && this.claims.exp * 1000 < Date.now();
    const words = refusalWords(refusal.reason, expiredByClaims);
    if (words.retry) {
      showMessage(root, 'failed', t(words.title), [t(words.body)], this.retryOrLeave());
      return;
    }
    this.stopLocal();
    forgetToken();
    showMessage(root, 'error', t(words.title), [t(words.body)]);
  }

  /** The room does not take us: locked (trying later may work), or refused until it ends. */
  private kept(title: 'lockedTitle' | 'bannedTitle', code: 'ROOM_LOCKED' | 'BANNED'): void {
    this.client = undefined;
    if (code === 'BANNED') {
      this.stopLocal();
      showMessage(root, 'error', t(title), [t(`requestError_${code}`)]);
      return;
    }
    showMessage(root, 'failed', t(title), [t(`requestError_${code}`)], this.retryOrLeave());
  }

  /** This node is full or draining: the same visit continues on the node it names. */
  private moveTo(target: RedirectTarget, reason?: SessionEndReason): void {
    const next = redirectedUrl(target, this.token);
    if (!next) {
      if (reason) this.ended(reason);
      else this.failedBeforeJoin();
      return;
    }
    this.view?.dispose();
    this.view = undefined;
    this.client = undefined;
    this.stopLocal();
    showMessage(root, 'connecting', t(reason ? `ended_${reason}` : 'requestError_REDIRECT'), []);
    location.assign(next);
  }

  private failedBeforeJoin(): void {
    this.client = undefined;
    showMessage(root, 'failed', t('connectFailed'), [t('connectFailedBody')], this.retryOrLeave());
  }

  private retryOrLeave(): MessageAction[] {
    return [
      { label: t('retry'), action: 'retry', run: () => void this.recapture().then((again) => this.enter(again)) },
      { label: t('leave'), action: 'leave', run: () => void this.leave() },
    ];
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
    this.client = undefined;
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
    this.client = undefined;
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

  private ended(reason: SessionEndReason): void {
    this.view?.dispose();
    this.view = undefined;
    this.client = undefined;
    this.stopLocal();
    showMessage(
      root,
      'ended',
      t('state_ended'),
      // A reason newer than this page still gets words: the meeting ended.
      SESSION_END_REASONS.includes(reason) ? [t(`ended_${reason}`)] : [],
      RETURNABLE.includes(reason) ? [{ label: t('rejoin'), action: 'rejoin', run: () => void this.rejoin() }] : [],
    );
  }

  get role(): TokenClaims['role'] {
    return this.claims.role;
  }

  get tokenClaims(): TokenClaims {
    return this.claims;
  }
}

function startJoin(visit: Visit): void {
  if (visit.role === 'listener') {
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
      void visit.enter({ mic: undefined, camera: undefined, micOn: false });
    });
    root.replaceChildren(
      h(
        'section',
        { className: 'join-view listener-join', 'aria-labelledby': 'join-title', 'data-ready': 'true' },
        h('h1', { id: 'join-title', tabindex: '-1' }, t('listenTitle', { room: visit.tokenClaims.room })),
        h('p', { className: 'lead' }, t('joinAs', { name: visit.tokenClaims.name })),
        h('p', {}, t('listenIntro')),
        button,
      ),
    );
    root.dataset.view = 'join';
    button.focus();
    return;
  }
  const view = new JoinView(root, visit.tokenClaims, (choice) => void visit.enter(choice));
  void view.start();
}

function main(): void {
  const missing = webRtcMissing();
  if (missing) {
    showMessage(root, 'unsupported', t('noWebRtcTitle'), [missing]);
    return;
  }
  const token = takeToken();
  if (!token) {
    showMessage(root, 'error', t('noTokenTitle'), [t('noTokenBody')]);
    return;
  }
  const claims = readClaims(token);
  if (!claims) {
    forgetToken();
    showMessage(root, 'error', t('badTokenTitle'), [t('badTokenBody')]);
    return;
  }
  const visit = new Visit(token, claims);
  // An expired link: let the server confirm (and record the attempt) rather than show a preview.
  if (claims.exp !== undefined && claims.exp * 1000 < Date.now()) {
    void visit.enter({ mic: undefined, camera: undefined, micOn: false });
    return;
  }
  startJoin(visit);
}

main();
