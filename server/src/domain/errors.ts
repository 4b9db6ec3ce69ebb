/** The stable error codes a client may see. Clients branch on `code`, people read `message`. */
export const ERROR_CODES = [
  'UNAUTHORIZED',
  'FORBIDDEN',
  'INVALID_REQUEST',
  'NOT_FOUND',
  'RATE_LIMITED',
  'CONFLICT',
  'INTERNAL',
  /** The cluster's shared state (Redis) cannot be reached: try again shortly. */
  'UNAVAILABLE',
  /** This node takes no new participants (full or draining): join at `redirect.url` instead. */
  'REDIRECT',
  /** You wait in the room's lobby: a moderator lets you in (`lobbyAdmitted`) or refuses you. */
  'IN_LOBBY',
  /** The room is locked: nobody new enters. */
  'ROOM_LOCKED',
  /** You were refused or removed: you cannot come back until the room ends. */
  'BANNED',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class RelaisError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'RelaisError';
    this.code = code;
  }
}

export const forbidden = (message: string): RelaisError => new RelaisError('FORBIDDEN', message);
export const notFound = (message: string): RelaisError => new RelaisError('NOT_FOUND', message);
export const invalid = (message: string): RelaisError => new RelaisError('INVALID_REQUEST', message);
export const conflict = (message: string): RelaisError => new RelaisError('CONFLICT', message);

/** Where a refused join should go instead: another node of the cluster. */
export interface RedirectTarget {
  /** The node's public URL, where the page and the signalling live. */
  url: string;
  node: string;
}

/** A join this node will not take, with the node that will. */
export class RedirectError extends RelaisError {
  constructor(
    readonly target: RedirectTarget,
    message: string,
  ) {
    super('REDIRECT', message);
  }
}
