import type { Server } from 'socket.io';
import { conflict, forbidden } from '../domain/errors.js';
import type { Participant } from '../domain/Participant.js';
import type { Room } from '../domain/Room.js';
import { permissionToPublish } from '../domain/roles.js';
import type { RoomMedia } from '../media/RoomMedia.js';
import { audit, type Logger } from '../observability/logger.js';
import { Audience } from './Audience.js';
import type {
  Dictionary,
  IncomingEvents,
  JoinResult,
  SessionEndReason,
  RequestResults,
  ServerToClientEvents,
  TransportOptions,
  ValidPayload,
} from './catalog.js';
import type { ClientConnection } from './ClientConnection.js';

type Io = Server<IncomingEvents, ServerToClientEvents>;
type Done = Record<string, never>;

/**
 * A room live on this server: its members (the domain room), its media, and the connections
 * of those in it. Every request a participant makes passes here after validation; the domain
 * decides, the media carries it out, and the audience tells the right people.
 */
export class LiveRoom {
  private readonly connections = new Map<string, ClientConnection>();
  private readonly audience: Audience;
  private closed = false;

  constructor(
    io: Io,
    readonly members: Room,
    readonly media: RoomMedia,
    private readonly logger: Logger,
    private readonly onClosed: () => void,
  ) {
    this.audience = new Audience(io, members);
    media.on('producerClosed', (producerId) => this.audience.toAll('producerClosed', { producerId }));
    // A speaker on the room's origin node (another node) started sending.
    media.on('remoteProducerAdded', (producer) => this.audience.toAll('producerAdded', producer));
    media.on('remoteProducerPaused', (producerId, paused) =>
      this.audience.toAll('producerPaused', { producerId, paused }),
    );
    media.on('consumerClosed', (peerId, consumerId) =>
      this.connections.get(peerId)?.notify('consumerClosed', { consumerId }),
    );
    media.on('activeSpeaker', (peerId) => this.audience.toAll('activeSpeaker', { participantId: peerId }));
    media.on('mediaLost', () => {
      for (const connection of [...this.connections.values()]) this.end(connection, 'media-lost');
    });
  }

  /** The connections of those in the room. */
  all(): ClientConnection[] {
    return [...this.connections.values()];
  }

  /** The room as the participant finds it; the signalling server adds its TURN credentials. */
  async join(connection: ClientConnection, rtpCapabilities: Dictionary): Promise<Omit<JoinResult, 'iceServers'>> {
    if (connection.joined) throw conflict('You have already joined.');
    if (this.closed) throw conflict('This room has just closed; join again.');
    const previous = this.connections.get(connection.participantId);
    if (previous && previous !== connection) {
      // Same user from a new tab or after a network change: the newest connection wins, and
      // the old one is fully cleaned up first so no ghost remains.
      audit(this.logger, 'participant.replaced', { participant: connection.participantId });
      this.end(previous, 'replaced');
    }
    const participant = this.members.join({
      id: connection.participantId,
      name: connection.claims.name,
      role: connection.claims.role,
      ...(connection.claims.grants ? { grants: connection.claims.grants } : {}),
    });
    try {
      this.media.addPeer(participant.id, rtpCapabilities);
    } catch (error) {
      this.members.leave(participant.id);
      throw error;
    }
    connection.joined = true;
    this.connections.set(participant.id, connection);
    await this.audience.admit(connection.socket, participant);
    audit(connection.logger, 'participant.joined');
    return {
      self: participant.view(),
      participants: this.audience.rosterFor(participant),
      producers: this.media.producers(),
      permissions: { ...participant.permissions },
      activeSpeaker: this.media.activeSpeaker,
    };
  }

  /** Leaves the room and frees everything the participant held. Safe to call twice. */
  leave(connection: ClientConnection, reason: string): void {
    if (!connection.joined || this.connections.get(connection.participantId) !== connection) return;
    connection.joined = false;
    this.connections.delete(connection.participantId);
    // Closing the peer's transports closes its producers, each of which tells the room.
    this.media.removePeer(connection.participantId);
    const participant = this.members.get(connection.participantId);
    this.members.leave(connection.participantId);
    this.audience.dismiss(connection.socket, participant);
    audit(connection.logger, 'participant.left', { reason });
    if (this.members.isEmpty) this.close();
  }

  /** Ends a connection from the server side: tells the client why, then disconnects it. */
  end(connection: ClientConnection, reason: SessionEndReason): void {
    connection.notify('sessionEnded', { reason });
    this.leave(connection, reason);
    connection.dispose();
    connection.socket.disconnect(true);
  }

  /** Frees the room when nobody is in it (also after a visitor who never joined). */
  closeIfEmpty(): void {
    if (this.members.isEmpty) this.close();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.audience.close();
    this.media.close();
    this.onClosed();
  }

  async createTransport(
    connection: ClientConnection,
    { direction }: ValidPayload<'createTransport'>,
  ): Promise<TransportOptions> {
    const participant = this.participant(connection);
    if (direction === 'send') {
      const p = participant.permissions;
      if (!p.publishAudio && !p.publishVideo && !p.publishScreen) {
        throw forbidden(`Your role (${participant.role}) does not allow you to send media.`);
      }
    }
    return this.media.createTransport(participant.id, direction);
  }

  async connectTransport(connection: ClientConnection, payload: ValidPayload<'connectTransport'>): Promise<Done> {
    await this.media.connectTransport(this.participant(connection).id, payload.transportId, payload.dtlsParameters);
    return {};
  }

  async restartIce(
    connection: ClientConnection,
    payload: ValidPayload<'restartIce'>,
  ): Promise<Omit<RequestResults['restartIce'], 'iceServers'>> {
    const iceParameters = await this.media.restartIce(this.participant(connection).id, payload.transportId);
    return { iceParameters };
  }

  async produce(connection: ClientConnection, payload: ValidPayload<'produce'>): Promise<RequestResults['produce']> {
    const participant = this.participant(connection);
    this.members.assertAllowed(participant.id, permissionToPublish(payload.source), `publish your ${payload.source}`);
    const producer = await this.media.produce(participant.id, payload);
    this.audience.toOthers(connection.socket, 'producerAdded', producer);
    return { producerId: producer.producerId };
  }

  closeProducer(connection: ClientConnection, { producerId }: ValidPayload<'closeProducer'>): Done {
    this.media.closeProducer(this.participant(connection).id, producerId);
    return {};
  }

  async setProducerPaused(connection: ClientConnection, producerId: string, paused: boolean): Promise<Done> {
    await this.media.setProducerPaused(this.participant(connection).id, producerId, paused);
    this.audience.toAll('producerPaused', { producerId, paused });
    return {};
  }

  async consume(
    connection: ClientConnection,
    { producerId }: ValidPayload<'consume'>,
  ): Promise<RequestResults['consume']> {
    return this.media.consume(this.participant(connection).id, producerId);
  }

  async resumeConsumer(connection: ClientConnection, { consumerId }: ValidPayload<'resumeConsumer'>): Promise<Done> {
    await this.media.resumeConsumer(this.participant(connection).id, consumerId);
    return {};
  }

  /** Stop receiving something (a listener closing the commander's video). */
  closeConsumer(connection: ClientConnection, { consumerId }: ValidPayload<'closeConsumer'>): Done {
    this.media.closeConsumer(this.participant(connection).id, consumerId);
    return {};
  }

  async setConsumerLayers(connection: ClientConnection, payload: ValidPayload<'setConsumerLayers'>): Promise<Done> {
    await this.media.setConsumerLayers(this.participant(connection).id, payload.consumerId, payload);
    return {};
  }

  chat(connection: ClientConnection, { text }: ValidPayload<'chat'>): Done {
    const participant = this.members.checkChat(this.participant(connection).id, text);
    this.audience.toAll('chatMessage', { from: participant.id, name: participant.name, text, at: Date.now() });
    return {};
  }

  setHand(connection: ClientConnection, { raised }: ValidPayload<'setHand'>): Done {
    const participant = this.members.setHand(this.participant(connection).id, raised);
    this.audience.changed(participant);
    return {};
  }

  async muteParticipant(
    connection: ClientConnection,
    { participantId }: ValidPayload<'muteParticipant'>,
  ): Promise<Done> {
    const target = this.members.moderate(this.participant(connection).id, participantId, 'mute someone');
    const producerId = await this.media.muteMicrophone(target.id);
    if (producerId) {
      this.audience.toAll('producerPaused', { producerId, paused: true });
      this.connections.get(target.id)?.notify('mutedByModerator', { producerId });
    }
    audit(connection.logger, 'participant.muted', { target: target.id });
    return {};
  }

  removeParticipant(connection: ClientConnection, { participantId }: ValidPayload<'removeParticipant'>): Done {
    const target = this.members.moderate(this.participant(connection).id, participantId, 'remove someone');
    audit(connection.logger, 'participant.removed', { target: target.id });
    const targetConnection = this.connections.get(target.id);
    if (targetConnection) this.end(targetConnection, 'removed');
    return {};
  }

  grantFloor(connection: ClientConnection, { participantId }: ValidPayload<'grantFloor'>): Done {
    const target = this.members.grantFloor(this.participant(connection).id, participantId);
    audit(connection.logger, 'floor.granted', { target: target.id });
    this.connections.get(target.id)?.notify('permissionsChanged', { permissions: { ...target.permissions } });
    this.audience.changed(target);
    return {};
  }

  revokeFloor(connection: ClientConnection, { participantId }: ValidPayload<'revokeFloor'>): Done {
    const target = this.members.revokeFloor(this.participant(connection).id, participantId);
    audit(connection.logger, 'floor.revoked', { target: target.id });
    // Whatever the floor allowed and the role does not is closed everywhere, now.
    const permissions = target.permissions;
    this.media.closeProducersNotAllowed(target.id, (source) => permissions[permissionToPublish(source)]);
    this.connections.get(target.id)?.notify('permissionsChanged', { permissions: { ...permissions } });
    this.audience.changed(target);
    return {};
  }

  private participant(connection: ClientConnection): Participant {
    if (!connection.joined) throw conflict('Join the room first.');
    return this.members.get(connection.participantId);
  }
}
