/**
 * The one typed way a client sends a catalog request: the web client, the test client and the
 * load generator all go through `sendRequest`, so a field renamed in the catalog fails their
 * typecheck. Structural socket type: no Socket.IO import, usable in the browser and in Node.
 */
import type {
  Ack,
  ErrorCode,
  HandshakeRefusal,
  RequestName,
  RequestPayload,
  RequestResults,
  WireError,
} from './catalog.js';

/** What `sendRequest` needs of a Socket.IO client socket. */
export interface AckingSocket {
  timeout(ms: number): { emitWithAck(event: string, payload: unknown): Promise<unknown> };
}

/** A request the server answered with `{ ok: false }`: `code` is for code, `message` for people. */
export class RequestFailed extends Error {
  readonly code: ErrorCode;

  constructor(readonly error: WireError) {
    super(`${error.code}: ${error.message}`);
    this.name = 'RequestFailed';
    this.code = error.code;
  }
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 20_000;

export async function sendRequest<N extends RequestName>(
  socket: AckingSocket,
  name: N,
  payload: RequestPayload<N>,
  timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
): Promise<RequestResults[N]> {
  const response = (await socket.timeout(timeoutMs).emitWithAck(name, payload)) as Ack<N>;
  if (!response.ok) throw new RequestFailed(response.error);
  return response.data;
}

/** The server's refusal carried by a `connect_error`, if that is what it is. */
export function handshakeRefusal(error: unknown): HandshakeRefusal | undefined {
  const data = (error as { data?: unknown } | null)?.data;
  if (typeof data !== 'object' || data === null) return undefined;
  const { code, message, reason } = data as Partial<HandshakeRefusal>;
  if (typeof code !== 'string' || typeof message !== 'string' || typeof reason !== 'string') return undefined;
  return { code, message, reason };
}
