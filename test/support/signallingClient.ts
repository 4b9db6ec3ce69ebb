import { io, type Socket } from 'socket.io-client';
import type {
  Ack,
  ClientToServerEvents,
  HandshakeRefusal,
  JoinResult,
  NotificationName,
  Notifications,
  RefusalReason,
  RequestName,
  RequestPayload,
  RequestResults,
  ServerToClientEvents,
  WireError,
} from '../../server/src/signalling/catalog.js';
import {
  type AckingSocket,
  handshakeRefusal,
  RequestFailed,
  sendRequest,
} from '../../server/src/signalling/catalogRequest.js';

export { RequestFailed };

/** A refused handshake: `error` is the server's `{ code, message, reason }`; tests decide on `reason`. */
export class HandshakeRefused extends RequestFailed {
  declare readonly error: HandshakeRefusal;
  readonly reason: RefusalReason;

  constructor(refusal: HandshakeRefusal) {
    super(refusal);
    this.name = 'HandshakeRefused';
    this.reason = refusal.reason;
  }
}

/** One notification as received: the name tells the payload's type. */
export type ReceivedNotification = {
  [N in NotificationName]: { name: N; payload: Notifications[N] };
}[NotificationName];

export type CatalogSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

const REQUEST_TIMEOUT_MS = 20_000;

/** A real socket.io-client speaking the catalog, for integration tests. */
export class SignallingClient {
  /** Every notification received, in order. */
  readonly notifications: ReceivedNotification[] = [];
  private readonly waiters = new Set<(notification: ReceivedNotification) => void>();

  private constructor(readonly socket: CatalogSocket) {
    socket.onAny((name: string, payload: unknown) => {
      // Only the server sends here, and it sends catalog notifications only.
      const notification = { name, payload } as ReceivedNotification;
      this.notifications.push(notification);
      for (const waiter of [...this.waiters]) waiter(notification);
    });
  }

  /** `ca` trusts a test certificate authority for wss:// connections. */
  static connect(url: string, token: unknown, options: { ca?: string } = {}): Promise<SignallingClient> {
    const socket: CatalogSocket = io(url, {
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
        const refusal = handshakeRefusal(error);
        reject(refusal ? new HandshakeRefused(refusal) : error.data ? new RequestFailed(error.data) : error);
      });
    });
  }

  /**
   * Connects with `token` and joins its room with the router's own capabilities: how a
   * signalling test enters a room. The socket is closed if the join fails.
   */
  static async join(
    url: string,
    token: string,
    options: { ca?: string } = {},
  ): Promise<{ client: SignallingClient; joined: JoinResult }> {
    const client = await SignallingClient.connect(url, token, options);
    try {
      const { rtpCapabilities } = await client.request('getRouterRtpCapabilities', {});
      const joined = await client.request('join', { rtpCapabilities });
      return { client, joined };
    } catch (error) {
      client.close();
      throw error;
    }
  }

  /** Sends `join` as a page does (the router's own capabilities); resolves with the refusal's code, or 'joined'. */
  async tryJoin(): Promise<string> {
    const { rtpCapabilities } = await this.request('getRouterRtpCapabilities', {});
    try {
      await this.request('join', { rtpCapabilities });
      return 'joined';
    } catch (error) {
      if (error instanceof RequestFailed) return error.error.code;
      throw error;
    }
  }

  /** Sends a request and resolves with its data, or rejects with `RequestFailed` (the wire error in `.error`). */
  request<N extends RequestName>(name: N, payload: RequestPayload<N>): Promise<RequestResults[N]> {
    return sendRequest(this.socket, name, payload, REQUEST_TIMEOUT_MS);
  }

  /** The error a well-formed request is refused with (not allowed, not found…); fails if it succeeds. */
  async requestRefused<N extends RequestName>(name: N, payload: RequestPayload<N>): Promise<WireError> {
    try {
      await this.request(name, payload);
    } catch (error) {
      if (error instanceof RequestFailed) return error.error;
      throw error;
    }
    throw new Error(`${name} unexpectedly succeeded`);
  }

  /** The deliberately untyped path, for bad input: the error a request is refused with (fails if it succeeds). */
  async refusal(name: string, payload: unknown): Promise<WireError> {
    // Any name, any payload: seen as the structural socket, whose emit takes a plain string.
    const untyped: AckingSocket = this.socket;
    const response = (await untyped.timeout(REQUEST_TIMEOUT_MS).emitWithAck(name, payload)) as Ack<RequestName>;
    if (response.ok) throw new Error(`${name} unexpectedly succeeded`);
    return response.error;
  }

  /** The payloads of every `name` notification received so far, in order. */
  received<N extends NotificationName>(name: N): Notifications[N][] {
    return this.notifications.flatMap((n) => (n.name === name ? [n.payload as Notifications[N]] : []));
  }

  /** The first `name` notification matching `match`, already received or still to come. */
  next<N extends NotificationName>(
    name: N,
    match: (payload: Notifications[N]) => boolean = () => true,
    timeoutMs = 15_000,
  ): Promise<Notifications[N]> {
    const seen = this.received(name).find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = (notification: ReceivedNotification): void => {
        if (notification.name !== name) return;
        const payload = notification.payload as Notifications[N];
        if (!match(payload)) return;
        clearTimeout(timer);
        this.waiters.delete(waiter);
        resolve(payload);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`no ${name} notification within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  close(): void {
    this.socket.close();
  }
}
