import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { ROOM_ID_PATTERN } from '../auth/claims.js';
import type { Revocation, RevocationTarget } from '../auth/revocations.js';
import type { RegisteredNode } from '../cluster/NodeRegistry.js';
import type { AttendanceRegister } from '../domain/AttendanceRegister.js';
import { RelaisError, type ErrorCode } from '../domain/errors.js';
import type { SharedRoomOverview } from '../domain/sharedRoomState.js';
import { audit, type Logger } from '../observability/logger.js';
import { HTTP_STATUS } from './httpStatus.js';

/** What the admin API needs from the running server; the composition root provides it. */
export interface AdminBackend {
  revocations: {
    /** Stored where every node sees it; fails, storing nothing, when that is not possible. */
    revoke(target: RevocationTarget, options?: { reason?: string }): Promise<Revocation>;
    readonly mirror: { list(): Revocation[] };
  };
  /** Ends the live sessions a new revocation applies to; returns how many. */
  endRevokedSessions(entry: Revocation): number;
  /** Every room with someone in it, on every node of the cluster. */
  rooms(): Promise<SharedRoomOverview[]>;
  /** Ends every session of the room, on every node; returns how many. */
  closeRoom(roomId: string): Promise<number>;
  /** The room's attendance register, from every node's entries (empty when the room is not live). */
  attendance(roomId: string): Promise<AttendanceRegister>;
  /** The live nodes of the cluster (this one alone without Redis). */
  nodes(): Promise<RegisteredNode[]>;
  /** Drains a node (this one or another): resolves at once with its sessions then. */
  drainNode(nodeId: string): Promise<{ node: string; sessions: number }>;
}

const idText = z.string().trim().min(1).max(200);
const revocationBody = z.union([
  z.object({ jti: idText, reason: z.string().trim().max(200).optional() }).strict(),
  z.object({ sub: idText, reason: z.string().trim().max(200).optional() }).strict(),
]);

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function sendError(res: Response, code: ErrorCode, message: string): void {
  res.status(HTTP_STATUS[code]).json({ code, message });
}

function view(entry: Revocation) {
  return {
    ...entry.target,
    revokedAt: new Date(entry.revokedAt).toISOString(),
    forgetAt: new Date(entry.forgetAt).toISOString(),
    ...(entry.reason ? { reason: entry.reason } : {}),
  };
}

/**
 * The operators' HTTP API under /admin, behind a bearer key (RELAIS_ADMIN_KEY). Without a key
 * configured it does not exist: every /admin path answers 404. Errors are `{ code, message }`
 * with the same stable codes as signalling.
 */
export function createAdminApi(adminKey: string | undefined, backend: AdminBackend, logger: Logger): Router {
  const router = express.Router();
  router.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  if (!adminKey) {
    router.use((_req, res) =>
      sendError(res, 'NOT_FOUND', 'The admin API is disabled on this server (RELAIS_ADMIN_KEY is not set).'),
    );
    return router;
  }
  const expected = digest(adminKey);
  router.use((req, res, next) => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    // Hashing first gives equal lengths, so the comparison time says nothing about the key.
    if (match?.[1] !== undefined && timingSafeEqual(digest(match[1]), expected)) return next();
    audit(logger, 'admin.refused', { address: req.ip, method: req.method, path: req.path });
    sendError(res, 'UNAUTHORIZED', 'The admin API needs "Authorization: Bearer <RELAIS_ADMIN_KEY>".');
  });
  router.use(express.json({ limit: '4kb', strict: true }));

  router.get('/rooms', async (_req, res) => {
    res.json({ rooms: await backend.rooms() });
  });

  // Ends a meeting for everyone in it (a compromised or finished room). Their tokens stay valid:
  // revoke them too if they must not come back.
  router.delete('/rooms/:room', async (req, res) => {
    const roomId = req.params.room ?? '';
    if (!ROOM_ID_PATTERN.test(roomId)) {
      sendError(res, 'INVALID_REQUEST', 'A room id is 1-64 characters of A-Z a-z 0-9 _ . -');
      return;
    }
    const sessionsEnded = await backend.closeRoom(roomId);
    if (sessionsEnded === 0) {
      sendError(res, 'NOT_FOUND', `Nobody is connected to room "${roomId}".`);
      return;
    }
    audit(logger, 'room.closed', { room: roomId, sessionsEnded, address: req.ip });
    res.json({ room: roomId, sessionsEnded });
  });

  // Who was there: JSON by default, ?format=csv for a spreadsheet. Gone once the room has ended.
  router.get('/rooms/:room/attendance', async (req, res) => {
    const roomId = req.params.room ?? '';
    const format = req.query.format ?? 'json';
    if (!ROOM_ID_PATTERN.test(roomId)) {
      sendError(res, 'INVALID_REQUEST', 'A room id is 1-64 characters of A-Z a-z 0-9 _ . -');
      return;
    }
    if (format !== 'json' && format !== 'csv') {
      sendError(res, 'INVALID_REQUEST', 'format is json (the default) or csv.');
      return;
    }
    const register = await backend.attendance(roomId);
    const json = register.toJson();
    if (json.startedAt === null) {
      sendError(res, 'NOT_FOUND', `Room "${roomId}" is not live: its register ended with it.`);
      return;
    }
    audit(logger, 'attendance.exported', { room: roomId, format, address: req.ip });
    if (format === 'csv') {
      res
        .type('text/csv; charset=utf-8')
        .attachment(`attendance-${roomId}.csv`)
        .send(register.toCsv({ excelBom: true }));
      return;
    }
    res.json(json);
  });

  router.get('/nodes', async (_req, res) => {
    const nodes = await backend.nodes();
    res.json({
      nodes: nodes.map((node) => ({ ...node, seenAt: new Date(node.seenAt).toISOString() })),
    });
  });

  // Takes a node out of service gently: no newcomers, its participants moved to other nodes at a
  // bounded rate, then it stops (RELAIS_DRAIN_TIMEOUT at most).
  router.post('/nodes/:node/drain', async (req, res) => {
    const nodeId = req.params.node ?? '';
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(nodeId)) {
      sendError(res, 'INVALID_REQUEST', 'A node id is 1-64 characters of A-Z a-z 0-9 _ . -');
      return;
    }
    const answer = await backend.drainNode(nodeId);
    audit(logger, 'node.drain.requested', { node: nodeId, sessions: answer.sessions, address: req.ip });
    res.status(202).json({ ...answer, state: 'draining' });
  });

  router.get('/revocations', (_req, res) => {
    res.json({ revocations: backend.revocations.mirror.list().map(view) });
  });

  router.post('/revocations', async (req, res) => {
    const parsed = revocationBody.safeParse(req.body);
    if (!parsed.success) {
      sendError(
        res,
        'INVALID_REQUEST',
        'Send a JSON object with either "jti" (one token) or "sub" (a person), and an optional "reason".',
      );
      return;
    }
    const { reason, ...target } = parsed.data;
    const entry = await backend.revocations.revoke(target as RevocationTarget, reason ? { reason } : {});
    const sessionsEnded = backend.endRevokedSessions(entry);
    audit(logger, 'token.revoked', { ...target, sessionsEnded, address: req.ip });
    res.status(201).json({ revocation: view(entry), sessionsEnded });
  });

  router.use((_req, res) => sendError(res, 'NOT_FOUND', 'No such admin resource.'));
  // Malformed or oversized JSON, the revocation cap, anything unforeseen: typed, nothing changed.
  router.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (error instanceof RelaisError) return sendError(res, error.code, error.message);
    const status = (error as { status?: number }).status;
    if (status === 413) return sendError(res, 'INVALID_REQUEST', 'The request body is too large (4 KB at most).');
    if (status !== undefined && status >= 400 && status < 500)
      return sendError(res, 'INVALID_REQUEST', 'The request body is not valid JSON.');
    logger.error({ err: error }, 'admin request failed');
    sendError(res, 'INTERNAL', 'The server could not complete this request.');
  });
  return router;
}
