import { RelaisError } from '../domain/errors.js';
import type { RefusalReason } from '../domain/sessionEnd.js';

/**
 * Why a token was refused: the stable `reason` a client branches on, and a message for people
 * and logs (it never quotes the token).
 */
export class TokenRefused extends RelaisError {
  constructor(
    readonly reason: RefusalReason,
    message: string,
  ) {
    super('UNAUTHORIZED', message);
    this.name = 'TokenRefused';
  }
}
