/**
 * Roles and what each may do: the one table the whole server consults.
 * A token may narrow a role with explicit grants, never widen it.
 */
export const ROLES = ['moderator', 'speaker', 'listener'] as const;
export type Role = (typeof ROLES)[number];

export const MEDIA_SOURCES = ['mic', 'camera', 'screen'] as const;
export type MediaSource = (typeof MEDIA_SOURCES)[number];

export interface Permissions {
  publishAudio: boolean;
  publishVideo: boolean;
  publishScreen: boolean;
  chat: boolean;
  raiseHand: boolean;
  /** Mute others, remove them, give and take the floor. */
  moderate: boolean;
  /** See every participant by name (listeners of a large briefing only see counts). */
  seeParticipantList: boolean;
}

export const ROLE_PERMISSIONS: Readonly<Record<Role, Readonly<Permissions>>> = {
  moderator: {
    publishAudio: true,
    publishVideo: true,
    publishScreen: true,
    chat: true,
    raiseHand: true,
    moderate: true,
    seeParticipantList: true,
  },
  speaker: {
    publishAudio: true,
    publishVideo: true,
    publishScreen: true,
    chat: true,
    raiseHand: true,
    moderate: false,
    seeParticipantList: true,
  },
  listener: {
    publishAudio: false,
    publishVideo: false,
    publishScreen: false,
    chat: true,
    raiseHand: true,
    moderate: false,
    seeParticipantList: false,
  },
};

/**
 * Fine grants a token may carry; each can only switch a role's permission off. An explicit
 * `false` is a ceiling: nothing during the meeting (not even the floor) lifts it.
 */
export type Grants = Partial<Pick<Permissions, 'publishAudio' | 'publishVideo' | 'publishScreen' | 'chat'>>;

/** What a participant's situation in the meeting adds to their role. */
export interface Standing {
  /** Given the floor by a moderator: may publish audio, unless the token forbids it. */
  hasFloor?: boolean;
}

export function permissionsFor(role: Role, grants: Grants = {}, standing: Standing = {}): Permissions {
  const base = ROLE_PERMISSIONS[role];
  return {
    ...base,
    publishAudio: (base.publishAudio || standing.hasFloor === true) && grants.publishAudio !== false,
    publishVideo: base.publishVideo && grants.publishVideo !== false,
    publishScreen: base.publishScreen && grants.publishScreen !== false,
    chat: base.chat && grants.chat !== false,
  };
}

/** Whether giving the floor would let this participant speak: not when the token says `publishAudio: false`. */
export function floorAllowed(grants: Grants = {}): boolean {
  return grants.publishAudio !== false;
}

export function permissionToPublish(source: MediaSource): keyof Permissions {
  switch (source) {
    case 'mic':
      return 'publishAudio';
    case 'camera':
      return 'publishVideo';
    case 'screen':
      return 'publishScreen';
  }
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** Before joining, a client may do nothing. */
export const NO_PERMISSIONS: Readonly<Permissions> = {
  publishAudio: false,
  publishVideo: false,
  publishScreen: false,
  chat: false,
  raiseHand: false,
  moderate: false,
  seeParticipantList: false,
};
