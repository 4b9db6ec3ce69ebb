import type { Server } from 'socket.io';
import type { EventActor, RoomEvent } from '../domain/roomEvents.js';
import type { LobbyEntry, SharedRoomState } from '../domain/sharedRoomState.js';
import { audit, type Logger } from '../observability/logger.js';
import type { Audience } from './Audience.js';
import type { IncomingEvents, LobbyView, ServerToClientEvents } from './catalog.js';
import type { ClientConnection } from './ClientConnection.js';

type Io = Server<IncomingEvents, ServerToClientEvents>;

/** The channel of one person waiting in a room's lobby (on whichever node holds them). */
function lobbyChannel(roomId: string, sub: string): string {
  return `room:${roomId}:lobby:${sub}`;
}

/** Who waits, first come first, as moderators see them. */
export function lobbyViews(entries: LobbyEntry[]): LobbyView[] {
  return entries
    .sort((a, b) => a.since - b.since)
    .map((entry) => ({ id: entry.sub, name: entry.name, role: entry.role, since: entry.since }));
}

/**
 * A room's lobby as one node holds it: the connections waiting here (the owner of their
 * waiting state), the shared list every node's moderators see, and the decisions that reach a
 * waiting person wherever they are connected (through Socket.IO's adapter, like the roster).
 */
export class RoomLobby {
  private readonly waiting = new Map<string, ClientConnection>();

  constructor(
    private readonly roomId: string,
    private readonly nodeId: string,
    private readonly io: Io,
    private readonly state: SharedRoomState,
    private readonly audience: Audience,
    private readonly logger: Logger,
    /** Into the register and to the webhooks. */
    private readonly tell: (event: RoomEvent) => void,
  ) {}

  /** How many wait through this node (the room stays open for them). */
  get size(): number {
    return this.waiting.size;
  }

  /** Those waiting through this node. */
  all(): ClientConnection[] {
    return [...this.waiting.values()];
  }

  /** A newcomer the policy keeps waiting: in the lobby, seen by the moderators on every node. */
  async wait(connection: ClientConnection): Promise<void> {
    const { claims } = connection;
    const first = !connection.waiting;
    connection.waiting = true;
    this.waiting.set(connection.participantId, connection);
    await this.state.enterLobby(this.roomId, {
      sub: connection.participantId,
      name: claims.name,
      role: claims.role,
      since: Date.now(),
      node: this.nodeId,
    });
    await connection.socket.join(lobbyChannel(this.roomId, connection.participantId));
    if (first) {
      audit(connection.logger, 'lobby.waiting');
      await this.changed();
    }
  }

  /** Waits no more here: admitted into the room (the shared state removed the entry with the join). */
  stopWaiting(connection: ClientConnection): void {
    connection.waiting = false;
    if (this.waiting.get(connection.participantId) === connection) this.waiting.delete(connection.participantId);
    void connection.socket.leave(lobbyChannel(this.roomId, connection.participantId));
  }

  /** Gave up waiting (left, disconnected, ended): out of the shared list too. */
  async leave(connection: ClientConnection): Promise<void> {
    this.stopWaiting(connection);
    await this.state.leaveLobby(this.roomId, connection.participantId, this.nodeId);
    await this.changed();
  }

  /** Who waits, first come first, as moderators see them. */
  async views(): Promise<LobbyView[]> {
    return lobbyViews(await this.state.lobby(this.roomId));
  }

  /**
   * Out of the lobby, wherever they wait: the admitted are told to join again (the shared state
   * now lets them in), the refused are told why and disconnected, and banned until the room
   * ends. Resolves with the ids decided.
   */
  async decide(
    actor: Extract<EventActor, { kind: 'moderator' }>,
    subs: string[] | 'all',
    outcome: 'admitted' | 'refused',
  ): Promise<string[]> {
    const entries = await this.state.decideLobby(this.roomId, subs, outcome);
    if (entries.length === 0) return [];
    const at = Date.now();
    for (const entry of entries) {
      const channel = lobbyChannel(this.roomId, entry.sub);
      this.tell({
        type: outcome === 'admitted' ? 'lobby.admitted' : 'lobby.refused',
        room: this.roomId,
        at,
        participant: { sub: entry.sub, name: entry.name, role: entry.role },
        waitingSince: entry.since,
        actor,
      });
      audit(this.logger, outcome === 'admitted' ? 'lobby.admitted' : 'lobby.refused', {
        target: entry.sub,
        moderator: actor.sub,
      });
      if (outcome === 'admitted') {
        this.io.to(channel).emit('lobbyAdmitted', {});
      } else {
        this.io.to(channel).emit('sessionEnded', { reason: 'refused' });
        // Through the adapter: the node holding the waiting connection closes it.
        this.io.in(channel).disconnectSockets(true);
      }
    }
    await this.changed();
    return entries.map((entry) => entry.sub);
  }

  /** The lobby changed: every moderator, on every node, gets the new list. */
  private async changed(): Promise<void> {
    this.audience.toModerators('lobbyChanged', { waiting: await this.views() });
  }
}
