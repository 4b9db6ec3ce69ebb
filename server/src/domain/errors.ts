/** The stable error codes a client may see. Clients branch on `code`, people read `message`. */
export const ERROR_CODES = [
  'UNAUTHORIZED',
  'FORBIDDEN',
  'INVALID_REQUEST',
  'NOT_FOUND',
  'RATE_LIMITED',
  'CONFLICT',
  'INTERNAL',
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
