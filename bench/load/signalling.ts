import { io, type Socket } from 'socket.io-client';
import type {
  ClientToServerEvents,
  NotificationName,
  Notifications,
  RequestName,
  RequestPayload,
  RequestResults,
  ServerToClientEvents,
  WireError,
} from '../../server/src/signalling/catalog.js';
import { RequestFailed, sendRequest } from '../../server/src/signalling/catalogRequest.js';

export type CatalogSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

const REQUEST_TIMEOUT_MS = 20_000;

/** A lean catalog client for the generator: typed requests with acks, and typed notification hooks. */
export class LoadSignalling {
  private constructor(readonly socket: CatalogSocket) {}

  static connect(url: string, token: string, timeoutMs = 20_000): Promise<LoadSignalling> {
    const target = new URL(url);
    if (target.hostname !== '127.0.0.1' && target.hostname !== 'localhost' && target.hostname !== '[::1]') {
      return Promise.reject(new Error(`the load generator only targets loopback, not ${target.hostname}`));
    }
    const socket: CatalogSocket = io(url, {
      auth: { token },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      timeout: timeoutMs,
    });
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve(new LoadSignalling(socket)));
      socket.once('connect_error', (error: Error & { data?: WireError }) => {
        socket.close();
        reject(error.data ? new RequestFailed(error.data) : error);
      });
    });
  }

  /** Resolves with the request's data; a refusal rejects with an error naming the request (the run's error tally). */
  async request<N extends RequestName>(name: N, payload: RequestPayload<N>): Promise<RequestResults[N]> {
    try {
      return await sendRequest(this.socket, name, payload, REQUEST_TIMEOUT_MS);
    } catch (error) {
      throw new Error(`${name}: ${(error as Error).message}`, { cause: error });
    }
  }

  on<N extends NotificationName>(name: N, listener: (payload: Notifications[N]) => void): void {
    // Socket.IO's typed `on` cannot take a generic name: seen structurally; this method's signature is the typed one.
    const source: { on(event: string, listener: (payload: never) => void): unknown } = this.socket;
    source.on(name, listener);
  }

  close(): void {
    this.socket.close();
  }
}
