/**
 * Typed, validated configuration. Sources, later ones winning: built-in defaults, an
 * optional JSON file (RELAIS_CONFIG_FILE, same keys as the variables), environment.
 * A bad value stops start-up with a message that names the variable.
 */
import { DEFAULT_KEYFRAME_REQUEST_DELAY_MS } from '../media/keyFrameRequests.js';
import { DEFAULT_UDP_BUFFER_BYTES } from '../media/udpBuffers.js';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { z } from 'zod';
import { DEFAULT_MAX_TOKEN_LIFETIME_SECONDS } from '../auth/tokenLifetime.js';
import { ROOM_POLICIES, type RoomPolicy } from '../domain/roomEvents.js';
import { ConfigError } from './ConfigError.js';
import { loadWebhookConfig, WEBHOOK_CONFIG_KEYS, type WebhookSettings } from './webhookConfig.js';

const DURATION_UNITS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/**
 * Seconds in an operator's duration: "90s", "30m", "24h", "1d", or a plain number of seconds.
 * Throws a message meant for that operator.
 */
export function parseDuration(text: string): number {
  const match = /^(\d+)\s*([smhd]?)$/.exec(text.trim());
  if (!match) throw new Error(`invalid duration "${text}" (use e.g. 90s, 30m, 24h, 1d)`);
  return Number(match[1]) * DURATION_UNITS[(match[2] || 's') as keyof typeof DURATION_UNITS];
}

/** A duration between `min` and `max` seconds, written as `parseDuration` reads it. */
const duration = (min: number, max: number) =>
  z.string().transform((text, context) => {
    let seconds: number;
    try {
      seconds = parseDuration(text);
    } catch (error) {
      context.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
    if (seconds < min || seconds > max) {
      context.addIssue({ code: 'custom', message: `must be between ${min}s and ${max / 86_400}d` });
      return z.NEVER;
    }
    return seconds;
  });

/**
 * RELAIS_TURN_TTL's default. coturn checks a credential when an allocation is made, not during
 * it, so a meeting outlives it; a rejoin or an ICE restart is handed fresh ones.
 */
export const DEFAULT_TURN_TTL_SECONDS = 3600;

const port = z.coerce.number().int().min(1).max(65535);
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));

export const NODE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/**
 * A `redis://` or `rediss://` URL. The messages never repeat the value: it may carry a password.
 */
const redisUrl = z.string().superRefine((text, context) => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    context.addIssue({ code: 'custom', message: 'is not a URL (use redis://[user:password@]host:port[/db])' });
    return;
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    context.addIssue({ code: 'custom', message: 'must start with redis:// or rediss:// (TLS)' });
  } else if (!url.hostname) {
    context.addIssue({ code: 'custom', message: 'names no host' });
  }
});

/** A default node id: the host name (cut to fit) and a random suffix, new at each start. */
function defaultNodeId(): string {
  const host =
    os
      .hostname()
      .replace(/[^A-Za-z0-9_.-]/g, '-')
      .replace(/^[^A-Za-z0-9]+/, '')
      .slice(0, 48) || 'relais';
  return `${host}-${randomBytes(4).toString('hex')}`;
}

/** The URL as logs and pages may show it: user name and password replaced. */
export function redactRedisUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.username || url.password) {
      url.username = url.username ? '***' : '';
      url.password = url.password ? '***' : '';
    }
    return url.toString();
  } catch {
    return '(invalid URL)';
  }
}

/** Each key is the environment variable that sets it. */
const schema = z.object({
  RELAIS_ENV: z.enum(['development', 'production']).default('development'),
  RELAIS_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  /** 0 picks a free port (tests). */
  RELAIS_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  RELAIS_PUBLIC_URL: optionalText.pipe(z.url().optional()),
  RELAIS_TLS_CERT_FILE: optionalText,
  RELAIS_TLS_KEY_FILE: optionalText,
  RELAIS_JWT_ALGORITHM: z.enum(['HS256', 'RS256', 'ES256']).default('HS256'),
  RELAIS_JWT_SECRET: optionalText.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  RELAIS_JWT_PUBLIC_KEY_FILE: optionalText,
  RELAIS_JWT_ISSUER: optionalText,
  RELAIS_JWT_AUDIENCE: optionalText,
  /** Tokens valid longer are refused; revocations are kept this long. */
  RELAIS_MAX_TOKEN_LIFETIME: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
    duration(60, 30 * 86_400).default(DEFAULT_MAX_TOKEN_LIFETIME_SECONDS),
  ),
  /** Bearer key of the admin API (/admin); without it the API is off. */
  RELAIS_ADMIN_KEY: optionalText.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  RELAIS_WORKERS: z.coerce.number().int().min(1).max(64).default(Math.max(1, os.availableParallelism())),
  RELAIS_RTC_LISTEN_IP: z.string().min(1).default('127.0.0.1'),
  RELAIS_RTC_ANNOUNCED_ADDRESS: optionalText,
  RELAIS_RTC_PORT_BASE: port.default(40000),
  /** A room spreads its listeners to a further worker's router once each router carries this many consumers. */
  RELAIS_CONSUMERS_PER_ROUTER: z.coerce.number().int().min(1).max(100_000).default(250),
  /**
   * Receive and send buffer of each worker's UDP socket and of pipe transports, in bytes (0: the
   * kernel's default, 208 KiB on Linux). One socket per worker takes every participant's RTCP
   * (receiver reports, transport-cc feedback ten times a second per video receiver) besides the
   * speakers' media; at 600 video listeners the default overflows whenever the worker is off its
   * core for ~30 ms. The kernel caps it at net.core.rmem_max / wmem_max.
   */
  RELAIS_UDP_BUFFER_BYTES: z.coerce
    .number()
    .int()
    .min(0)
    .max(64 * 2 ** 20)
    .default(DEFAULT_UDP_BUFFER_BYTES),
  /**
   * Shortest time between two keyframe requests relayed to a camera or screen's sender, per
   * stream (mediasoup's keyFrameRequestDelay). Every receiver that joins, or whose layer comes
   * back after congestion, asks for a keyframe; in a briefing of hundreds they would reach the
   * commander's laptop many times a second, each keyframe several times a normal frame's size.
   * Requests inside the interval are merged into one sent when it ends. 0: every request relayed.
   */
  RELAIS_KEYFRAME_REQUEST_DELAY_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(10_000)
    .default(DEFAULT_KEYFRAME_REQUEST_DELAY_MS),
  RELAIS_MAX_PARTICIPANTS_PER_ROOM: z.coerce.number().int().min(2).max(5000).default(1000),
  // TURN through coturn (shared-secret scheme): unset = no ICE server is given to browsers.
  /** Comma-separated `turn:` / `turns:` URLs handed to browsers. */
  RELAIS_TURN_URLS: optionalText,
  /** coturn's `static-auth-secret`, or a file holding it. */
  RELAIS_TURN_SECRET: optionalText.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  RELAIS_TURN_SECRET_FILE: optionalText,
  /** Longest a TURN credential is valid; never beyond the participant's token. */
  RELAIS_TURN_TTL: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
    duration(300, 30 * 86_400).default(DEFAULT_TURN_TTL_SECONDS),
  ),
  RELAIS_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  RELAIS_LOG_PRETTY: bool.optional(),
  RELAIS_DEMO_ROOM: z.string().min(1).max(100).default('demo'),
  RELAIS_ROOM_POLICY: z.enum(ROOM_POLICIES).default('open'),
  RELAIS_ROOM_GRACE: duration(0, 86_400).default(120),
  MEDIASOUP_WORKER_BIN: optionalText,
  // Media across nodes (node-to-node pipes), see config/README.md "Cluster: media across nodes".
  /** Signs node-to-node requests (/internal); unset = this node pipes nothing to or from others. */
  RELAIS_CLUSTER_SECRET: optionalText.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  /** The IP other nodes reach this node at: internal API calls back, and pipe transports listen there. */
  RELAIS_CLUSTER_ADDRESS: z.union([z.ipv4(), z.ipv6()]).default('127.0.0.1'),
  RELAIS_PIPE_PORT_MIN: port.default(41000),
  RELAIS_PIPE_PORT_MAX: port.default(41999),
  /** How long a draining node (SIGTERM, or the admin API) moves its participants before it exits anyway. */
  RELAIS_DRAIN_TIMEOUT: z.coerce.number().int().min(1).max(3600).default(300),
  /** Participants a draining node moves per second (they rejoin elsewhere: a bounded rate spares the others). */
  RELAIS_DRAIN_RATE: z.coerce.number().int().min(1).max(1000).default(50),
  /** Participants this node takes before sending newcomers to another node; 0 = no limit. */
  RELAIS_NODE_MAX_PARTICIPANTS: z.coerce.number().int().min(0).max(100_000).default(0),
  /** Shared state of a cluster; unset = one process, state in memory. Never echoed: it may hold a password. */
  RELAIS_REDIS_URL: optionalText.pipe(redisUrl.optional()),
  RELAIS_REDIS_PASSWORD_FILE: optionalText,
  RELAIS_NODE_ID: optionalText.pipe(
    z
      .string()
      .regex(NODE_ID_PATTERN, 'must be 1-64 characters of A-Z a-z 0-9 _ . - (starting with a letter or digit)')
      .optional(),
  ),
});

type Raw = z.infer<typeof schema>;

export interface RelaisConfig {
  env: 'development' | 'production';
  http: { host: string; port: number; publicUrl: string; tls?: { certFile: string; keyFile: string } };
  jwt: {
    algorithm: 'HS256' | 'RS256' | 'ES256';
    secret?: string;
    publicKeyFile?: string;
    issuer?: string;
    audience?: string;
    /** RELAIS_MAX_TOKEN_LIFETIME, in seconds. */
    maxTokenLifetimeSeconds: number;
  };
  media: {
    workers: number;
    listenIp: string;
    announcedAddress?: string;
    portBase: number;
    workerBin?: string;
    consumersPerRouter: number;
    /** RELAIS_UDP_BUFFER_BYTES; 0 leaves the kernel's default. */
    udpBufferBytes: number;
    /** RELAIS_KEYFRAME_REQUEST_DELAY_MS; 0 relays every request. */
    keyFrameRequestDelayMs: number;
  };
  rooms: {
    maxParticipants: number;
    demoRoom: string;
    /** RELAIS_ROOM_POLICY: who enters a room whose first moderator's token names no policy. */
    policy: RoomPolicy;
    /** RELAIS_ROOM_GRACE, in seconds: how long a member who dropped out keeps their place in a locked room. */
    graceSeconds: number;
  };
  admin: { key?: string };
  /** TURN servers given to browsers with short-lived credentials; absent = none (direct ICE only). */
  turn?: { urls: string[]; secret: string; ttlSeconds: number };
  /** Node-to-node: RELAIS_CLUSTER_SECRET signs internal calls; RELAIS_CLUSTER_ADDRESS is the IP other nodes reach this one at. */
  cluster: {
    secret?: string;
    address: string;
    pipePorts: { min: number; max: number };
    capacity: number;
    /** RELAIS_DRAIN_TIMEOUT in seconds, RELAIS_DRAIN_RATE per second. */
    drain: { timeoutSeconds: number; ratePerSecond: number };
  };
  log: { level: Raw['RELAIS_LOG_LEVEL']; pretty: boolean };
  /** RELAIS_NODE_ID, or the host name and a random suffix: this node's name in the cluster. */
  nodeId: string;
  /** The cluster's shared state; absent: one process, state in memory (the embedded default). */
  redis?: RedisSettings;
  /** Signed room events POSTed to operators' systems; absent: none sent. */
  webhooks?: WebhookSettings;
}

export interface RedisSettings {
  /** As configured, credentials included: give it to the client only, never to a log. */
  url: string;
  /** From RELAIS_REDIS_PASSWORD_FILE, when the URL holds none. */
  password?: string;
  /** The URL without its credentials, for logs. */
  displayUrl: string;
}

// Its own file so that webhookConfig.ts can throw it without importing this module back.
export { ConfigError };

export const CONFIG_KEYS = [...(Object.keys(schema.shape) as (keyof Raw)[]), ...WEBHOOK_CONFIG_KEYS];

function readFile(path: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`RELAIS_CONFIG_FILE: cannot read ${path}: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`RELAIS_CONFIG_FILE: ${path} must hold a JSON object of RELAIS_* keys`);
  }
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!(CONFIG_KEYS as string[]).includes(key))
      throw new ConfigError(`RELAIS_CONFIG_FILE: unknown key ${key} in ${path}`);
    out[key] = String(value);
  }
  return out;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): RelaisConfig {
  const fromFile = env.RELAIS_CONFIG_FILE ? readFile(env.RELAIS_CONFIG_FILE) : {};
  const merged: Record<string, string | undefined> = { ...fromFile };
  for (const key of CONFIG_KEYS) if (env[key] !== undefined) merged[key] = env[key];

  const result = schema.safeParse(merged);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `${issue.path.join('.') || '(config)'}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const raw = result.data;

  if (Boolean(raw.RELAIS_TLS_CERT_FILE) !== Boolean(raw.RELAIS_TLS_KEY_FILE)) {
    throw new ConfigError('RELAIS_TLS_CERT_FILE and RELAIS_TLS_KEY_FILE must be set together');
  }
  if (raw.RELAIS_JWT_ALGORITHM === 'HS256' && raw.RELAIS_JWT_PUBLIC_KEY_FILE) {
    throw new ConfigError('RELAIS_JWT_PUBLIC_KEY_FILE needs RELAIS_JWT_ALGORITHM=RS256 or ES256');
  }
  if (raw.RELAIS_JWT_ALGORITHM !== 'HS256' && raw.RELAIS_JWT_SECRET) {
    throw new ConfigError(
      `RELAIS_JWT_SECRET is for HS256; with ${raw.RELAIS_JWT_ALGORITHM} set RELAIS_JWT_PUBLIC_KEY_FILE`,
    );
  }
  const hasKey = raw.RELAIS_JWT_SECRET || raw.RELAIS_JWT_PUBLIC_KEY_FILE;
  if (raw.RELAIS_ENV === 'production' && !hasKey) {
    throw new ConfigError(
      'RELAIS_JWT_SECRET (HS256) or RELAIS_JWT_PUBLIC_KEY_FILE (RS256/ES256) is required when RELAIS_ENV=production',
    );
  }
  if (raw.RELAIS_RTC_PORT_BASE + raw.RELAIS_WORKERS - 1 > 65535) {
    throw new ConfigError('RELAIS_RTC_PORT_BASE: RELAIS_RTC_PORT_BASE + RELAIS_WORKERS exceeds port 65535');
  }

  const turn = turnConfig(raw);
  if (raw.RELAIS_PIPE_PORT_MIN > raw.RELAIS_PIPE_PORT_MAX) {
    throw new ConfigError('RELAIS_PIPE_PORT_MIN must not be above RELAIS_PIPE_PORT_MAX');
  }
  const redis = redisSettings(raw.RELAIS_REDIS_URL, raw.RELAIS_REDIS_PASSWORD_FILE);
  const webhooks = loadWebhookConfig(merged);

  const tls =
    raw.RELAIS_TLS_CERT_FILE && raw.RELAIS_TLS_KEY_FILE
      ? { certFile: raw.RELAIS_TLS_CERT_FILE, keyFile: raw.RELAIS_TLS_KEY_FILE }
      : undefined;
  const scheme = tls ? 'https' : 'http';
  const shownHost =
    raw.RELAIS_HTTP_HOST === '0.0.0.0' || raw.RELAIS_HTTP_HOST === '::' ? 'localhost' : raw.RELAIS_HTTP_HOST;

  return {
    env: raw.RELAIS_ENV,
    http: {
      host: raw.RELAIS_HTTP_HOST,
      port: raw.RELAIS_HTTP_PORT,
      publicUrl: (raw.RELAIS_PUBLIC_URL ?? `${scheme}://${shownHost}:${raw.RELAIS_HTTP_PORT}`).replace(/\/$/, ''),
      ...(tls ? { tls } : {}),
    },
    jwt: {
      algorithm: raw.RELAIS_JWT_ALGORITHM,
      ...(raw.RELAIS_JWT_SECRET ? { secret: raw.RELAIS_JWT_SECRET } : {}),
      ...(raw.RELAIS_JWT_PUBLIC_KEY_FILE ? { publicKeyFile: raw.RELAIS_JWT_PUBLIC_KEY_FILE } : {}),
      ...(raw.RELAIS_JWT_ISSUER ? { issuer: raw.RELAIS_JWT_ISSUER } : {}),
      ...(raw.RELAIS_JWT_AUDIENCE ? { audience: raw.RELAIS_JWT_AUDIENCE } : {}),
      maxTokenLifetimeSeconds: raw.RELAIS_MAX_TOKEN_LIFETIME,
    },
    media: {
      workers: raw.RELAIS_WORKERS,
      listenIp: raw.RELAIS_RTC_LISTEN_IP,
      ...(raw.RELAIS_RTC_ANNOUNCED_ADDRESS ? { announcedAddress: raw.RELAIS_RTC_ANNOUNCED_ADDRESS } : {}),
      portBase: raw.RELAIS_RTC_PORT_BASE,
      consumersPerRouter: raw.RELAIS_CONSUMERS_PER_ROUTER,
      udpBufferBytes: raw.RELAIS_UDP_BUFFER_BYTES,
      keyFrameRequestDelayMs: raw.RELAIS_KEYFRAME_REQUEST_DELAY_MS,
      ...(raw.MEDIASOUP_WORKER_BIN ? { workerBin: raw.MEDIASOUP_WORKER_BIN } : {}),
    },
    rooms: {
      maxParticipants: raw.RELAIS_MAX_PARTICIPANTS_PER_ROOM,
      demoRoom: raw.RELAIS_DEMO_ROOM,
      policy: raw.RELAIS_ROOM_POLICY,
      graceSeconds: raw.RELAIS_ROOM_GRACE,
    },
    admin: raw.RELAIS_ADMIN_KEY ? { key: raw.RELAIS_ADMIN_KEY } : {},
    ...(turn ? { turn } : {}),
    cluster: {
      ...(raw.RELAIS_CLUSTER_SECRET ? { secret: raw.RELAIS_CLUSTER_SECRET } : {}),
      address: raw.RELAIS_CLUSTER_ADDRESS,
      pipePorts: { min: raw.RELAIS_PIPE_PORT_MIN, max: raw.RELAIS_PIPE_PORT_MAX },
      capacity: raw.RELAIS_NODE_MAX_PARTICIPANTS,
      drain: { timeoutSeconds: raw.RELAIS_DRAIN_TIMEOUT, ratePerSecond: raw.RELAIS_DRAIN_RATE },
    },
    log: { level: raw.RELAIS_LOG_LEVEL, pretty: raw.RELAIS_LOG_PRETTY ?? raw.RELAIS_ENV === 'development' },
    nodeId: raw.RELAIS_NODE_ID ?? defaultNodeId(),
    ...(redis ? { redis } : {}),
    ...(webhooks ? { webhooks } : {}),
  };
}

/**
 * A TURN URL as browsers take it: `turn:HOST[:PORT][?transport=udp|tcp]`, or
 * `turns:HOST[:PORT][?transport=tcp]` (TLS runs over TCP). HOST is a name, an IPv4 address or
 * a bracketed IPv6 address.
 */
const TURN_URL = /^(turns?):([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?(?:\?transport=(udp|tcp))?$/;

function turnConfig(raw: Raw): RelaisConfig['turn'] {
  const urls = (raw.RELAIS_TURN_URLS ?? '')
    .split(',')
    .map((url) => url.trim())
    .filter((url) => url !== '');
  if (raw.RELAIS_TURN_SECRET && raw.RELAIS_TURN_SECRET_FILE) {
    throw new ConfigError('RELAIS_TURN_SECRET and RELAIS_TURN_SECRET_FILE: set one, not both');
  }
  const hasSecret = Boolean(raw.RELAIS_TURN_SECRET || raw.RELAIS_TURN_SECRET_FILE);
  if (urls.length === 0) {
    if (hasSecret) throw new ConfigError('RELAIS_TURN_SECRET needs RELAIS_TURN_URLS (the TURN servers to hand out)');
    return undefined;
  }
  for (const url of urls) {
    const match = TURN_URL.exec(url);
    if (!match) {
      throw new ConfigError(
        `RELAIS_TURN_URLS: "${url}" is not a TURN URL (turn:HOST[:PORT][?transport=udp|tcp] or turns:HOST[:PORT][?transport=tcp]); relais never hands out STUN servers`,
      );
    }
    const [, scheme, , portText, transport] = match;
    if (portText !== undefined && (Number(portText) < 1 || Number(portText) > 65535)) {
      throw new ConfigError(`RELAIS_TURN_URLS: "${url}" has port ${portText}, outside 1-65535`);
    }
    if (scheme === 'turns' && transport === 'udp') {
      throw new ConfigError(`RELAIS_TURN_URLS: "${url}": turns (TLS) runs over TCP, use ?transport=tcp`);
    }
  }
  if (!hasSecret) {
    throw new ConfigError(
      "RELAIS_TURN_URLS needs RELAIS_TURN_SECRET or RELAIS_TURN_SECRET_FILE (coturn's static-auth-secret)",
    );
  }
  let secret = raw.RELAIS_TURN_SECRET;
  if (raw.RELAIS_TURN_SECRET_FILE) {
    try {
      secret = readFileSync(raw.RELAIS_TURN_SECRET_FILE, 'utf8').trim();
    } catch (error) {
      throw new ConfigError(
        `RELAIS_TURN_SECRET_FILE: cannot read ${raw.RELAIS_TURN_SECRET_FILE}: ${(error as Error).message}`,
      );
    }
    if (secret.length < 32) throw new ConfigError('RELAIS_TURN_SECRET_FILE: the secret must be at least 32 characters');
  }
  if (!secret) throw new ConfigError('RELAIS_TURN_SECRET: missing');
  return { urls, secret, ttlSeconds: raw.RELAIS_TURN_TTL };
}

function redisSettings(url: string | undefined, passwordFile: string | undefined): RedisSettings | undefined {
  if (!url) {
    if (passwordFile) throw new ConfigError('RELAIS_REDIS_PASSWORD_FILE needs RELAIS_REDIS_URL');
    return undefined;
  }
  const settings: RedisSettings = { url, displayUrl: redactRedisUrl(url) };
  if (!passwordFile) return settings;
  if (new URL(url).password) {
    throw new ConfigError(
      'RELAIS_REDIS_PASSWORD_FILE: the password is already in RELAIS_REDIS_URL; keep it in one place',
    );
  }
  let password: string;
  try {
    password = readFileSync(passwordFile, 'utf8').trim();
  } catch (error) {
    throw new ConfigError(
      `RELAIS_REDIS_PASSWORD_FILE: cannot read ${passwordFile}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
  if (!password) throw new ConfigError(`RELAIS_REDIS_PASSWORD_FILE: ${passwordFile} is empty`);
  return { ...settings, password };
}
