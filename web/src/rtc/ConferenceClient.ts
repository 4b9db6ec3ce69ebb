/**
 * The browser side of the relais protocol, without any UI: one Socket.IO connection, one
 * mediasoup-client Device, a send and a receive transport. It consumes every producer of
 * the room automatically and reports remote tracks; the UI (or a test harness) listens.
 *
 * A cut of the media path alone is mended by ICE restarts (IceRecovery): same session. After a
 * lost socket the server has already freed the old session (no ghosts), so on reconnect this
 * client joins afresh and republishes the tracks it was sending; so too once a restarting
 * server (`server-shutdown`) answers again.
 */
import { Device, type types } from 'mediasoup-client';
import { io, type Socket } from 'socket.io-client';
import { MEDIA_SOURCES, NO_PERMISSIONS, permissionToPublish } from '../../../server/src/domain/roles.js';
import type {
  ClientToServerEvents,
  JoinResult,
  MediaSource,
  Notifications,
  ParticipantView,
  Permissions,
  ProducerInfo,
  RefusalReason,
  RequestName,
  RequestPayload,
  RequestResults,
  ServerToClientEvents,
} from '../../../server/src/signalling/catalog.js';
import { handshakeRefusal, RequestFailed, sendRequest } from '../../../server/src/signalling/catalogRequest.js';
import { IceRecovery } from './IceRecovery.js';
import { type MediaPath, selectedMediaPath } from './mediaPath.js';
import { retryDelay, SERVER_RETRY_BACKOFF } from './reconnectPolicy.js';
import { TypedEmitter } from './TypedEmitter.js';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'failed' | 'ended';

/** Why we are reconnecting: the path was lost ('network'), or the server said it restarts. */
export type Interruption = 'network' | 'restarting';

export type { MediaPath } from './mediaPath.js';

export interface RemoteTrack {
  consumerId: string;
  producerId: string;
  participantId: string;
  kind: 'audio' | 'video';
  source: MediaSource;
  track: MediaStreamTrack;
  paused: boolean;
}

/**
 * The server refused the connection in the handshake. `reason` says why, for the page to say
 * it in its own words; a server that does not say why leaves it undefined.
 */
export class ConnectionRefused extends Error {
  constructor(readonly reason: RefusalReason | undefined) {
    super(reason ? `connection refused: ${reason}` : 'connection refused');
    this.name = 'ConnectionRefused';
  }
}

type Events = {
  state: [state: ConnectionState, interruption: Interruption | undefined];
  joined: [result: JoinResult];
  participantJoined: [participant: Notifications['participantJoined']];
  participantLeft: [participantId: Notifications['participantLeft']['participantId']];
  participantUpdated: [participant: Notifications['participantUpdated']];
  trackAdded: [track: RemoteTrack];
  trackRemoved: [track: RemoteTrack];
  trackPaused: [track: RemoteTrack];
  videoAvailable: [info: ProducerInfo];
  videoUnavailable: [producerId: string];
  producerPaused: [
    info: { producerId: string; participantId: string | undefined; source: MediaSource | undefined; paused: boolean },
  ];
  activeSpeaker: [participantId: Notifications['activeSpeaker']['participantId']];
  chatMessage: [message: Notifications['chatMessage']];
  roomSummary: [summary: Notifications['roomSummary']];
  permissionsChanged: [permissions: Notifications['permissionsChanged']['permissions']];
  mutedByModerator: [source: MediaSource];
  sessionEnded: [reason: Notifications['sessionEnded']['reason'], redirect?: Notifications['sessionEnded']['redirect']];
  /** The room's policy keeps us in the lobby until a moderator decides. */
  waiting: [];
  /** A moderator let us in: joining now. */
  admitted: [];
  lobbyChanged: [waiting: Notifications['lobbyChanged']['waiting']];
  roomPolicy: [policy: Notifications['roomPolicy']['policy']];
  /** A moderator gave us another role (permissions already applied). */
  roleChanged: [change: Notifications['roleChanged']];
  /** Whom a moderator put in front of everyone (null: the active speaker again). */
  spotlight: [participantId: string | null];
  /** The media path of the transport that connected last (undefined: no media connected). */
  mediaPath: [path: MediaPath | undefined];
  lowBandwidth: [on: boolean];
};

/** What the receive transport took in: every byte (RTP, RTCP, DTLS), and the RTP payload per kind. */
export interface ReceivedBytes {
  transport: number;
  audio: number;
  video: number;
}

/** Why a camera is not sent in low-bandwidth mode (the UI hides the button; a caller is told). */
export const CAMERA_OFF_IN_LOW_BANDWIDTH = 'low bandwidth: the camera is not sent';

const REQUEST_TIMEOUT_MS = 15_000;

export interface ConferenceClientOptions {
  /** Server origin; the page's own by default. */
  url?: string;
  token: string;
  /** Socket.IO reconnection (on by default; tests may turn it off). */
  reconnection?: boolean;
  /**
   * 'auto' receives every video as it appears; 'on-request' (listeners of a briefing) only
   * announces it with `videoAvailable` until `watchVideo` is called: audio first, light CPU.
   */
  receiveVideo?: 'auto' | 'on-request';
  /** 'relay' uses TURN only (tests prove the TURN path with it); 'all' (default) tries direct first. */
  iceTransportPolicy?: RTCIceTransportPolicy;
  /**
   * Low bandwidth (a prefecture on a poor link): the camera is not sent, and no video is received
   * until asked for with `watchVideo` (then at the lowest simulcast layer), as for a listener.
   * Audio is unchanged (Opus with in-band FEC and DTX). `setLowBandwidth` changes it in a meeting.
   */
  lowBandwidth?: boolean;
}

/** Tries to read a just-connected transport's selected pair this many times, 300 ms apart. */
const MEDIA_PATH_ATTEMPTS = 10;

export class ConferenceClient extends TypedEmitter<Events> {
  readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  readonly device = new Device();
  state: ConnectionState = 'connecting';
  self: ParticipantView | undefined;
  permissions: Permissions = { ...NO_PERMISSIONS };
  /** The participant a moderator put in front of everyone, if any. */
  spotlight: string | null = null;
  private sendTransport: types.Transport | undefined;
  private recvTransport: types.Transport | undefined;
  private readonly producers = new Map<MediaSource, types.Producer>();
  /** Tracks we publish, kept so a reconnect can publish them again. */
  private readonly published = new Map<MediaSource, MediaStreamTrack>();
  private readonly remote = new Map<string, RemoteTrack>();
  private readonly consumers = new Map<string, types.Consumer>();
  private readonly producerInfo = new Map<string, ProducerInfo>();
  /** Why joining failed, for `connect()` to reject with. */
  private joinError: unknown;
  private ended = false;
  private rejoining = false;
  /** The server said it restarts (`server-shutdown`): we try again until it answers, then rejoin. */
  private restarting = false;
  /** Roster news held while a join is under way (see `rosterNews`). */
  private rosterBacklog: (() => void)[] | undefined;
  private restartAttempts = 0;
  interruption: Interruption | undefined;
  private readonly iceRecovery = new IceRecovery(
    (transport) => this.restartIce(transport),
    () => this.mediaInterruptionChanged(),
  );
  private readonly receiveVideo: 'auto' | 'on-request';
  private lowBandwidthOn: boolean;
  private readonly iceTransportPolicy: RTCIceTransportPolicy;
  /** The TURN servers of the last join result, for both transports (none without TURN). */
  private iceServers: RTCIceServer[] = [];
  mediaPath: MediaPath | undefined;

  constructor(options: ConferenceClientOptions) {
    super();
    this.receiveVideo = options.receiveVideo ?? 'auto';
    this.iceTransportPolicy = options.iceTransportPolicy ?? 'all';
    this.lowBandwidthOn = options.lowBandwidth ?? false;
    this.socket = io(options.url ?? location.origin, {
      auth: { token: options.token },
      transports: ['websocket'],
      autoConnect: false,
      reconnection: options.reconnection ?? true,
      // Socket.IO's own backoff after a lost socket or a failed retry: doubling, ±50 % jitter.
      reconnectionDelay: SERVER_RETRY_BACKOFF.baseMs,
      reconnectionDelayMax: SERVER_RETRY_BACKOFF.maxMs,
      randomizationFactor: 0.5,
    });
    this.wireSocket();
  }

  /**
   * Connects and joins; resolves with what the room looks like. Rejects at the first failure:
   * `ConnectionRefused` when the server refused us, the connection error when it could not be
   * reached (said at once, not after endless retries), a `RequestFailed` when joining failed.
   */
  connect(): Promise<JoinResult> {
    return new Promise((resolve, reject) => {
      const offs: (() => void)[] = [];
      const settle = (): void => {
        for (const off of offs) off();
        this.socket.off('connect_error', onError);
      };
      const onError = (error: Error): void => {
        settle();
        this.socket.close();
        this.setState('failed');
        // Socket.IO sets `data` only on an error the server sent: then it is a refusal.
        const answered = typeof (error as { data?: unknown }).data === 'object';
        reject(answered ? new ConnectionRefused(handshakeRefusal(error)?.reason) : error);
      };
      this.socket.on('connect_error', onError);
      offs.push(
        this.on('joined', (result) => {
          settle();
          resolve(result);
        }),
        this.on('state', (state) => {
          if (state !== 'failed' && state !== 'ended') return;
          settle();
          reject(this.joinError ?? new Error('the session ended before joining'));
        }),
      );
      this.socket.connect();
    });
  }

  request<N extends RequestName>(name: N, payload: RequestPayload<N>): Promise<RequestResults[N]> {
    return sendRequest(this.socket, name, payload, REQUEST_TIMEOUT_MS);
  }

  canPublish(source: MediaSource): boolean {
    return this.permissions[permissionToPublish(source)];
  }

  get lowBandwidth(): boolean {
    return this.lowBandwidthOn;
  }

  /**
   * Turns low bandwidth on or off in a meeting. On: our camera producer is closed (the track
   * stays the caller's) and the videos we receive are closed and offered again with
   * `videoAvailable`. Off: videos are received as the `receiveVideo` option says.
   */
  async setLowBandwidth(on: boolean): Promise<void> {
    if (on === this.lowBandwidthOn) return;
    this.lowBandwidthOn = on;
    this.emit('lowBandwidth', on);
    if (on) {
      await this.unpublish('camera');
      const videos = [...this.remote.values()].filter((t) => t.kind === 'video');
      await Promise.all(videos.map((t) => this.stopVideo(t.producerId)));
    } else if (this.receiveVideo === 'auto') {
      await Promise.all(this.availableVideo().map((info) => this.consume(info.producerId)));
    }
  }

  /** Sends a local track as `source`; camera video goes out as three simulcast layers. */
  async publish(source: MediaSource, track: MediaStreamTrack): Promise<string> {
    if (source === 'camera' && this.lowBandwidthOn) throw new Error(CAMERA_OFF_IN_LOW_BANDWIDTH);
    const transport = await this.ensureSendTransport();
    const existing = this.producers.get(source);
    if (existing) {
      await existing.replaceTrack({ track });
      this.published.set(source, track);
      return existing.id;
    }
    const producer = await transport.produce({
      track,
      // The track belongs to the caller (and survives a reconnect, to be published again).
      stopTracks: false,
      appData: { source },
      ...(source === 'camera'
        ? {
            encodings: [
              { scaleResolutionDownBy: 4, maxBitrate: 150_000 },
              { scaleResolutionDownBy: 2, maxBitrate: 500_000 },
              { scaleResolutionDownBy: 1, maxBitrate: 1_200_000 },
            ],
            codecOptions: { videoGoogleStartBitrate: 600 },
          }
        : {}),
      ...(source === 'mic' ? { codecOptions: { opusDtx: true, opusFec: true } } : {}),
    });
    this.producers.set(source, producer);
    this.published.set(source, track);
    producer.on('trackended', () => void this.unpublish(source));
    return producer.id;
  }

  async unpublish(source: MediaSource): Promise<void> {
    const producer = this.producers.get(source);
    this.published.delete(source);
    if (!producer) return;
    this.producers.delete(source);
    producer.close();
    await this.request('closeProducer', { producerId: producer.id }).catch(() => undefined);
  }

  isMuted(source: MediaSource): boolean {
    return this.producers.get(source)?.paused ?? true;
  }

  producerId(source: MediaSource): string | undefined {
    return this.producers.get(source)?.id;
  }

  async setMuted(source: MediaSource, muted: boolean): Promise<void> {
    const producer = this.producers.get(source);
    if (!producer) return;
    if (muted) producer.pause();
    else producer.resume();
    await this.request(muted ? 'pauseProducer' : 'resumeProducer', { producerId: producer.id });
  }

  /** Asks for a simulcast layer (0 = lowest) that suits the size a video is shown at. */
  async setPreferredLayer(consumerId: string, spatialLayer: number): Promise<void> {
    await this.request('setConsumerLayers', { consumerId, spatialLayer });
  }

  remoteTracks(): RemoteTrack[] {
    return [...this.remote.values()];
  }

  /** Inbound RTP counters of the receive transport (what actually arrived and was decoded). */
  async receiveStats(): Promise<
    { kind: string; packetsReceived: number; packetsLost: number; framesDecoded: number }[]
  > {
    if (!this.recvTransport || this.recvTransport.closed) return [];
    const report = await this.recvTransport.getStats();
    const rows: { kind: string; packetsReceived: number; packetsLost: number; framesDecoded: number }[] = [];
    report.forEach((stat: Record<string, unknown>) => {
      if (stat.type !== 'inbound-rtp') return;
      rows.push({
        kind: String(stat.kind),
        packetsReceived: Number(stat.packetsReceived ?? 0),
        packetsLost: Number(stat.packetsLost ?? 0),
        framesDecoded: Number(stat.framesDecoded ?? 0),
      });
    });
    return rows;
  }

  /**
   * Bytes received so far: the receive transport's total (what the link carried down, RTP and
   * RTCP, SRTP overhead included, IP/UDP headers not) and the inbound RTP bytes per kind.
   */
  async receivedBytes(): Promise<ReceivedBytes> {
    const bytes: ReceivedBytes = { transport: 0, audio: 0, video: 0 };
    if (!this.recvTransport || this.recvTransport.closed) return bytes;
    const report = await this.recvTransport.getStats();
    report.forEach((stat: Record<string, unknown>) => {
      const received = Number(stat.bytesReceived ?? 0);
      if (stat.type === 'transport') bytes.transport += received;
      if (stat.type === 'inbound-rtp' && (stat.kind === 'audio' || stat.kind === 'video')) bytes[stat.kind] += received;
    });
    return bytes;
  }

  hasSendTransport(): boolean {
    return this.sendTransport !== undefined && !this.sendTransport.closed;
  }

  async leave(): Promise<void> {
    this.ended = true;
    await this.request('leave', {}).catch(() => undefined);
    this.teardownMedia();
    this.socket.close();
    this.setState('ended');
  }

  private setState(state: ConnectionState, interruption?: Interruption): void {
    if (this.state === state && this.interruption === interruption) return;
    this.state = state;
    this.interruption = interruption;
    this.emit('state', state, interruption);
  }

  /** Media lost or back while the signalling is up: the page says so, in words. */
  private mediaInterruptionChanged(): void {
    // A restarting server or a lost socket is the bigger news: it keeps its own words.
    if (this.ended || this.restarting || !this.socket.connected) return;
    if (this.state !== 'connected' && this.state !== 'reconnecting') return;
    if (this.iceRecovery.active) this.setState('reconnecting', 'network');
    else this.setState('connected');
  }

  /** Tries again (once; Socket.IO's own backoff follows if that fails) after a jittered delay. */
  private reconnectLater(): void {
    setTimeout(
      () => !this.ended && !this.socket.connected && this.socket.connect(),
      retryDelay(this.restartAttempts++, SERVER_RETRY_BACKOFF),
    );
  }

  private wireSocket(): void {
    const s = this.socket;
    s.on('connect', () => {
      this.join().catch((error: unknown) => {
        this.joinError = error;
        this.setState('failed');
      });
    });
    s.on('disconnect', (reason) => {
      this.teardownMedia();
      if (this.ended) return;
      if (this.rejoining) {
        this.rejoining = false;
        setTimeout(() => !this.ended && s.connect(), 500);
        return;
      }
      if (this.restarting) {
        this.reconnectLater();
        return;
      }
      // 'io server disconnect' means the server ended us; sessionEnded says why.
      if (reason === 'io server disconnect') this.setState('ended');
      else this.setState('reconnecting', 'network');
    });
    s.on('connect_error', (error) => {
      if (!this.restarting) return;
      // A server still shutting down may refuse us for that reason: it is not back yet.
      const refusal = handshakeRefusal(error);
      if (refusal === undefined) return;
      if (refusal.reason === 'server-shutdown') this.reconnectLater();
      else this.setState('failed');
    });
    s.io.on('reconnect_failed', () => this.setState('failed'));
    s.on('participantJoined', (p) => this.rosterNews(() => this.emit('participantJoined', p)));
    s.on('participantLeft', ({ participantId }) => this.rosterNews(() => this.emit('participantLeft', participantId)));
    s.on('participantUpdated', (p) =>
      this.rosterNews(() => {
        if (p.id === this.self?.id) this.self = p;
        this.emit('participantUpdated', p);
      }),
    );
    s.on('producerAdded', (info) => this.offer(info));
    s.on('producerClosed', ({ producerId }) => {
      const info = this.producerInfo.get(producerId);
      this.producerInfo.delete(producerId);
      if (info?.kind === 'video' && this.videoOnRequest()) this.emit('videoUnavailable', producerId);
      for (const track of this.remote.values()) if (track.producerId === producerId) this.dropRemote(track.consumerId);
    });
    s.on('consumerClosed', ({ consumerId }) => this.dropRemote(consumerId));
    s.on('producerPaused', ({ producerId, paused }) => {
      const info = this.producerInfo.get(producerId);
      if (info) info.paused = paused;
      for (const track of this.remote.values()) {
        if (track.producerId === producerId) {
          track.paused = paused;
          this.emit('trackPaused', track);
        }
      }
      const own = [...this.producers.entries()].find(([, p]) => p.id === producerId);
      if (own && paused && !own[1].paused) own[1].pause();
      this.emit('producerPaused', {
        producerId,
        participantId: info?.participantId ?? (own ? this.self?.id : undefined),
        source: info?.source ?? own?.[0],
        paused,
      });
    });
    s.on('activeSpeaker', ({ participantId }) => this.emit('activeSpeaker', participantId));
    s.on('chatMessage', (message) => this.emit('chatMessage', message));
    s.on('roomSummary', (summary) => this.emit('roomSummary', summary));
    s.on('lobbyChanged', ({ waiting }) => this.emit('lobbyChanged', waiting));
    s.on('roomPolicy', ({ policy }) => this.emit('roomPolicy', policy));
    s.on('spotlight', ({ participantId }) => {
      this.spotlight = participantId;
      this.emit('spotlight', participantId);
    });
    s.on('roleChanged', (change) => {
      this.self = change.self;
      this.permissions = change.permissions;
      for (const source of [...this.producers.keys()]) if (!this.canPublish(source)) void this.unpublish(source);
      this.emit('roleChanged', change);
      this.emit('permissionsChanged', change.permissions);
    });
    s.on('lobbyAdmitted', () => {
      this.emit('admitted');
      this.join().catch((error: unknown) => {
        this.joinError = error;
        this.setState('failed');
      });
    });
    s.on('mutedByModerator', ({ producerId }) => {
      const own = [...this.producers.entries()].find(([, p]) => p.id === producerId);
      if (own) {
        own[1].pause();
        this.emit('mutedByModerator', own[0]);
      }
    });
    s.on('permissionsChanged', ({ permissions }) => {
      this.permissions = permissions;
      for (const source of [...this.producers.keys()]) if (!this.canPublish(source)) void this.unpublish(source);
      this.emit('permissionsChanged', permissions);
    });
    s.on('sessionEnded', ({ reason, redirect }) => {
      if (reason === 'server-shutdown') {
        // The service restarts: say so, and come back by ourselves once it answers.
        this.restarting = true;
        this.restartAttempts = 0;
        this.setState('reconnecting', 'restarting');
        return;
      }
      if (reason === 'media-lost') {
        // The server lost the media worker of this room and replaces it: join again.
        this.rejoining = true;
        this.setState('reconnecting');
        return;
      }
      this.ended = true;
      this.emit('sessionEnded', reason, redirect);
      this.setState('ended');
    });
  }

  /**
   * Roster news that arrives while a join is under way is newer than the join result's list
   * (someone joining at the same moment): held, and applied once that list is.
   */
  private rosterNews(apply: () => void): void {
    if (this.rosterBacklog) this.rosterBacklog.push(apply);
    else apply();
  }

  /** Undefined while waiting in the lobby (`joined` follows an admission). */
  private async join(): Promise<JoinResult | undefined> {
    this.rosterBacklog = [];
    try {
      return await this.joinNow();
    } finally {
      this.flushRosterNews();
    }
  }

  private flushRosterNews(): void {
    const backlog = this.rosterBacklog ?? [];
    this.rosterBacklog = undefined;
    for (const apply of backlog) apply();
  }

  private async joinNow(): Promise<JoinResult | undefined> {
    const { rtpCapabilities } = await this.request('getRouterRtpCapabilities', {});
    if (!this.device.loaded)
      await this.device.load({ routerRtpCapabilities: rtpCapabilities as unknown as types.RtpCapabilities });
    const capabilities = this.device.rtpCapabilities;
    let result: JoinResult;
    try {
      result = await this.request('join', {
        rtpCapabilities: { ...capabilities, codecs: capabilities.codecs ?? [] },
      });
    } catch (error) {
      // Not an error: we wait until a moderator lets us in (`lobbyAdmitted`) or refuses us.
      if (error instanceof RequestFailed && error.error.code === 'IN_LOBBY') {
        this.emit('waiting');
        return undefined;
      }
      throw error;
    }
    this.self = result.self;
    this.permissions = result.permissions;
    this.spotlight = result.spotlight;
    // Fresh credentials at each join: a rejoin after a cut never reuses expired ones.
    this.iceServers = result.iceServers.map(({ urls, username, credential }) => ({ urls, username, credential }));
    const data = await this.request('createTransport', { direction: 'recv' });
    this.recvTransport = this.device.createRecvTransport({
      ...(data as unknown as types.TransportOptions),
      iceServers: this.iceServers,
      iceTransportPolicy: this.iceTransportPolicy,
    });
    this.wireTransport(this.recvTransport);
    this.restarting = false;
    this.setState('connected');
    this.emit('joined', result);
    this.flushRosterNews();
    for (const info of result.producers) this.offer(info);
    // After a reconnect, send again what we were sending (if still allowed).
    for (const [source, track] of [...this.published]) {
      if (track.readyState !== 'live' || !this.canPublish(source)) continue;
      await this.publish(source, track).catch(() => undefined);
      // A muted microphone stays muted for the others too (pause() disabled the track).
      if (!track.enabled) await this.setMuted(source, true).catch(() => undefined);
    }
    return result;
  }

  private async ensureSendTransport(): Promise<types.Transport> {
    if (this.sendTransport && !this.sendTransport.closed) return this.sendTransport;
    const data = await this.request('createTransport', { direction: 'send' });
    const transport = this.device.createSendTransport({
      ...(data as unknown as types.TransportOptions),
      iceServers: this.iceServers,
      iceTransportPolicy: this.iceTransportPolicy,
    });
    this.wireTransport(transport);
    transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
      // `publish` put the source in appData; mediasoup-client hands it back untyped.
      const source = MEDIA_SOURCES.find((s) => s === appData.source);
      if (!source) return errback(new Error(`unknown media source ${String(appData.source)}`));
      this.request('produce', { transportId: transport.id, kind, rtpParameters, source })
        .then(({ producerId }) => callback({ id: producerId }))
        .catch(errback);
    });
    this.sendTransport = transport;
    return transport;
  }

  private wireTransport(transport: types.Transport): void {
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      this.request('connectTransport', { transportId: transport.id, dtlsParameters })
        .then(() => callback())
        .catch(errback);
    });
    transport.on('connectionstatechange', (state) => {
      if (state === 'connected') void this.readMediaPath(transport);
    });
    this.iceRecovery.watch(transport);
  }

  /** A network change or cut: fresh ICE credentials from the server, and ICE restarted. */
  private async restartIce(transport: types.Transport): Promise<void> {
    const { iceParameters, iceServers } = await this.request('restartIce', { transportId: transport.id });
    if (transport.closed) return;
    if (iceServers.length > 0) await transport.updateIceServers({ iceServers });
    await transport.restartIce({ iceParameters: iceParameters as unknown as types.IceParameters });
  }

  /**
   * Reads which path ICE chose for a transport that just connected: the selected candidate
   * pair's local candidate is `relay` through TURN, otherwise its protocol says UDP or TCP.
   * The pair shows up in the stats shortly after the connection, hence a few bounded tries.
   */
  private async readMediaPath(transport: types.Transport): Promise<void> {
    for (let attempt = 0; attempt < MEDIA_PATH_ATTEMPTS && !transport.closed; attempt++) {
      const path = selectedMediaPath(await transport.getStats().catch(() => undefined));
      if (path) {
        if (path !== this.mediaPath) {
          this.mediaPath = path;
          this.emit('mediaPath', path);
        }
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  }

  /** Video announced with `videoAvailable` that is not being received. */
  availableVideo(): ProducerInfo[] {
    const watched = new Set([...this.remote.values()].map((t) => t.producerId));
    return [...this.producerInfo.values()].filter((info) => info.kind === 'video' && !watched.has(info.producerId));
  }

  /** Starts receiving a video offered with `videoAvailable` (at the lowest simulcast layer). */
  async watchVideo(producerId: string): Promise<void> {
    await this.consume(producerId);
  }

  async stopVideo(producerId: string): Promise<void> {
    const track = [...this.remote.values()].find((t) => t.producerId === producerId);
    if (!track) return;
    this.dropRemote(track.consumerId);
    await this.request('closeConsumer', { consumerId: track.consumerId }).catch(() => undefined);
    const info = this.producerInfo.get(producerId);
    if (info) this.emit('videoAvailable', info);
  }

  private offer(info: ProducerInfo): void {
    this.producerInfo.set(info.producerId, info);
    if (info.kind === 'video' && this.videoOnRequest()) this.emit('videoAvailable', info);
    else void this.consume(info.producerId);
  }

  private videoOnRequest(): boolean {
    return this.receiveVideo === 'on-request' || this.lowBandwidthOn;
  }

  private async consume(producerId: string): Promise<void> {
    if (!this.recvTransport || this.recvTransport.closed) return;
    if ([...this.remote.values()].some((t) => t.producerId === producerId)) return;
    try {
      const data = await this.request('consume', { producerId });
      const consumer = await this.recvTransport.consume({
        id: data.consumerId,
        producerId: data.producerId,
        kind: data.kind,
        rtpParameters: data.rtpParameters as unknown as types.RtpParameters,
      });
      const remote: RemoteTrack = {
        consumerId: data.consumerId,
        producerId,
        participantId: data.participantId,
        kind: data.kind,
        source: data.source,
        track: consumer.track,
        // A producerPaused that arrived while the consumer was being set up is newer than the answer.
        paused: this.producerInfo.get(producerId)?.paused ?? data.producerPaused,
      };
      this.remote.set(consumer.id, remote);
      this.consumers.set(consumer.id, consumer);
      consumer.observer.on('close', () => {
        this.remote.delete(consumer.id);
        this.consumers.delete(consumer.id);
      });
      this.emit('trackAdded', remote);
      await this.request('resumeConsumer', { consumerId: consumer.id });
    } catch (error) {
      console.warn(`could not receive ${producerId}`, error);
    }
  }

  private dropRemote(consumerId: string): void {
    const track = this.remote.get(consumerId);
    if (!track) return;
    this.remote.delete(consumerId);
    this.consumers.get(consumerId)?.close();
    this.consumers.delete(consumerId);
    track.track.stop();
    this.emit('trackRemoved', track);
  }

  private teardownMedia(): void {
    for (const consumerId of [...this.remote.keys()]) this.dropRemote(consumerId);
    for (const producer of this.producers.values()) producer.close();
    this.producers.clear();
    this.sendTransport?.close();
    this.recvTransport?.close();
    this.sendTransport = undefined;
    this.recvTransport = undefined;
    if (this.mediaPath !== undefined) {
      this.mediaPath = undefined;
      this.emit('mediaPath', undefined);
    }
  }
}
