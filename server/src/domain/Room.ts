import { conflict, forbidden, notFound, RelaisError } from './errors.js';
import { Participant, type ParticipantIdentity } from './Participant.js';
import { chatTextProblem, MAX_CHAT_LENGTH } from './chat.js';
import { ROLES, type Permissions, type Role } from './roles.js';

export interface RoomLimits {
  maxParticipants: number;
}

/** One open room as operators see it: counts only, no names or ids. */
export interface RoomOverview {
  id: string;
  participants: number;
  byRole: Record<Role, number>;
}

/**
 * Membership and moderation of one room. Knows nothing of sockets or media: adapters ask
 * it whether something is allowed, then act.
 */
export class Room {
  readonly id: string;
  private readonly participants = new Map<string, Participant>();
  private readonly limits: RoomLimits;

  constructor(id: string, limits: RoomLimits) {
    this.id = id;
    this.limits = limits;
  }

  get size(): number {
    return this.participants.size;
  }

  get isEmpty(): boolean {
    return this.participants.size === 0;
  }

  all(): Participant[] {
    return [...this.participants.values()];
  }

  /** Who is here, by role, for operators. */
  overview(): RoomOverview {
    const byRole = Object.fromEntries(ROLES.map((role) => [role, 0])) as Record<Role, number>;
    for (const participant of this.participants.values()) byRole[participant.role] += 1;
    return { id: this.id, participants: this.participants.size, byRole };
  }

  get(participantId: string): Participant {
    const participant = this.participants.get(participantId);
    if (!participant) throw notFound(`No participant ${participantId} in room ${this.id}.`);
    return participant;
  }

  join(identity: ParticipantIdentity, now = Date.now()): Participant {
    if (this.participants.has(identity.id)) {
      throw conflict(`Participant ${identity.id} is already in room ${this.id}.`);
    }
    if (this.participants.size >= this.limits.maxParticipants) {
      throw new RelaisError('CONFLICT', `Room ${this.id} is full (${this.limits.maxParticipants} participants).`);
    }
    const participant = new Participant(identity, now);
    this.participants.set(participant.id, participant);
    return participant;
  }

  leave(participantId: string): boolean {
    return this.participants.delete(participantId);
  }

  assertAllowed(participantId: string, permission: keyof Permissions, what: string): Participant {
    const participant = this.get(participantId);
    if (!participant.can(permission)) {
      throw forbidden(`Your role (${participant.role}) does not allow you to ${what}.`);
    }
    return participant;
  }

  setHand(participantId: string, raised: boolean): Participant {
    const participant = this.assertAllowed(participantId, 'raiseHand', 'raise your hand');
    participant.handRaised = raised;
    return participant;
  }

  has(participantId: string): boolean {
    return this.participants.has(participantId);
  }

  /**
   * A moderator acting on someone else, who may be connected to another node of the cluster
   * (so is not necessarily in this node's room).
   */
  assertModerator(moderatorId: string, targetId: string, what: string): Participant {
    const moderator = this.assertAllowed(moderatorId, 'moderate', what);
    if (moderatorId === targetId) throw forbidden(`You cannot ${what} yourself.`);
    return moderator;
  }

  /** A moderator acting on someone else in the room. */
  moderate(moderatorId: string, targetId: string, what: string): Participant {
    this.assertModerator(moderatorId, targetId, what);
    return this.get(targetId);
  }

  grantFloor(moderatorId: string, targetId: string): Participant {
    this.assertModerator(moderatorId, targetId, 'give the floor');
    return this.giveFloor(targetId);
  }

  /** The floor given to a member of this node's room (the moderator was checked where they are). */
  giveFloor(targetId: string): Participant {
    const target = this.get(targetId);
    // A token's explicit publishAudio: false is a ceiling; say so rather than grant a floor that does nothing.
    if (!target.mayTakeFloor) {
      throw forbidden("This participant's access does not allow speaking: the floor cannot be given to them.");
    }
    target.hasFloor = true;
    target.handRaised = false;
    return target;
  }

  revokeFloor(moderatorId: string, targetId: string): Participant {
    this.assertModerator(moderatorId, targetId, 'take the floor back');
    return this.takeFloor(targetId);
  }

  takeFloor(targetId: string): Participant {
    const target = this.get(targetId);
    target.hasFloor = false;
    return target;
  }

  /** A moderator changed a member's role: the floor, a listener's extra, goes with the old role. */
  changeRole(targetId: string, role: Role): Participant {
    const target = this.get(targetId);
    target.role = role;
    target.hasFloor = false;
    return target;
  }

  checkChat(participantId: string, text: string): Participant {
    const participant = this.assertAllowed(participantId, 'chat', 'send chat messages');
    const problem = chatTextProblem(text);
    if (problem === 'empty') throw new RelaisError('INVALID_REQUEST', 'A chat message cannot be empty.');
    if (problem === 'too-long') {
      throw new RelaisError('INVALID_REQUEST', `A chat message is limited to ${MAX_CHAT_LENGTH} characters.`);
    }
    return participant;
  }
}
