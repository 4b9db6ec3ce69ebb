import type { Server } from 'socket.io';
import type { Participant } from '../domain/Participant.js';
import type { Room } from '../domain/Room.js';
import { type SharedRoomState, viewOf } from '../domain/sharedRoomState.js';
import { isOnStage } from '../domain/stage.js';
import type { Logger } from '../observability/logger.js';
import type {
  IncomingEvents,
  NotificationName,
  Notifications,
  ParticipantView,
  ServerToClientEvents,
} from './catalog.js';
import type { RelaisSocket } from './ClientConnection.js';

type Io = Server<IncomingEvents, ServerToClientEvents>;

/** Who speaks and raised hands reach listeners within a second. */
const SUMMARY_PROMPT_MS = 1000;
/** A head count alone waits 50 ms per participant (1–30 s): a 600-person ramp costs each listener a few summaries. */
const SUMMARY_COUNT_MS_PER_PARTICIPANT = 50;
const SUMMARY_COUNT_MAX_MS = 30_000;

/** A room's moderators, on every node (Socket.IO's adapter carries it): they see the lobby. */
export function moderatorsChannel(roomId: string): string {
  return `room:${roomId}:moderators`;
}

/**
 * Who in a room hears what about the others. Those allowed to see the participant list get it
 * in full with incremental updates; the others (a briefing's listeners) get a throttled
 * `roomSummary`, so that 600 joins cost 600 × (a few messages), not 600². Everyone hears what
 * concerns the media (producers, the active speaker) and the chat.
 *
 * In a cluster the room's channels span every node (Socket.IO's Redis streams adapter carries
 * the broadcasts): the roster, hands, floor, chat and summaries reach members wherever they are
 * connected, and rosters and summaries are read from the shared room state. What concerns
 * media stays on this node (`toLocal`): each node tells its own members about the producers it
 * can serve them, once they are piped in.
 */
export class Audience {
  private summaryTimer: NodeJS.Timeout | undefined;
  private summaryDueAt = 0;
  private summaryDirty = false;

  constructor(
    private readonly io: Io,
    private readonly members: Room,
    private readonly state: SharedRoomState,
    private readonly logger: Logger,
  ) {}

  private get everyone(): string {
    return `room:${this.members.id}`;
  }

  private get fullList(): string {
    return `room:${this.members.id}:full`;
  }

  /** Moderators, on every node: they see the lobby. */
  private get moderators(): string {
    return moderatorsChannel(this.members.id);
  }

  private get summaryOnly(): string {
    return `room:${this.members.id}:summary`;
  }

  /** A member who has just joined: put on its channels, announced to those who see the list. */
  async admit(socket: RelaisSocket, participant: Participant): Promise<void> {
    const list = participant.can('seeParticipantList') ? this.fullList : this.summaryOnly;
    await socket.join([this.everyone, list, ...(participant.can('moderate') ? [this.moderators] : [])]);
    socket.to(this.fullList).emit('participantJoined', participant.view());
    this.summaryChanged(isOnStage(participant));
  }

  /** The others a newcomer is told about, on every node: everyone, or only those on stage. */
  async rosterFor(participant: Participant): Promise<ParticipantView[]> {
    const records = participant.can('seeParticipantList')
      ? await this.state.members(this.members.id)
      : await this.state.onStage(this.members.id);
    return records.filter((record) => record.id !== participant.id).map(viewOf);
  }

  /** A member whose role changed: on the channels of the new role (the list or the summary, the moderators'). */
  async regroup(socket: RelaisSocket, participant: Participant): Promise<void> {
    const sees = participant.can('seeParticipantList');
    await socket.leave(sees ? this.summaryOnly : this.fullList);
    if (!participant.can('moderate')) await socket.leave(this.moderators);
    await socket.join([
      sees ? this.fullList : this.summaryOnly,
      ...(participant.can('moderate') ? [this.moderators] : []),
    ]);
    this.summaryChanged(true);
  }

  /**
   * A member who has left (`participant` as it was). `stillInRoom`: they joined again through
   * another node, which announced them; nobody is told they left.
   */
  dismiss(socket: RelaisSocket, participant: Participant, stillInRoom = false): void {
    for (const channel of [this.everyone, this.fullList, this.summaryOnly, this.moderators]) void socket.leave(channel);
    if (stillInRoom) return;
    this.io.to(this.fullList).emit('participantLeft', { participantId: participant.id });
    this.summaryChanged(isOnStage(participant));
  }

  /** The room changed on another node or in the shared state: listeners get a fresh summary. */
  rosterChanged(): void {
    this.summaryChanged(true);
  }

  /** A member's hand or floor changed. */
  changed(participant: Participant): void {
    this.io.to(this.fullList).emit('participantUpdated', participant.view());
    this.summaryChanged(true);
  }

  /** To every member of the room, on every node. */
  toAll<N extends NotificationName>(name: N, payload: Notifications[N]): void {
    (this.io.to(this.everyone).emit as (event: string, data: unknown) => boolean)(name, payload);
  }

  /** To the room's moderators, on every node. */
  toModerators<N extends NotificationName>(name: N, payload: Notifications[N]): void {
    (this.io.to(this.moderators).emit as (event: string, data: unknown) => boolean)(name, payload);
  }

  /** To the members connected to this node (news about media this node serves them). */
  toLocal<N extends NotificationName>(name: N, payload: Notifications[N]): void {
    (this.io.local.to(this.everyone).emit as (event: string, data: unknown) => boolean)(name, payload);
  }

  /** To this node's members but the one who caused it. */
  toLocalOthers<N extends NotificationName>(socket: RelaisSocket, name: N, payload: Notifications[N]): void {
    (socket.to(this.everyone).local.emit as (event: string, data: unknown) => boolean)(name, payload);
  }

  close(): void {
    if (this.summaryTimer) clearTimeout(this.summaryTimer);
    this.summaryTimer = undefined;
  }

  /** Coalesces changes into one summary for listeners, sooner when it changes who they hear. */
  private summaryChanged(significant: boolean): void {
    this.summaryDirty = true;
    const delay = significant
      ? SUMMARY_PROMPT_MS
      : Math.min(
          SUMMARY_COUNT_MAX_MS,
          Math.max(SUMMARY_PROMPT_MS, this.members.size * SUMMARY_COUNT_MS_PER_PARTICIPANT),
        );
    const dueAt = Date.now() + delay;
    if (this.summaryTimer && this.summaryDueAt <= dueAt) return;
    if (this.summaryTimer) clearTimeout(this.summaryTimer);
    this.summaryDueAt = dueAt;
    this.summaryTimer = setTimeout(() => {
      this.summaryTimer = undefined;
      if (!this.summaryDirty || this.members.isEmpty) return;
      this.summaryDirty = false;
      // Counted over every node; sent from the node where the change happened.
      this.state
        .summary(this.members.id)
        .then((summary) => this.io.to(this.summaryOnly).emit('roomSummary', summary))
        .catch((error: unknown) => this.logger.warn({ err: error }, 'could not read the room summary'));
    }, delay);
    this.summaryTimer.unref();
  }
}
