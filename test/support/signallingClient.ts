import { io, type Socket } from 'socket.io-client';
import type {
  Ack,
  Notifications,
  NotificationName,
  RequestName,
  RequestResults,
  WireError,
} from '../../server/src/signalling/catalog.js';

export class RequestError extends Error {
  constructor(readonly error: WireError) {
    super(`${error.code}: ${error.message}`);
  }
}

/** A real socket.io-client speaking the catalog, for integration tests. */
export class SignallingClient {
  readonly notifications: { name: string; payload: unknown }[] = [];

  private constructor(readonly socket: Socket) {
    socket.onAny((name: string, payload: unknown) => this.notifications.push({ name, payload }));
  }

  /** `ca` trusts a test certificate authority for wss:// connections. */
  static connect(url: string, token: unknown, options: { ca?: string } = {}): Promise<SignallingClient> {
    const socket = io(url, {
      auth: { token },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      ...options,
    });
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve(new SignallingClient(socket)));
      socket.once('connect_error', (error: Error & { data?: WireError }) => {
        socket.close();
        reject(error.data ? new RequestError(error.data) : error);
      });
    });
  }

  /** Sends a request and resolves with its data, or rejects with the server's typed error. */
  async request<N extends RequestName>(name: N, payload: unknown = {}): Promise<RequestResults[N]> {
    const response = (await this.socket.timeout(20_000).emitWithAck(name, payload)) as Ack<N>;
    if (!response.ok) throw new RequestError(response.error);
    return response.data;
  }

  /** The error a request is refused with (fails the test if it succeeds). */
  async refusal(name: string, payload: unknown = {}): Promise<WireError> {
    const response = (await this.socket.timeout(20_000).emitWithAck(name, payload)) as Ack<RequestName>;
    if (response.ok) throw new Error(`${name} unexpectedly succeeded`);
    return response.error;
  }

  next<N extends NotificationName>(
    name: N,
    match: (payload: Notifications[N]) => boolean = () => true,
    timeoutMs = 15_000,
  ): Promise<Notifications[N]> {
    const seen = this.notifications.find((n) => n.name === name && match(n.payload as Notifications[N]));
    if (seen) return Promise.resolve(seen.payload as Notifications[N]);
    return new Promise((resolve, reject) => {
      const socket = this.socket as unknown as {
        on(e: string, l: (p: never) => void): void;
        off(e: string, l: (p: never) => void): void;
      };
      const timer = setTimeout(() => {
        socket.off(name, handler);
        reject(new Error(`no ${name} notification within ${timeoutMs} ms`));
      }, timeoutMs);
      const handler = (payload: Notifications[N]): void => {
        if (!match(payload)) return;
        clearTimeout(timer);
        socket.off(name, handler);
        resolve(payload);
      };
      socket.on(name, handler);
    });
  }

  close(): void {
    this.socket.close();
  }
}
