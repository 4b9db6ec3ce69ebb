import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { z } from 'zod';
import { RelaisError, type ErrorCode } from '../domain/errors.js';
import { audit, type Logger } from '../observability/logger.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyRequest } from './internalAuth.js';
import {
  closePipeRequest,
  eventRequest,
  type NodeRef,
  type PipeAnswer,
  type PipeEndpoint,
  type PipeEvent,
  pipeRequest,
  unwatchRequest,
  type WatchAnswer,
  watchRequest,
} from './internalProtocol.js';
import { HTTP_STATUS } from './httpStatus.js';
import { type RoomCommand, roomCommand } from './roomCommandProtocol.js';

/** What the internal API does on this node; NodePipes provides it. */
export interface InternalBackend {
  watch(roomId: string, node: NodeRef, instance: string): WatchAnswer;
  unwatch(roomId: string, nodeId: string, instance: string): void;
  pipe(roomId: string, node: NodeRef, producerId: string, transport: PipeEndpoint): Promise<PipeAnswer>;
  closePipe(roomId: string, nodeId: string, producerId: string, transport: { ip: string; port: number }): void;
  event(roomId: string, nodeId: string, instance: string, event: PipeEvent): void;
  /** A moderation or closing about members connected here; resolves with sessions ended. */
  roomCommand(command: RoomCommand): Promise<number>;
  /** An operator asked, through another node, that this node drain; returns its sessions. */
  drain(): number;
}

function sendError(res: Response, code: ErrorCode, message: string): void {
  res.status(HTTP_STATUS[code]).json({ code, message });
}

/**
 * Node-to-node API under /internal: a node hosting a room asks each other node hosting it for
 * its producers and for pipes, and is told when they come and go there. Chosen over
 * Redis pub/sub because a pipe is a request with an answer (the other node's transport end and the
 * consumer's RTP parameters), which HTTP gives with a status and a timeout for free.
 *
 * Every request is signed (HMAC-SHA256 with a key derived from RELAIS_CLUSTER_SECRET over its
 * time, method, path and body; see internalAuth.ts); an unsigned or wrongly signed request gets
 * 401 and changes nothing. The pipes' SRTP keys travel in these bodies: run the internal
 * traffic over HTTPS or a private network. Without a cluster key the API does not exist (404).
 */
export function createInternalApi(key: Buffer | undefined, backend: InternalBackend, logger: Logger): Router {
  const router = express.Router();
  if (!key) {
    router.use((_req, res) => sendError(res, 'NOT_FOUND', 'This node is not part of a cluster.'));
    return router;
  }
  // The raw body is what was signed: nothing is parsed before the signature is checked.
  router.use(express.text({ type: () => true, limit: '64kb' }));
  router.use((req, res, next) => {
    const body = typeof req.body === 'string' ? req.body : '';
    const signed = verifyRequest(key, {
      timestamp: req.get(TIMESTAMP_HEADER),
      signature: req.get(SIGNATURE_HEADER),
      method: req.method,
      path: req.originalUrl,
      body,
    });
    if (signed) return next();
    audit(logger, 'internal.refused', { address: req.ip, method: req.method, path: req.path });
    sendError(res, 'UNAUTHORIZED', 'Internal requests must be signed with the cluster key.');
  });

  const parse = <T>(schema: z.ZodType<T>, req: Request): T => {
    let json: unknown;
    try {
      json = JSON.parse(req.body as string);
    } catch {
      throw new RelaisError('INVALID_REQUEST', 'The request body is not valid JSON.');
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success)
      throw new RelaisError('INVALID_REQUEST', `Invalid request: ${parsed.error.issues[0]?.message}`);
    return parsed.data;
  };

  router.post('/watch', (req, res) => {
    const { roomId, node, instance } = parse(watchRequest, req);
    res.json(backend.watch(roomId, node, instance));
  });
  router.post('/unwatch', (req, res) => {
    const { roomId, nodeId, instance } = parse(unwatchRequest, req);
    backend.unwatch(roomId, nodeId, instance);
    res.json({});
  });
  router.post('/pipes', async (req, res) => {
    const { roomId, node, producerId, transport } = parse(pipeRequest, req);
    res.json(await backend.pipe(roomId, node, producerId, transport));
  });
  router.post('/pipes/close', (req, res) => {
    const { roomId, nodeId, producerId, transport } = parse(closePipeRequest, req);
    backend.closePipe(roomId, nodeId, producerId, transport);
    res.json({});
  });
  router.post('/events', (req, res) => {
    const { roomId, nodeId, instance, event } = parse(eventRequest, req);
    backend.event(roomId, nodeId, instance, event);
    res.json({});
  });

  router.post('/rooms/command', async (req, res) => {
    res.json({ ended: await backend.roomCommand(parse(roomCommand, req)) });
  });

  router.post('/drain', (_req, res) => {
    res.json({ sessions: backend.drain() });
  });

  router.use((_req, res) => sendError(res, 'NOT_FOUND', 'No such internal resource.'));
  router.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (error instanceof RelaisError) return sendError(res, error.code, error.message);
    const status = (error as { status?: number }).status;
    if (status === 413) return sendError(res, 'INVALID_REQUEST', 'The request body is too large.');
    logger.error({ err: error }, 'internal request failed');
    sendError(res, 'INTERNAL', 'The node could not complete this request.');
  });
  return router;
}
