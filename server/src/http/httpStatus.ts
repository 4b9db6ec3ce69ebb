import type { ErrorCode } from '../domain/errors.js';

/** The HTTP status each stable error code answers with, on every HTTP API relais serves. */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  INVALID_REQUEST: 400,
  NOT_FOUND: 404,
  RATE_LIMITED: 429,
  CONFLICT: 409,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  REDIRECT: 307,
  IN_LOBBY: 403,
  ROOM_LOCKED: 403,
  BANNED: 403,
};
