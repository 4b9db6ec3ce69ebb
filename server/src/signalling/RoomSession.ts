import type { Server } from 'socket.io';
import type { types } from 'mediasoup';
import { conflict, forbidden, invalid } from '../domain/errors.js';
import type { Participant } from '../domain/Participant.js';
import type { Room } from '../domain/Room.js';
import { permissionToPublish } from '../domain/roles.js';
import type { RoomMedia } from '../media/RoomMedia.js';
import { audit, type Logger } from '../observability/logger.js';
import type {
  IncomingEvents,
  JoinResult,
  NotificationName,
  Notifications,
  ProducerInfo,
  ValidPayload,
  RequestResults,
  ServerToClientEvents,
  TransportOptions,
} from './catalog.js';
import type { ClientSession } from './ClientSession.js';

type Io = Server<IncomingEvents, ServerToClientEvents>;

/** Listeners get this, throttled, instead of every join and leave (see summaryChanged). */
export interface RoomSummary {
  participants: number;
  /** Moderators, speakers and anyone holding the floor: the people a listener hears. */
  speakers: Notifications['participantJoined'][];
  handsRaised: number;
}

/** Who speaks and raised hands reach listeners within a second. */
const SUMMARY_PROMPT_MS = 1000;
/** A head count alone waits 50 ms per participant (1–30 s): a 600-person ramp costs each listener a few summaries. */
const SUMMARY_COUNT_MS_PER_PARTICIPANT = 50;
const SUMMARY_COUNT_MAX_MS = 30_000;

/**
 * One live room on this server: the domain room, its media plane, and the sessions in it.
 * Every request a participant makes passes here after validation; the domain decides,
 * the media adapter acts, and the result is told to the right audience.
 */
export class RoomSession {
  private readonly sessions = new Map<string, ClientSession>();
  private summaryTimer: NodeJS.Timeout | undefined;
  private summaryDueAt = 0;
  private summaryDirty = false;

  constructor(
    private readonly io: Io,
    readonly room: Room,
    readonly media: RoomMedia,
    private readonly logger: Logger,
    private readonly onEmpty: () => void,
  ) {
    media.on('consumerClosed', (peerId, consumerId) =>
      this.sessions.get(peerId)?.notify('consumerClosed', { consumerId }),
    );
    media.on('activeSpeaker', (peerId) => this.toAll('activeSpeaker', { participantId: peerId }));
    media.on('mediaLost', () => {
      for (const session of [...this.sessions.values()]) this.end(session, 'media-lost');
    });
  }

  get id(): string {
    return this.room.id;
  }

  private get allChannel(): string {
    return `room:${this.room.id}`;
  }

  private get fullChannel(): string {
    return `room:${this.room.id}:full`;
  }

  private get summaryChannel(): string {
    return `room:${this.room.id}:summary`;
  }

  sessionOf(participantId: string): ClientSession | undefined {
    return this.sessions.get(participantId);
  }

  async join(session: ClientSession, rtpCapabilities: types.RtpCapabilities): Promise<JoinResult> {
    if (session.joined) throw conflict('You have already joined.');
    const previous = this.sessions.get(session.participantId);
    if (previous && previous !== session) {
      // Same user from a new tab or after a network change: the newest connection wins, and
      // the old one is fully cleaned up first so no ghost remains.
      audit(this.logger, 'participant.replaced', { participant: session.participantId });
      this.end(previous, 'replaced');
    }
    const participant = this.room.join({
      id: session.participantId,
      name: session.claims.name,
      role: session.claims.role,
      ...(session.claims.grants ? { grants: session.claims.grants } : {}),
    });
    try {
      this.media.addPeer(participant.id, rtpCapabilities);
    } catch (error) {
      this.room.leave(participant.id);
      throw error;
    }
    session.joined = true;
    this.sessions.set(participant.id, session);
    await session.socket.join(this.channelsFor(participant));
    session.socket.to(this.fullChannel).emit('participantJoined', participant.view());
    this.summaryChanged(this.isOnStage(participant));
    audit(session.logger, 'participant.joined', { room: this.id, participant: participant.id, role: participant.role });
    return {
      self: participant.view(),
      participants: participant.can('seeParticipantList')
        ? this.room
            .all()
            .filter((p) => p.id !== participant.id)
            .map((p) => p.view())
        : this.summary().speakers.filter((p) => p.id !== participant.id),
      producers: this.media.producerList().map((record) => this.producerInfo(record.producer, record.peerId)),
      permissions: { ...participant.permissions },
      activeSpeaker: this.media.activeSpeaker,
    };
  }

  /** Leaves the room and frees everything the participant held. Safe to call twice. */
  leave(session: ClientSession, reason: string): void {
    if (!session.joined || this.sessions.get(session.participantId) !== session) return;
    session.joined = false;
    this.sessions.delete(session.participantId);
    // Closing the peer's transports closes its producers, each of which tells the room.
    this.media.removePeer(session.participantId);
    const wasOnStage = this.isOnStage(this.room.get(session.participantId));
    this.room.leave(session.participantId);
    for (const channel of [this.allChannel, this.fullChannel, this.summaryChannel]) void session.socket.leave(channel);
    this.io.to(this.fullChannel).emit('participantLeft', { participantId: session.participantId });
    this.summaryChanged(wasOnStage);
    audit(session.logger, 'participant.left', { room: this.id, participant: session.participantId, reason });
    if (this.room.isEmpty) this.close();
  }

  /** Ends a session from the server side: tells the client why, then disconnects it. */
  end(session: ClientSession, reason: Notifications['sessionEnded']['reason']): void {
    session.notify('sessionEnded', { reason });
    this.leave(session, reason);
    session.dispose();
    session.socket.disconnect(true);
  }

  private closed = false;

  /** Frees the room when nobody is in it (also after a visitor who never joined). */
  closeIfEmpty(): void {
    if (this.room.isEmpty) this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.summaryTimer) clearTimeout(this.summaryTimer);
    this.summaryTimer = undefined;
    this.media.close();
    this.onEmpty();
  }

  async createTransport(
    session: ClientSession,
    { direction }: ValidPayload<'createTransport'>,
  ): Promise<TransportOptions> {
    const participant = this.participant(session);
    if (direction === 'send') {
      const p = participant.permissions;
      if (!p.publishAudio && !p.publishVideo && !p.publishScreen) {
        throw forbidden(`Your role (${participant.role}) does not allow you to send media.`);
      }
    }
    const transport = await this.media.createTransport(participant.id, direction);
    return {
      id: transport.id,
      iceParameters: { ...transport.iceParameters },
      iceCandidates: transport.iceCandidates.map((candidate) => ({ ...candidate })),
      dtlsParameters: { ...transport.dtlsParameters },
    };
  }

  async connectTransport(
    session: ClientSession,
    payload: ValidPayload<'connectTransport'>,
  ): Promise<RequestResults['connectTransport']> {
    const participant = this.participant(session);
    await this.media.connectTransport(
      participant.id,
      payload.transportId,
      payload.dtlsParameters as unknown as types.DtlsParameters,
    );
    return {};
  }

  async restartIce(session: ClientSession, payload: ValidPayload<'restartIce'>): Promise<RequestResults['restartIce']> {
    const iceParameters = await this.media.restartIce(this.participant(session).id, payload.transportId);
    return { iceParameters: { ...iceParameters } };
  }

  async produce(session: ClientSession, payload: ValidPayload<'produce'>): Promise<RequestResults['produce']> {
    const participant = this.participant(session);
    this.room.assertAllowed(participant.id, permissionToPublish(payload.source), `publish your ${payload.source}`);
    const producer = await this.media.produce(
      participant.id,
      payload.transportId,
      payload.kind,
      payload.rtpParameters as unknown as types.RtpParameters,
      payload.source,
    );
    producer.observer.once('close', () => this.toAll('producerClosed', { producerId: producer.id }));
    session.socket.to(this.allChannel).emit('producerAdded', this.producerInfo(producer, participant.id));
    return { producerId: producer.id };
  }

  closeProducer(
    session: ClientSession,
    { producerId }: ValidPayload<'closeProducer'>,
  ): RequestResults['closeProducer'] {
    this.media.ownProducer(this.participant(session).id, producerId).close();
    return {};
  }

  async setProducerPaused(session: ClientSession, producerId: string, paused: boolean): Promise<Record<string, never>> {
    const producer = this.media.ownProducer(this.participant(session).id, producerId);
    if (paused) await producer.pause();
    else await producer.resume();
    this.toAll('producerPaused', { producerId, paused });
    return {};
  }

  async consume(session: ClientSession, { producerId }: ValidPayload<'consume'>): Promise<RequestResults['consume']> {
    const participant = this.participant(session);
    const { consumer, record } = await this.media.consume(participant.id, producerId);
    return {
      consumerId: consumer.id,
      producerId,
      participantId: record.peerId,
      kind: consumer.kind,
      source: record.source,
      rtpParameters: { ...consumer.rtpParameters },
      producerPaused: consumer.producerPaused,
    };
  }

  async resumeConsumer(
    session: ClientSession,
    { consumerId }: ValidPayload<'resumeConsumer'>,
  ): Promise<Record<string, never>> {
    await this.media.ownConsumer(this.participant(session).id, consumerId).resume();
    return {};
  }

  /** Stop receiving something (a listener closing the commander's video). */
  closeConsumer(session: ClientSession, { consumerId }: ValidPayload<'closeConsumer'>): Record<string, never> {
    this.media.ownConsumer(this.participant(session).id, consumerId).close();
    return {};
  }

  async setConsumerLayers(
    session: ClientSession,
    payload: ValidPayload<'setConsumerLayers'>,
  ): Promise<Record<string, never>> {
    const consumer = this.media.ownConsumer(this.participant(session).id, payload.consumerId);
    if (consumer.type !== 'simulcast' && consumer.type !== 'svc')
      throw invalid('This media has no layers to choose from.');
    await consumer.setPreferredLayers({
      spatialLayer: payload.spatialLayer,
      ...(payload.temporalLayer !== undefined ? { temporalLayer: payload.temporalLayer } : {}),
    });
    return {};
  }

  chat(session: ClientSession, { text }: ValidPayload<'chat'>): Record<string, never> {
    const participant = this.room.checkChat(this.participant(session).id, text);
    this.toAll('chatMessage', { from: participant.id, name: participant.name, text, at: Date.now() });
    return {};
  }

  setHand(session: ClientSession, { raised }: ValidPayload<'setHand'>): Record<string, never> {
    const participant = this.room.setHand(this.participant(session).id, raised);
    this.participantChanged(participant);
    return {};
  }

  async muteParticipant(
    session: ClientSession,
    { participantId }: ValidPayload<'muteParticipant'>,
  ): Promise<Record<string, never>> {
    const target = this.room.moderate(this.participant(session).id, participantId, 'mute someone');
    const targetSession = this.sessions.get(target.id);
    const mic = this.media.producerList().find((r) => r.peerId === target.id && r.source === 'mic');
    if (mic && !mic.producer.paused) {
      await mic.producer.pause();
      this.toAll('producerPaused', { producerId: mic.producer.id, paused: true });
      targetSession?.notify('mutedByModerator', { producerId: mic.producer.id });
    }
    audit(session.logger, 'participant.muted', { room: this.id, target: target.id });
    return {};
  }

  removeParticipant(
    session: ClientSession,
    { participantId }: ValidPayload<'removeParticipant'>,
  ): Record<string, never> {
    const target = this.room.moderate(this.participant(session).id, participantId, 'remove someone');
    audit(session.logger, 'participant.removed', { room: this.id, target: target.id });
    const targetSession = this.sessions.get(target.id);
    if (targetSession) this.end(targetSession, 'removed');
    return {};
  }

  grantFloor(session: ClientSession, { participantId }: ValidPayload<'grantFloor'>): Record<string, never> {
    const target = this.room.grantFloor(this.participant(session).id, participantId);
    audit(session.logger, 'floor.granted', { room: this.id, target: target.id });
    this.sessions.get(target.id)?.notify('permissionsChanged', { permissions: { ...target.permissions } });
    this.participantChanged(target);
    return {};
  }

  revokeFloor(session: ClientSession, { participantId }: ValidPayload<'revokeFloor'>): Record<string, never> {
    const target = this.room.revokeFloor(this.participant(session).id, participantId);
    audit(session.logger, 'floor.revoked', { room: this.id, target: target.id });
    // Whatever the floor allowed and the role does not is closed everywhere, now.
    const permissions = target.permissions;
    this.media.closePeerProducers(target.id, (producer) => {
      const source = producer.appData.source as ProducerInfo['source'];
      return !permissions[permissionToPublish(source)];
    });
    this.sessions.get(target.id)?.notify('permissionsChanged', { permissions: { ...permissions } });
    this.participantChanged(target);
    return {};
  }

  summary(): RoomSummary {
    const all = this.room.all();
    return {
      participants: all.length,
      speakers: all.filter((p) => this.isOnStage(p)).map((p) => p.view()),
      handsRaised: all.filter((p) => p.handRaised).length,
    };
  }

  private participant(session: ClientSession): Participant {
    if (!session.joined) throw conflict('Join the room first.');
    return this.room.get(session.participantId);
  }

  private channelsFor(participant: Participant): string[] {
    return [this.allChannel, participant.can('seeParticipantList') ? this.fullChannel : this.summaryChannel];
  }

  private producerInfo(producer: types.Producer, peerId: string): ProducerInfo {
    return {
      producerId: producer.id,
      participantId: peerId,
      kind: producer.kind,
      source: producer.appData.source as ProducerInfo['source'],
      paused: producer.paused,
    };
  }

  private participantChanged(participant: Participant): void {
    this.io.to(this.fullChannel).emit('participantUpdated', participant.view());
    this.summaryChanged(true);
  }

  /** Those a listener hears: everyone but the audience, plus a listener holding the floor. */
  private isOnStage(participant: Participant): boolean {
    return participant.role !== 'listener' || participant.hasFloor;
  }

  private toAll<N extends NotificationName>(name: N, payload: Notifications[N]): void {
    (this.io.to(this.allChannel).emit as (event: string, data: unknown) => boolean)(name, payload);
  }

  /** Coalesces changes into one summary for listeners, sooner when it changes who they hear. */
  private summaryChanged(significant: boolean): void {
    this.summaryDirty = true;
    const delay = significant
      ? SUMMARY_PROMPT_MS
      : Math.min(SUMMARY_COUNT_MAX_MS, Math.max(SUMMARY_PROMPT_MS, this.room.size * SUMMARY_COUNT_MS_PER_PARTICIPANT));
    const dueAt = Date.now() + delay;
    if (this.summaryTimer && this.summaryDueAt <= dueAt) return;
    if (this.summaryTimer) clearTimeout(this.summaryTimer);
    this.summaryDueAt = dueAt;
    this.summaryTimer = setTimeout(() => {
      this.summaryTimer = undefined;
      if (!this.summaryDirty || this.room.isEmpty) return;
      this.summaryDirty = false;
      this.io.to(this.summaryChannel).emit('roomSummary', this.summary());
    }, delay);
    this.summaryTimer.unref();
  }
}
