import type { z } from 'zod';
import { ERROR_CODES, type ErrorCode, RelaisError } from '../domain/errors.js';
import type { PeerLink } from '../media/nodePipeTypes.js';
import { SIGNATURE_HEADER, signRequest, TIMESTAMP_HEADER } from './internalAuth.js';
import {
  type NodeRef,
  type PipeAnswer,
  type PipeEndpoint,
  type PipeEvent,
  pipeAnswer,
  type WatchAnswer,
  watchAnswer,
} from './internalProtocol.js';

const REQUEST_TIMEOUT_MS = 5_000;

/**
 * Calls other nodes' internal API, each request signed with the cluster key. Answers are
 * validated like requests: another node is trusted to be a node, not to be bug-free.
 */
export class InternalClient {
  constructor(
    private readonly key: Buffer,
    /** This node (its URL is known once its HTTP server listens). */
    private readonly self: () => NodeRef,
  ) {}

  async post<T>(node: NodeRef, path: string, body: unknown, answer?: z.ZodType<T>): Promise<T | undefined> {
    const text = JSON.stringify(body);
    const timestamp = String(Date.now());
    const response = await fetch(new URL(path, node.url), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [TIMESTAMP_HEADER]: timestamp,
        [SIGNATURE_HEADER]: signRequest(this.key, timestamp, 'POST', path, text),
      },
      body: text,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const raw: unknown = await response.json().catch(() => undefined);
    if (!response.ok) {
      const { code, message } = (raw ?? {}) as { code?: unknown; message?: unknown };
      // A refusal the other node decided (the floor's ceiling, someone who left) keeps its code.
      if (isErrorCode(code) && code !== 'INTERNAL' && typeof message === 'string') throw new RelaisError(code, message);
      throw new Error(
        `node ${node.id} answered ${response.status} to ${path}${typeof message === 'string' ? `: ${message}` : ''}`,
      );
    }
    return answer ? answer.parse(raw) : undefined;
  }

  /** The link to another node hosting a room. */
  linkTo(peer: NodeRef): PeerLink {
    return {
      nodeId: peer.id,
      watch: async (roomId, instance): Promise<WatchAnswer> => {
        const answer = await this.post(peer, '/internal/watch', { roomId, node: this.self(), instance }, watchAnswer);
        return answer ?? { producers: [] };
      },
      pipe: async (roomId, producerId, transport: PipeEndpoint): Promise<PipeAnswer> => {
        const answer = await this.post(
          peer,
          '/internal/pipes',
          { roomId, node: this.self(), producerId, transport },
          pipeAnswer,
        );
        if (!answer) throw new Error('no pipe answer');
        return answer;
      },
      closePipe: async (roomId, producerId, transport) => {
        await this.post(peer, '/internal/pipes/close', { roomId, nodeId: this.self().id, producerId, transport });
      },
      unwatch: async (roomId, instance) => {
        await this.post(peer, '/internal/unwatch', { roomId, nodeId: this.self().id, instance });
      },
    };
  }

  /** Tells a watching node about a producer of this node's opening `instance` of a room. */
  async notify(node: NodeRef, roomId: string, instance: string, event: PipeEvent): Promise<void> {
    await this.post(node, '/internal/events', { roomId, nodeId: this.self().id, instance, event });
  }
}

function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && (ERROR_CODES as readonly string[]).includes(code);
}
