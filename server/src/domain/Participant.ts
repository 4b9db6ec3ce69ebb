import { floorAllowed, permissionsFor, type Grants, type Permissions, type Role } from './roles.js';

export interface ParticipantIdentity {
  /** Stable user id from the token's `sub`: one live session per user and room. */
  id: string;
  name: string;
  role: Role;
  grants?: Grants;
}

/** What other members may see of a participant. */
export interface ParticipantView {
  id: string;
  name: string;
  role: Role;
  handRaised: boolean;
  hasFloor: boolean;
}

export class Participant {
  readonly id: string;
  readonly name: string;
  /** Changed live by a moderator (listener ↔ speaker ↔ moderator). */
  role: Role;
  readonly joinedAt: number;
  private readonly grants: Grants;
  handRaised = false;
  /**
   * A listener given the floor by a moderator may publish audio until it is taken back, unless
   * their token forbids it (see `mayTakeFloor`).
   */
  hasFloor = false;

  constructor(identity: ParticipantIdentity, now: number) {
    this.id = identity.id;
    this.name = identity.name;
    this.role = identity.role;
    this.grants = identity.grants ?? {};
    this.joinedAt = now;
  }

  /** The role, narrowed by the token's grants; the floor adds audio up to that ceiling, never above. */
  get permissions(): Permissions {
    return permissionsFor(this.role, this.grants, { hasFloor: this.hasFloor });
  }

  /** False when the token says `publishAudio: false`: the floor would not let them speak. */
  get mayTakeFloor(): boolean {
    return floorAllowed(this.grants);
  }

  can(permission: keyof Permissions): boolean {
    return this.permissions[permission];
  }

  view(): ParticipantView {
    return { id: this.id, name: this.name, role: this.role, handRaised: this.handRaised, hasFloor: this.hasFloor };
  }
}
