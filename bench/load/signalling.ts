import { io, type Socket } from 'socket.io-client';

export interface Ack {
  ok: boolean;
  data?: unknown;
  error?: { code: string; message: string };
}

/** A lean catalog client for the generator: requests with acks, and notification hooks. */
export class LoadSignalling {
  private constructor(readonly socket: Socket) {}

  static connect(url: string, token: string, timeoutMs = 20_000): Promise<LoadSignalling> {
    const target = new URL(url);
    if (target.hostname !== '127.0.0.1' && target.hostname !== 'localhost' && target.hostname !== '[::1]') {
      return Promise.reject(new Error(`the load generator only targets loopback, not ${target.hostname}`));
    }
    const socket = io(url, {
      auth: { token },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      timeout: timeoutMs,
    });
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve(new LoadSignalling(socket)));
      socket.once('connect_error', (error: Error & { data?: { code: string; message: string } }) => {
        socket.close();
        reject(new Error(error.data ? `${error.data.code}: ${error.data.message}` : error.message));
      });
    });
  }

  async request<T>(name: string, payload: unknown = {}): Promise<T> {
    const response = (await this.socket.timeout(20_000).emitWithAck(name, payload)) as Ack;
    if (!response.ok) throw new Error(`${name}: ${response.error?.code}: ${response.error?.message}`);
    return response.data as T;
  }

  on(name: string, listener: (payload: unknown) => void): void {
    this.socket.on(name, listener);
  }

  close(): void {
    this.socket.close();
  }
}
