import type { Server } from 'socket.io';
import { attendanceOf } from '../domain/attendanceOf.js';
import { conflict, notFound, type RedirectTarget, RelaisError } from '../domain/errors.js';
import type { Participant } from '../domain/Participant.js';
import type { Room } from '../domain/Room.js';
import { permissionToPublish } from '../domain/roles.js';
import { startingPolicy } from '../domain/roomPolicy.js';
import type { EventActor, RoomEvent, RoomPolicy } from '../domain/roomEvents.js';
import type { MemberRecord, SharedRoomState } from '../domain/sharedRoomState.js';
import type { ModerationAction, RoomCommand } from '../http/roomCommandProtocol.js';
import type { RoomCommandSender } from '../http/roomCommandClient.js';
import type { RoomMedia } from '../media/RoomMedia.js';
import { audit, type Logger } from '../observability/logger.js';
import { Audience } from './Audience.js';
import type {
  Dictionary,
  IncomingEvents,
  JoinResult,
  ProducerInfo,
  SessionEndReason,
  RequestResults,
  ServerToClientEvents,
  TransportOptions,
  ValidPayload,
} from './catalog.js';
import type { ClientConnection } from './ClientConnection.js';
import { finishEvent, leaveEvent, personOf } from './memberEvents.js';
import type { RoomEventSink } from './RoomEventSink.js';
import { RoomLobby } from './RoomLobby.js';

type Io = Server<IncomingEvents, ServerToClientEvents>;
type Done = Record<string, never>;

/** What a live room needs of the cluster: the shared state, this node's name, the other nodes. */
export interface RoomCluster {
  state: SharedRoomState;
  nodeId: string;
  /** Commands to the node a member is connected to; absent on a node alone. */
  commands?: RoomCommandSender;
  maxParticipants: number;
}

/** What a live room tells and the rules it starts with. */
export interface RoomRules {
  events: RoomEventSink;
  /** The policy of a room whose first moderator's token names none (RELAIS_ROOM_POLICY). */
  defaultPolicy: RoomPolicy;
  /** How long a member who dropped out keeps their place in a locked room (RELAIS_ROOM_GRACE). */
  graceMs: number;
}

/**
 * A room live on this server: its members connected here (the domain room), its media, and
 * their connections. Every request a participant makes passes here after validation; the
 * domain decides, the media carries it out, the shared state records it for the other nodes,
 * and the audience tells the right people wherever they are connected.
 */
export class LiveRoom {
  private readonly connections = new Map<string, ClientConnection>();
  /** Members whose session here ends because they joined again through another node. */
  private readonly replacedElsewhere = new Set<string>();
  /** Those waiting in the lobby through this node. */
  private readonly lobby: RoomLobby;
  private readonly audience: Audience;
  private closed = false;
  /** Who is ending a member's session for a moderation, read when their leave is told. */
  private readonly removedBy = new Map<string, EventActor>();

  constructor(
    io: Io,
    readonly members: Room,
    readonly media: RoomMedia,
    private readonly cluster: RoomCluster,
    private readonly rules: RoomRules,
    private readonly logger: Logger,
    private readonly onClosed: () => void,
  ) {
    this.audience = new Audience(io, members, cluster.state, logger);
    this.lobby = new RoomLobby(members.id, cluster.nodeId, io, cluster.state, this.audience, logger, (event) =>
      this.tell(event),
    );
    // Media news goes to this node's members only: other nodes announce what they can serve.
    media.on('producerClosed', (producerId) => {
      this.audience.toLocal('producerClosed', { producerId });
      this.record(this.cluster.state.producerRemoved(this.id, producerId, this.cluster.nodeId), 'producer closed');
    });
    media.on('remoteProducerAdded', (producer) => this.audience.toLocal('producerAdded', producer));
    media.on('remoteProducerPaused', (producerId, paused) =>
      this.audience.toLocal('producerPaused', { producerId, paused }),
    );
    media.on('consumerClosed', (peerId, consumerId) =>
      this.connections.get(peerId)?.notify('consumerClosed', { consumerId }),
    );
    // Each node observes the audio it routes (its own and what is piped in).
    media.on('activeSpeaker', (peerId) => this.audience.toLocal('activeSpeaker', { participantId: peerId }));
    media.on('mediaLost', () => {
      for (const connection of [...this.connections.values()]) this.end(connection, 'media-lost');
    });
  }

  get id(): string {
    return this.members.id;
  }

  /** The connections of those in the room on this node. */
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
    // Joined from here on: a disconnect while the shared state answers leaves cleanly.
    connection.joined = true;
    this.connections.set(participant.id, connection);
    let outcome: Awaited<ReturnType<SharedRoomState['join']>>;
    const at = Date.now();
    const { claims } = connection;
    const started: RoomEvent = {
      type: 'room.started',
      room: this.id,
      at,
      policy: startingPolicy(this.rules.defaultPolicy, claims),
    };
    const joined: RoomEvent = { type: 'participant.joined', room: this.id, at, participant: personOf(participant) };
    try {
      // The admission is decided with the join itself, in one atomic step of the shared state.
      outcome = await this.cluster.state.join(
        this.id,
        this.recordOf(participant),
        this.cluster.maxParticipants,
        { started, joined },
        {
          role: claims.role,
          ...(claims.policy ? { policy: claims.policy } : {}),
          preadmitted: claims.preadmitted === true,
          defaultPolicy: this.rules.defaultPolicy,
          now: at,
        },
      );
    } catch (error) {
      this.undoJoin(connection);
      throw error;
    }
    if (!outcome.ok) {
      this.undoJoin(connection);
      if (outcome.reason === 'lobby') {
        await this.lobby.wait(connection);
        throw new RelaisError('IN_LOBBY', 'You are waiting for a moderator to let you in.');
      }
      if (outcome.reason === 'locked') throw new RelaisError('ROOM_LOCKED', 'This room is locked: nobody new enters.');
      if (outcome.reason === 'banned')
        throw new RelaisError('BANNED', 'You were refused or removed: you cannot come back until the room ends.');
      throw new RelaisError('CONFLICT', `Room ${this.id} is full (${this.cluster.maxParticipants} participants).`);
    }
    if (!connection.joined) throw conflict('The connection closed while joining.');
    connection.admitted = true;
    if (connection.waiting) this.lobby.stopWaiting(connection);
    if (outcome.policyChangedFrom) {
      this.tell({
        type: 'policy.changed',
        room: this.id,
        at,
        policy: outcome.policy,
        previous: outcome.policyChangedFrom,
        actor: { kind: 'moderator', sub: participant.id, name: participant.name },
      });
      this.audience.toAll('roomPolicy', { policy: outcome.policy });
    }
    // Told by this node only: the shared state said this join started the room, or began a presence.
    if (outcome.started) this.rules.events.emit(started);
    if (!outcome.rejoined) this.rules.events.emit(joined);
    if (outcome.previousNode) this.endElsewhere(outcome.previousNode, participant.id);
    await this.audience.admit(connection.socket, participant);
    audit(connection.logger, 'participant.joined');
    return {
      self: participant.view(),
      participants: await this.audience.rosterFor(participant),
      producers: this.media.producers(),
      permissions: { ...participant.permissions },
      activeSpeaker: this.media.activeSpeaker,
      policy: outcome.policy,
      lobby: participant.can('moderate') ? await this.lobby.views() : [],
      spotlight: (await this.cluster.state.spotlight(this.id)) ?? null,
    };
  }

  /** A join the shared state did not take (or could not answer): nothing of it remains here. */
  private undoJoin(connection: ClientConnection): void {
    if (this.connections.get(connection.participantId) !== connection) return;
    connection.joined = false;
    this.connections.delete(connection.participantId);
    this.media.removePeer(connection.participantId);
    this.members.leave(connection.participantId);
  }

  /** A moderator changes who may enter; opening the room lets in everyone waiting. */
  async setRoomPolicy(connection: ClientConnection, { policy }: ValidPayload<'setRoomPolicy'>): Promise<Done> {
    const moderator = this.members.assertAllowed(this.participant(connection).id, 'moderate', 'change who may enter');
    const previous = await this.cluster.state.setPolicy(this.id, policy);
    if (!previous) throw conflict('This room has just closed.');
    audit(connection.logger, 'room.policy', { policy, previous });
    if (previous !== policy) {
      this.tell({
        type: 'policy.changed',
        room: this.id,
        at: Date.now(),
        policy,
        previous,
        actor: { kind: 'moderator', sub: moderator.id, name: moderator.name },
      });
      this.audience.toAll('roomPolicy', { policy });
    }
    if (policy === 'open') await this.lobby.decide(actorFrom(moderator), 'all', 'admitted');
    return {};
  }

  /** A moderator admits or refuses one person waiting, or everyone waiting. */
  async decideLobby(
    connection: ClientConnection,
    { decision, participantId }: ValidPayload<'decideLobby'>,
  ): Promise<RequestResults['decideLobby']> {
    const moderator = this.members.assertAllowed(this.participant(connection).id, 'moderate', 'decide who enters');
    const decided = await this.lobby.decide(
      actorFrom(moderator),
      participantId ? [participantId] : 'all',
      decision === 'admit' ? 'admitted' : 'refused',
    );
    if (participantId && decided.length === 0) throw notFound(`Nobody waits in the lobby as ${participantId}.`);
    return { decided };
  }

  /** Leaves the room and frees everything the participant held. Safe to call twice. */
  leave(connection: ClientConnection, reason: string): void {
    if (connection.waiting) {
      this.record(this.lobby.leave(connection), 'leave the lobby');
      if (this.isUnused) this.close();
      return;
    }
    if (!connection.joined || this.connections.get(connection.participantId) !== connection) return;
    connection.joined = false;
    connection.admitted = false;
    this.connections.delete(connection.participantId);
    // Closing the peer's transports closes its producers, each of which tells the room.
    this.media.removePeer(connection.participantId);
    const participant = this.members.get(connection.participantId);
    this.members.leave(connection.participantId);
    const at = Date.now();
    const left = leaveEvent(this.id, personOf(participant), at, reason, this.removedBy.get(participant.id));
    this.removedBy.delete(participant.id);
    this.record(
      this.cluster.state
        .leave(this.id, participant.id, this.cluster.nodeId, {
          left,
          // Dropped out (not removed): back within the grace period, they keep their place.
          ...(left.type === 'participant.left' ? { graceUntil: at + this.rules.graceMs } : {}),
        })
        .then((outcome) => {
          if (outcome.left) this.rules.events.emit(left);
          if (outcome.finished) this.rules.events.emit(finishEvent(this.id, at, reason));
        }),
      'leave',
    );
    this.audience.dismiss(connection.socket, participant, this.replacedElsewhere.delete(participant.id));
    this.record(this.spotlightLeft(participant.id), 'spotlight');
    audit(connection.logger, 'participant.left', { reason });
    if (this.isUnused) this.close();
  }

  /** Nobody in the room nor waiting in its lobby through this node. */
  private get isUnused(): boolean {
    return this.members.isEmpty && this.lobby.size === 0;
  }

  /** Ends a connection from the server side: tells the client why (and where to go on), then disconnects it. */
  end(connection: ClientConnection, reason: SessionEndReason, redirect?: RedirectTarget): void {
    connection.notify('sessionEnded', { reason, ...(redirect ? { redirect } : {}) });
    this.leave(connection, reason);
    connection.dispose();
    connection.socket.disconnect(true);
  }

  /** Ends every session of the room on this node; returns how many. */
  endAll(reason: SessionEndReason): number {
    const connections = this.all();
    for (const connection of connections) this.end(connection, reason);
    return connections.length;
  }

  /** Writes this node's members and producers of the room to the shared state again (after a Redis outage). */
  async resync(): Promise<void> {
    for (const participant of this.members.all())
      await this.cluster.state.join(this.id, this.recordOf(participant), Number.MAX_SAFE_INTEGER);
    for (const producer of this.media.producers())
      if (this.members.has(producer.participantId))
        await this.cluster.state.producerAdded(this.id, this.producerRecord(producer));
    this.audience.rosterChanged();
  }

  /** Someone elsewhere in the room changed (a dead node's members removed): listeners' counts follow. */
  rosterChanged(): void {
    this.audience.rosterChanged();
  }

  /** Frees the room when nobody is in it (also after a visitor who never joined). */
  closeIfEmpty(): void {
    if (this.isUnused) this.close();
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
        throw forbiddenToSend(participant);
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
    this.record(this.cluster.state.producerAdded(this.id, this.producerRecord(producer)), 'producer added');
    this.audience.toLocalOthers(connection.socket, 'producerAdded', producer);
    return { producerId: producer.producerId };
  }

  closeProducer(connection: ClientConnection, { producerId }: ValidPayload<'closeProducer'>): Done {
    this.media.closeProducer(this.participant(connection).id, producerId);
    return {};
  }

  async setProducerPaused(connection: ClientConnection, producerId: string, paused: boolean): Promise<Done> {
    const participant = this.participant(connection);
    await this.media.setProducerPaused(participant.id, producerId, paused);
    this.producerPaused(participant, producerId, paused);
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

  async setHand(connection: ClientConnection, { raised }: ValidPayload<'setHand'>): Promise<Done> {
    const participant = this.members.setHand(this.participant(connection).id, raised);
    await this.changed(participant);
    return {};
  }

  muteParticipant(connection: ClientConnection, { participantId }: ValidPayload<'muteParticipant'>): Promise<Done> {
    return this.moderate(connection, 'mute', participantId, 'mute someone');
  }

  removeParticipant(connection: ClientConnection, p: ValidPayload<'removeParticipant'>): Promise<Done> {
    return this.moderate(connection, 'remove', p.participantId, 'remove someone');
  }

  grantFloor(connection: ClientConnection, { participantId }: ValidPayload<'grantFloor'>): Promise<Done> {
    return this.moderate(connection, 'grantFloor', participantId, 'give the floor');
  }

  revokeFloor(connection: ClientConnection, { participantId }: ValidPayload<'revokeFloor'>): Promise<Done> {
    return this.moderate(connection, 'revokeFloor', participantId, 'take the floor back');
  }

  /** The register as every node wrote it, for a moderator to download. */
  async exportAttendance(
    connection: ClientConnection,
    { format }: ValidPayload<'exportAttendance'>,
  ): Promise<RequestResults['exportAttendance']> {
    this.members.assertAllowed(this.participant(connection).id, 'moderate', 'export the attendance register');
    const register = attendanceOf(this.id, await this.cluster.state.attendance(this.id), (entry, error) =>
      this.logger.warn({ err: error, type: entry.type }, 'attendance entry skipped'),
    );
    audit(connection.logger, 'attendance.exported', { format });
    const content = format === 'csv' ? register.toCsv({ excelBom: true }) : JSON.stringify(register.toJson(), null, 2);
    return { format, content };
  }

  /**
   * A command from another node of the cluster about a member connected here (the moderator's
   * right was checked on the moderator's node). Returns how many sessions it ended.
   */
  async command(command: Exclude<RoomCommand, { action: 'closeRoom' }>): Promise<number> {
    if (command.action === 'endSession') {
      const connection = this.connections.get(command.target);
      if (!connection) return 0;
      audit(this.logger, 'participant.replaced', { participant: command.target, elsewhere: true });
      this.replacedElsewhere.add(command.target);
      this.end(connection, 'replaced');
      return 1;
    }
    if (command.action === 'muteAll') {
      for (const member of this.members.all()) {
        if (member.role === 'moderator' || (command.keepFloor && member.hasFloor)) continue;
        await this.apply('mute', member.id, command.by);
      }
      return 0;
    }
    if (command.action === 'lowerHands') {
      for (const member of this.members.all()) {
        if (!member.handRaised) continue;
        member.handRaised = false;
        await this.changed(member);
      }
      return 0;
    }
    if (command.action === 'endForAll') {
      const actor = await this.actorOf(command.by);
      for (const connection of this.all()) this.removedBy.set(connection.participantId, actor);
      // Those still waiting are told too: there is no meeting left to wait for.
      for (const connection of this.lobby.all()) this.end(connection, 'ended-for-all');
      return this.endAll('ended-for-all');
    }
    if (!this.members.has(command.target)) throw notFound(`No participant ${command.target} in room ${this.id}.`);
    if (command.action === 'setRole') {
      await this.changeRole(command.target, command.role, command.by);
      return 0;
    }
    // Logged as the moderator's act, as on their own node (`participant` is the actor).
    await this.apply(command.action, command.target, command.by, this.logger.child({ participant: command.by }));
    return command.action === 'remove' ? 1 : 0;
  }

  /** Every microphone but the moderators' (and the floor's, if asked), on every node. */
  async muteAll(connection: ClientConnection, { keepFloor }: ValidPayload<'muteAll'>): Promise<Done> {
    const moderator = this.members.assertAllowed(this.participant(connection).id, 'moderate', 'mute everyone');
    audit(connection.logger, 'room.muted-all', { keepFloor });
    await this.everywhere({ action: 'muteAll', roomId: this.id, by: moderator.id, keepFloor });
    return {};
  }

  async lowerAllHands(connection: ClientConnection): Promise<Done> {
    const moderator = this.members.assertAllowed(this.participant(connection).id, 'moderate', 'lower every hand');
    audit(connection.logger, 'room.hands-lowered');
    await this.everywhere({ action: 'lowerHands', roomId: this.id, by: moderator.id });
    return {};
  }

  /** Ends the meeting for everyone: the other nodes first, then here (the moderator with them). */
  async endForAll(connection: ClientConnection): Promise<Done> {
    const moderator = this.members.assertAllowed(this.participant(connection).id, 'moderate', 'end the meeting');
    audit(connection.logger, 'room.ended-for-all');
    await this.everywhere({ action: 'endForAll', roomId: this.id, by: moderator.id });
    return {};
  }

  /** A member's role, changed live wherever they are connected. */
  async setRole(connection: ClientConnection, { participantId, role }: ValidPayload<'setRole'>): Promise<Done> {
    const moderator = this.members.assertModerator(this.participant(connection).id, participantId, 'change a role');
    if (this.members.has(participantId)) {
      await this.changeRole(participantId, role, moderator.id);
      return {};
    }
    const target = await this.cluster.state.member(this.id, participantId);
    if (!target || target.node === this.cluster.nodeId || !this.cluster.commands)
      throw notFound(`No participant ${participantId} in room ${this.id}.`);
    await this.cluster.commands.send(target.node, {
      action: 'setRole',
      roomId: this.id,
      target: participantId,
      by: moderator.id,
      role,
    });
    return {};
  }

  /** The stage of every page follows the moderator's choice; newcomers find it at their join. */
  async setSpotlight(connection: ClientConnection, { participantId }: ValidPayload<'setSpotlight'>): Promise<Done> {
    this.members.assertAllowed(this.participant(connection).id, 'moderate', 'choose whom everyone sees');
    if (participantId !== null && !(await this.cluster.state.member(this.id, participantId)))
      throw notFound(`No participant ${participantId} in room ${this.id}.`);
    await this.cluster.state.setSpotlight(this.id, participantId);
    audit(connection.logger, 'room.spotlight', { target: participantId });
    this.audience.toAll('spotlight', { participantId });
    return {};
  }

  /** Someone in the spotlight left: the stage goes back to the active speaker everywhere. */
  private async spotlightLeft(participantId: string): Promise<void> {
    if ((await this.cluster.state.spotlight(this.id)) !== participantId) return;
    await this.cluster.state.setSpotlight(this.id, null);
    this.audience.toAll('spotlight', { participantId: null });
  }

  /** A room-wide command: here, then on every other node holding members of the room. */
  private async everywhere(
    command: Extract<RoomCommand, { action: 'muteAll' | 'lowerHands' | 'endForAll' }>,
  ): Promise<void> {
    const nodes = new Set((await this.cluster.state.members(this.id)).map((member) => member.node));
    nodes.delete(this.cluster.nodeId);
    const commands = this.cluster.commands;
    if (commands) {
      // A node that cannot be reached does not stop the others, nor this one.
      const sent = await Promise.allSettled([...nodes].map((node) => commands.send(node, command)));
      for (const outcome of sent)
        if (outcome.status === 'rejected')
          this.logger.warn(
            { err: outcome.reason, action: command.action },
            'room-wide command not delivered to a node',
          );
    }
    await this.command(command);
  }

  /** On the member's node: what the new role allows, from now on, without a reconnect. */
  private async changeRole(targetId: string, role: Participant['role'], moderatorId: string): Promise<void> {
    const target = this.members.get(targetId);
    const previous = target.role;
    if (previous === role) return;
    const before = { ...target.permissions };
    this.members.changeRole(targetId, role);
    const permissions = target.permissions;
    // Whatever the old role allowed and the new one does not is closed everywhere, now.
    this.media.closeProducersNotAllowed(target.id, (source) => permissions[permissionToPublish(source)]);
    const connection = this.connections.get(target.id);
    if (connection) {
      await this.audience.regroup(connection.socket, target);
      const seesMore = permissions.seeParticipantList && !before.seeParticipantList;
      connection.notify('roleChanged', {
        self: target.view(),
        permissions: { ...permissions },
        ...(seesMore ? { participants: await this.audience.rosterFor(target) } : {}),
        ...(permissions.moderate
          ? {
              policy: (await this.cluster.state.policy(this.id)) ?? this.rules.defaultPolicy,
              lobby: await this.lobby.views(),
            }
          : {}),
      });
    }
    await this.changed(target);
    const actor = await this.actorOf(moderatorId);
    audit(this.logger, 'participant.role-changed', {
      target: target.id,
      moderator: moderatorId,
      from: previous,
      to: role,
    });
    this.tell({ type: 'role.changed', room: this.id, at: Date.now(), participant: personOf(target), previous, actor });
  }

  private async moderate(
    connection: ClientConnection,
    action: ModerationAction,
    targetId: string,
    what: string,
  ): Promise<Done> {
    const moderator = this.members.assertModerator(this.participant(connection).id, targetId, what);
    if (this.members.has(targetId)) {
      await this.apply(action, targetId, moderator.id, connection.logger);
      return {};
    }
    // Connected to another node: that node acts, and answers with its refusal if it refuses.
    const target = await this.cluster.state.member(this.id, targetId);
    if (!target || target.node === this.cluster.nodeId || !this.cluster.commands)
      throw notFound(`No participant ${targetId} in room ${this.id}.`);
    await this.cluster.commands.send(target.node, { action, roomId: this.id, target: targetId, by: moderator.id });
    return {};
  }

  /** A moderation on a member connected here. */
  private async apply(
    action: ModerationAction,
    targetId: string,
    moderatorId: string,
    actorLogger: Logger = this.logger.child({ participant: moderatorId }),
  ): Promise<void> {
    const log = { target: targetId };
    if (action === 'mute') {
      const target = this.members.get(targetId);
      const producerId = await this.media.muteMicrophone(target.id);
      if (producerId) {
        this.producerPaused(target, producerId, true);
        this.connections.get(target.id)?.notify('mutedByModerator', { producerId });
      }
      audit(actorLogger, 'participant.muted', log);
    } else if (action === 'remove') {
      audit(actorLogger, 'participant.removed', log);
      const targetConnection = this.connections.get(targetId);
      if (targetConnection) {
        this.removedBy.set(targetId, await this.actorOf(moderatorId));
        // Not back with the same token (nor another of the same person) until the room ends.
        await this.cluster.state.ban(this.id, targetId);
        this.end(targetConnection, 'removed');
      }
    } else if (action === 'grantFloor') {
      const target = this.members.giveFloor(targetId);
      audit(actorLogger, 'floor.granted', log);
      this.tell({
        type: 'floor.given',
        room: this.id,
        at: Date.now(),
        participant: personOf(target),
        actor: await this.actorOf(moderatorId),
      });
      this.connections.get(target.id)?.notify('permissionsChanged', { permissions: { ...target.permissions } });
      await this.changed(target);
    } else {
      const wasGiven = this.members.get(targetId).hasFloor;
      const target = this.members.takeFloor(targetId);
      audit(actorLogger, 'floor.revoked', log);
      if (wasGiven) {
        this.tell({
          type: 'floor.taken',
          room: this.id,
          at: Date.now(),
          participant: personOf(target),
          actor: await this.actorOf(moderatorId),
        });
      }
      // Whatever the floor allowed and the role does not is closed everywhere, now.
      const permissions = target.permissions;
      this.media.closeProducersNotAllowed(target.id, (source) => permissions[permissionToPublish(source)]);
      this.connections.get(target.id)?.notify('permissionsChanged', { permissions: { ...permissions } });
      await this.changed(target);
    }
  }

  /** An event that is not a join or a leave: into the register, then to the sink. */
  private tell(event: RoomEvent): void {
    this.record(this.cluster.state.appendAttendance(this.id, event), `attendance ${event.type}`);
    this.rules.events.emit(event);
  }

  /** The moderator who acted, wherever they are connected. */
  private async actorOf(moderatorId: string): Promise<EventActor> {
    const name = this.members.has(moderatorId)
      ? this.members.get(moderatorId).name
      : ((await this.cluster.state.member(this.id, moderatorId).catch(() => undefined))?.name ?? moderatorId);
    return { kind: 'moderator', sub: moderatorId, name };
  }

  /** A member's hand, floor or microphone changed: recorded for every node, then announced. */
  private async changed(participant: Participant): Promise<void> {
    await this.cluster.state.update(this.id, this.recordOf(participant));
    this.audience.changed(participant);
  }

  private producerPaused(participant: Participant, producerId: string, paused: boolean): void {
    this.audience.toLocal('producerPaused', { producerId, paused });
    const producer = this.media.producers().find((p) => p.producerId === producerId);
    if (!producer) return;
    this.record(this.cluster.state.producerUpdated(this.id, this.producerRecord(producer)), 'producer paused');
    if (producer.source === 'mic')
      this.record(this.cluster.state.update(this.id, this.recordOf(participant)), 'microphone muted');
  }

  /** The shared record of a member connected here. */
  private recordOf(participant: Participant): MemberRecord {
    const mic = this.media.producers().find((p) => p.participantId === participant.id && p.source === 'mic');
    return {
      ...participant.view(),
      node: this.cluster.nodeId,
      joinedAt: participant.joinedAt,
      muted: mic?.paused ?? false,
    };
  }

  private producerRecord(producer: ProducerInfo): Parameters<SharedRoomState['producerAdded']>[1] {
    return { ...producer, node: this.cluster.nodeId };
  }

  /** The person joined again through this node: their session on `node` ends. */
  private endElsewhere(node: string, participantId: string): void {
    if (!this.cluster.commands) return;
    this.cluster.commands
      .send(node, { action: 'endSession', roomId: this.id, target: participantId, reason: 'replaced' })
      .catch((error: unknown) => {
        // The usual case: that node was killed and its people come back here, before or after
        // its registry entry expires. Nothing is left to end there: not worth a warning each.
        if (nodeGone(error))
          this.logger.info({ node }, 'replaced session on a node that is gone: nothing to end there');
        else this.logger.warn({ err: error, node }, 'a replaced session on another node could not be ended');
      });
  }

  /** A write to the shared state that the request does not wait for: a failure is logged. */
  private record(write: Promise<unknown>, what: string): void {
    write.catch((error: unknown) => this.logger.warn({ err: error }, `shared room state: ${what} not recorded`));
  }

  private participant(connection: ClientConnection): Participant {
    if (connection.waiting) throw new RelaisError('IN_LOBBY', 'You are waiting for a moderator to let you in.');
    if (!connection.joined || !connection.admitted) throw conflict('Join the room first.');
    return this.members.get(connection.participantId);
  }
}

/** The node is out of the registry, refuses connections, or no longer hosts the room. */
function nodeGone(error: unknown): boolean {
  if (error instanceof RelaisError) return error.code === 'NOT_FOUND';
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  return cause?.code === 'ECONNREFUSED';
}

function actorFrom(moderator: Participant): Extract<EventActor, { kind: 'moderator' }> {
  return { kind: 'moderator', sub: moderator.id, name: moderator.name };
}

function forbiddenToSend(participant: Participant): RelaisError {
  return new RelaisError('FORBIDDEN', `Your role (${participant.role}) does not allow you to send media.`);
}
