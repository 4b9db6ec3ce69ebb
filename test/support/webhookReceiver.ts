import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhook } from '../../server/src/webhooks/verifyWebhook.js';

/** One verified request: its `webhook-id`, the payload's type, time and data. */
export interface ReceivedWebhook {
  id: string;
  type: string;
  /** The payload's `timestamp` (when it happened), in ms. */
  at: number;
  data: Record<string, unknown> & { room: string };
}

/**
 * An operator's receiver on loopback: checks every request's signature over the raw body and
 * answers with `respond` (200 by default). Requests whose signature fails are counted apart.
 */
export class WebhookReceiverStub {
  /** Every verified request, retries included, in arrival order. */
  readonly requests: ReceivedWebhook[] = [];
  unverified = 0;

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(
    secret: string,
    respond: (webhook: ReceivedWebhook) => number = () => 200,
  ): Promise<WebhookReceiverStub> {
    const server = http.createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const stub = new WebhookReceiverStub(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`);
    server.on('request', (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        let webhook: ReceivedWebhook;
        try {
          const verified = verifyWebhook({ secret, headers: request.headers, body: Buffer.concat(chunks) });
          const payload = verified.payload as { type: string; timestamp: string; data: ReceivedWebhook['data'] };
          webhook = { id: verified.id, type: payload.type, at: Date.parse(payload.timestamp), data: payload.data };
        } catch {
          stub.unverified += 1;
          response.writeHead(401).end();
          return;
        }
        stub.requests.push(webhook);
        response.writeHead(respond(webhook)).end();
      });
    });
    return stub;
  }

  /** Each event once (the first attempt that reached here), in arrival order. */
  events(room?: string): ReceivedWebhook[] {
    const seen = new Set<string>();
    return this.requests.filter((webhook) => {
      if (seen.has(webhook.id) || (room !== undefined && webhook.data.room !== room)) return false;
      seen.add(webhook.id);
      return true;
    });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
