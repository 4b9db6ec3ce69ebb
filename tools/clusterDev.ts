/**
 * `npm run cluster:dev [-- --nodes 3 --room demo --raw]`: a relais cluster on this machine, for
 * development. A private redis-server (loopback, free port, AOF on, files in a temporary
 * directory) and N relais nodes (`node --import tsx server/src/main.ts`, one worker each, free
 * ports, one signing key, one admin key and one cluster secret for all), each node's logs
 * prefixed with its id, then one join link per node. Ctrl-C or SIGTERM stops the nodes, then
 * Redis, and removes the directory. A node not ready within 60 s stops everything (exit 1).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { issueToken } from '../server/src/auth/tokenIssuer.js';
import { ConfigError, loadConfig } from '../server/src/config/config.js';
import type { Role } from '../server/src/domain/roles.js';
import { pingRedis } from './redisServer.js';
import { freePortRange } from './freePorts.js';

const USAGE = `usage: npm run cluster:dev -- [--nodes 3] [--room demo] [--raw] [--redis-server redis-server]
  --nodes N         relais nodes to start, 1-9 (default 3)
  --room ROOM       room of the printed join links (default demo)
  --raw             forward the nodes' JSON log lines instead of pretty ones
  --redis-server B  the server binary (default redis-server; valkey-server takes the same arguments)
RELAIS_* variables in the environment reach every node (RELAIS_LOG_LEVEL, RELAIS_JWT_SECRET, RELAIS_ADMIN_KEY...),
except what is set per node here: ports, node id, public URL, Redis, loopback addresses, one worker.`;

const READY_TIMEOUT_MS = 60_000;
const REDIS_START_TIMEOUT_MS = 10_000;
/** main.ts forces its own exit after 10 s; past this the node is killed. */
const NODE_STOP_TIMEOUT_MS = 15_000;
const REDIS_STOP_TIMEOUT_MS = 5000;
/** UDP ports of each node's pipe transports: one per (room, other node) is used. */
const PIPE_PORTS_PER_NODE = 20;
const LAST_LINES = 40;
const REPO_ROOT = path.resolve(import.meta.dirname, '..');

/** Set per node by this tool: whatever the caller's environment says about them is dropped. */
const PER_NODE = [
  'RELAIS_HTTP_HOST',
  'RELAIS_HTTP_PORT',
  'RELAIS_PUBLIC_URL',
  'RELAIS_TLS_CERT_FILE',
  'RELAIS_TLS_KEY_FILE',
  'RELAIS_RTC_LISTEN_IP',
  'RELAIS_RTC_ANNOUNCED_ADDRESS',
  'RELAIS_RTC_PORT_BASE',
  'RELAIS_WORKERS',
  'RELAIS_PIPE_PORT_MIN',
  'RELAIS_PIPE_PORT_MAX',
  'RELAIS_CLUSTER_ADDRESS',
  'RELAIS_NODE_ID',
  'RELAIS_REDIS_URL',
  'RELAIS_REDIS_PASSWORD_FILE',
  'RELAIS_LOG_PRETTY',
];

function fail(message: string): never {
  process.stderr.write(`cluster:dev: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function options() {
  let values: { nodes: string; room: string; raw: boolean; 'redis-server': string; help: boolean };
  try {
    values = parseArgs({
      options: {
        nodes: { type: 'string', default: '3' },
        room: { type: 'string', default: 'demo' },
        raw: { type: 'boolean', default: false },
        'redis-server': { type: 'string', default: 'redis-server' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }).values as typeof values;
  } catch (error) {
    fail((error as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const nodes = Number(values.nodes);
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 9) fail('--nodes must be a whole number from 1 to 9');
  return { nodes, room: values.room, raw: values.raw, redisServer: values['redis-server'] };
}

/** A child process of the cluster, its output forwarded line by line and its last lines kept. */
interface Member {
  name: string;
  child: ChildProcess;
  lastLines: string[];
  exited: Promise<void>;
  readonly alive: boolean;
}

function launch(name: string, command: string, args: string[], env: NodeJS.ProcessEnv, prefix: string): Member {
  // Its own process group: a terminal's Ctrl-C reaches this tool alone, which stops the nodes
  // before Redis (the nodes remove their registry entries on the way out).
  const child = spawn(command, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const lastLines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
      lastLines.push(line);
      if (lastLines.length > LAST_LINES) lastLines.shift();
      process.stdout.write(`${prefix} ${line}\n`);
    });
  }
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', (error) => {
      lastLines.push(`cannot start ${command}: ${error.message}`);
      resolve();
    });
  });
  return {
    name,
    child,
    lastLines,
    exited,
    get alive() {
      return child.pid !== undefined && child.exitCode === null && child.signalCode === null;
    },
  };
}

/** Sends SIGTERM, and SIGKILL if the process has not exited after `timeoutMs`. */
async function terminate(member: Member, timeoutMs: number): Promise<void> {
  if (!member.alive) return;
  member.child.kill('SIGTERM');
  const timer = setTimeout(() => member.child.kill('SIGKILL'), timeoutMs);
  await member.exited;
  clearTimeout(timer);
}

/** Ports for one node (HTTP, RTC, then the pipe range), clear of the ranges already taken. */
async function nodePorts(taken: [number, number][]) {
  const count = 2 + PIPE_PORTS_PER_NODE;
  for (;;) {
    const base = await freePortRange(count);
    const last = base + count - 1;
    if (taken.some(([from, to]) => base <= to && last >= from)) continue;
    taken.push([base, last]);
    return { http: base, rtc: base + 1, pipeMin: base + 2, pipeMax: last };
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const opts = options();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'relais-cluster-'));
  const members: Member[] = [];
  let redis: Member | undefined;
  let stopping: Promise<void> | undefined;

  const stopAll = (): Promise<void> => {
    stopping ??= (async () => {
      await Promise.all(members.map((member) => terminate(member, NODE_STOP_TIMEOUT_MS)));
      if (redis) await terminate(redis, REDIS_STOP_TIMEOUT_MS);
      rmSync(dir, { recursive: true, force: true });
    })();
    return stopping;
  };
  // Whatever happens to this process, no child outlives it.
  process.on('exit', () => {
    for (const member of [...members, ...(redis ? [redis] : [])]) if (member.alive) member.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  let signalled = false;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      // A terminal's Ctrl-C arrives twice (from the terminal and forwarded by npm): one stop.
      if (signalled) return;
      signalled = true;
      process.stdout.write(`cluster:dev: ${signal}: stopping the nodes, then Redis\n`);
      stopAll().then(
        () => {
          process.stdout.write(`cluster:dev: stopped, ${dir} removed\n`);
          process.exit(0);
        },
        () => process.exit(1),
      );
    });
  }
  // Orphaned (the shell or npm that started it killed): stop rather than leave a cluster running.
  const parent = process.ppid;
  const orphanWatch = setInterval(() => {
    if (process.ppid === parent || signalled) return;
    signalled = true;
    process.stderr.write('cluster:dev: its parent process is gone: stopping the nodes, then Redis\n');
    stopAll().then(
      () => process.exit(1),
      () => process.exit(1),
    );
  }, 1000);
  orphanWatch.unref();
  const abort = async (message: string, member?: Member): Promise<never> => {
    process.stderr.write(`cluster:dev: ${message}\n`);
    if (member) process.stderr.write(`--- last lines of ${member.name} ---\n${member.lastLines.join('\n')}\n---\n`);
    await stopAll();
    process.exit(1);
  };

  // Keys every node shares: a token minted for one is good on all. Given ones are kept.
  const secret = (name: string): string => process.env[name]?.trim() || randomBytes(32).toString('base64url');
  const shared = {
    RELAIS_JWT_SECRET: secret('RELAIS_JWT_SECRET'),
    RELAIS_ADMIN_KEY: secret('RELAIS_ADMIN_KEY'),
    RELAIS_CLUSTER_SECRET: secret('RELAIS_CLUSTER_SECRET'),
  };

  const taken: [number, number][] = [];
  const redisPort = await freePortRange(1);
  taken.push([redisPort, redisPort]);
  const redisUrl = `redis://127.0.0.1:${redisPort}`;
  const redisDir = path.join(dir, 'redis');
  mkdirSync(redisDir);
  redis = launch(
    'redis',
    opts.redisServer,
    [
      '--port',
      String(redisPort),
      '--bind',
      '127.0.0.1',
      '--dir',
      redisDir,
      '--appendonly',
      'yes',
      '--save',
      '',
      '--loglevel',
      'warning',
    ],
    process.env,
    '[redis]',
  );
  const redisDeadline = Date.now() + REDIS_START_TIMEOUT_MS;
  while (!(await pingRedis(redisPort))) {
    if (!redis.alive) await abort(`${opts.redisServer} did not start`, redis);
    if (Date.now() > redisDeadline) await abort(`${opts.redisServer} did not answer PING on ${redisPort}`, redis);
    await sleep(50);
  }
  process.stdout.write(`cluster:dev: Redis ready at ${redisUrl}, files in ${dir}\n`);

  const inherited: NodeJS.ProcessEnv = { ...process.env };
  for (const name of PER_NODE) delete inherited[name];
  if (process.stdout.isTTY) inherited.FORCE_COLOR ??= '1';
  const nodes: { id: string; url: string; role: Role; link: string }[] = [];
  for (let i = 1; i <= opts.nodes; i++) {
    const id = `node-${i}`;
    const ports = await nodePorts(taken);
    const env: NodeJS.ProcessEnv = {
      ...inherited,
      RELAIS_ENV: process.env.RELAIS_ENV ?? 'development',
      ...shared,
      RELAIS_NODE_ID: id,
      RELAIS_HTTP_HOST: '127.0.0.1',
      RELAIS_HTTP_PORT: String(ports.http),
      RELAIS_RTC_LISTEN_IP: '127.0.0.1',
      RELAIS_RTC_PORT_BASE: String(ports.rtc),
      RELAIS_WORKERS: '1',
      RELAIS_CLUSTER_ADDRESS: '127.0.0.1',
      RELAIS_PIPE_PORT_MIN: String(ports.pipeMin),
      RELAIS_PIPE_PORT_MAX: String(ports.pipeMax),
      RELAIS_REDIS_URL: redisUrl,
      RELAIS_LOG_PRETTY: opts.raw ? 'false' : 'true',
    };
    // The same validation the node runs: a bad RELAIS_* value is reported once, here.
    let config: ReturnType<typeof loadConfig>;
    try {
      config = loadConfig(env);
    } catch (error) {
      await abort(error instanceof ConfigError ? error.message : String(error));
      return;
    }
    const role: Role = i === 1 ? 'moderator' : 'speaker';
    const token = issueToken(
      { algorithm: 'HS256', key: shared.RELAIS_JWT_SECRET },
      {
        room: opts.room,
        name: `${role === 'moderator' ? 'Moderator' : 'Speaker'} on ${id}`,
        role,
        sub: `dev-${id}`,
        ttlSeconds: Math.min(4 * 3600, config.jwt.maxTokenLifetimeSeconds),
      },
    );
    members.push(launch(id, process.execPath, ['--import', 'tsx', 'server/src/main.ts'], env, `[${id}]`));
    nodes.push({ id, url: config.http.publicUrl, role, link: `${config.http.publicUrl}/#token=${token}` });
  }

  await Promise.all(
    nodes.map(async (node, index) => {
      const member = members[index] as Member;
      const deadline = Date.now() + READY_TIMEOUT_MS;
      for (;;) {
        if (stopping) return;
        if (!member.alive) await abort(`${node.id} exited before it was ready`, member);
        try {
          const response = await fetch(`${node.url}/readyz`, { signal: AbortSignal.timeout(2000) });
          const body = (await response.json()) as { redis?: unknown };
          if (response.status === 200 && body.redis === 'connected') return;
        } catch {
          // Not listening yet.
        }
        if (Date.now() > deadline) await abort(`${node.id} not ready (${node.url}/readyz) within 60 s`, member);
        await sleep(250);
      }
    }),
  );
  if (stopping) return;

  const envFile = path.join(dir, 'cluster.env');
  writeFileSync(
    envFile,
    `RELAIS_JWT_SECRET=${shared.RELAIS_JWT_SECRET}\nRELAIS_ADMIN_KEY=${shared.RELAIS_ADMIN_KEY}\nRELAIS_PUBLIC_URL=${nodes[0]?.url}\n`,
    { mode: 0o600 },
  );
  const width = Math.max(...nodes.map((node) => node.role.length));
  process.stdout.write(
    [
      '',
      `relais cluster: ${nodes.length} node(s), one worker each; Redis ${redisUrl} (AOF on) in ${dir}`,
      ...nodes.map((node) => `  ${node.id}  ${node.url}  join as ${node.role.padEnd(width)} ${node.link}`),
      `Room "${opts.room}": open each link in its own browser window.`,
      `Keys of this run (signing, admin API): set -a; . ${envFile}; set +a`,
      `  then: npm run token -- --room ${opts.room} --name "…" --role listener`,
      `        curl -H "Authorization: Bearer $RELAIS_ADMIN_KEY" ${nodes[0]?.url}/admin/nodes`,
      `Ctrl-C stops the nodes, then Redis, and removes ${dir}.`,
      'cluster ready',
      '',
    ].join('\n'),
  );

  // A node that dies is reported; the others keep serving (try what a cluster does without it).
  for (const member of members) {
    member.exited.then(() => {
      if (stopping) return;
      process.stderr.write(
        `cluster:dev: ${member.name} exited (${member.child.signalCode ?? member.child.exitCode})\n`,
      );
      if (members.every((other) => !other.alive)) void abort('every node has exited');
    });
  }
  redis.exited.then(() => {
    if (!stopping) void abort('redis-server exited', redis);
  });
}

main().catch(async (error: unknown) => {
  process.stderr.write(`cluster:dev: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
