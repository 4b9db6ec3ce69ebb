import pino, { type Logger } from 'pino';

export type { Logger };

/** Field names whose values never reach a log line, wherever they appear. */
const REDACTED = [
  'token',
  '*.token',
  'auth.token',
  'handshake.auth',
  'secret',
  '*.secret',
  'key',
  '*.key',
  'password',
  '*.password',
  'authorization',
  '*.authorization',
  'sdp',
  '*.sdp',
  'dtlsParameters',
  '*.dtlsParameters',
  // TURN passwords (a join result's ICE servers).
  'credential',
  '*.credential',
  'iceServers[*].credential',
  '*.iceServers[*].credential',
];

export interface LoggerOptions {
  level: string;
  pretty: boolean;
  /** Tests capture the JSON lines here instead of stdout. */
  destination?: pino.DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const base = { level: options.level, redact: { paths: REDACTED, censor: '[redacted]' }, base: { service: 'relais' } };
  if (options.destination) return pino(base, options.destination);
  if (options.pretty) {
    return pino({
      ...base,
      transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,service' } },
    });
  }
  return pino(base);
}

/** Audit events are ordinary log lines with `audit: true` and a stable `event` name. */
export type AuditEvent =
  | 'auth.failed'
  | 'participant.joined'
  | 'participant.left'
  | 'participant.replaced'
  | 'participant.removed'
  | 'participant.muted'
  | 'floor.granted'
  | 'floor.revoked'
  | 'session.expired'
  | 'session.rate-limited'
  | 'admin.refused'
  | 'internal.refused'
  | 'token.revoked'
  | 'token.revoked.elsewhere'
  | 'room.closed'
  | 'node.draining'
  | 'node.drained'
  | 'node.drain.requested'
  | 'attendance.exported'
  | 'lobby.waiting'
  | 'lobby.admitted'
  | 'lobby.refused'
  | 'room.policy'
  | 'room.muted-all'
  | 'room.hands-lowered'
  | 'room.ended-for-all'
  | 'room.spotlight'
  | 'participant.role-changed';

/**
 * Writes an audit event. Each key appears once per JSON line, or log pipelines keep one value
 * at random: a field the logger already binds (`room`, `participant`, `role` of a child logger)
 * is not written again. The other person an event is about goes in `target`.
 */
export function audit(logger: Logger, event: AuditEvent, fields: Record<string, unknown> = {}, message?: string): void {
  const bound = logger.bindings();
  const own = Object.fromEntries(Object.entries(fields).filter(([key]) => !Object.hasOwn(bound, key)));
  logger.info({ audit: true, event, ...own }, message ?? event);
}
