/**
 * `npm run cluster:dev`, as an operator runs it: Redis and two relais nodes come up, each ready
 * with Redis connected and both listed as serving by the admin API; a SIGTERM stops every
 * process it started (nodes, their mediasoup workers, Redis), closes Redis's port and removes
 * its temporary directory. A node that cannot start stops everything, naming why.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { eventually } from '../support/wait.js';

const ADMIN_KEY = 'cluster-dev-test-admin-key-0123456789abcdef';

interface ProcessInfo {
  pid: number;
  /** Clock ticks after boot: tells a process from a later one given the same pid. */
  startTime: string;
  command: string;
}

function stat(pid: number): { ppid: number; startTime: string } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), startTime: fields[19] ?? '' };
  } catch {
    return undefined;
  }
}

/** Every live descendant of `root`, read from /proc. */
function descendants(root: number): ProcessInfo[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const info = stat(pid);
    if (!info) continue;
    parents.set(info.ppid, [...(parents.get(info.ppid) ?? []), pid]);
  }
  const found: ProcessInfo[] = [];
  const queue = [...(parents.get(root) ?? [])];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    const info = stat(pid);
    if (!info) continue;
    let command = '';
    try {
      command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
    } catch {
      continue;
    }
    found.push({ pid, startTime: info.startTime, command });
    queue.push(...(parents.get(pid) ?? []));
  }
  return found;
}

const isAlive = (info: ProcessInfo): boolean => stat(info.pid)?.startTime === info.startTime;

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(2000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** `npm run cluster:dev -- <args>` with its output collected. */
function runClusterDev(args: string[], env: Record<string, string> = {}, options: { ownGroup?: boolean } = {}) {
  const child = spawn('npm', ['run', 'cluster:dev', '--', ...args], {
    env: { ...process.env, RELAIS_ADMIN_KEY: ADMIN_KEY, RELAIS_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // As in a terminal: npm and the tool in one process group, which Ctrl-C signals as a whole.
    detached: options.ownGroup ?? false,
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // npm itself ends by the signal it forwarded, or with the tool's exit code.
  const exit = new Promise<number | NodeJS.Signals | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal)),
  );
  return { child, exit, stdout: () => stdout, stderr: () => stderr };
}
type ClusterDevRun = ReturnType<typeof runClusterDev>;

/** Waits for "cluster ready"; the nodes, Redis's port and the directory it printed. */
async function untilReady(current: ClusterDevRun) {
  await eventually(
    'cluster:dev to print "cluster ready"',
    () => {
      if (current.child.exitCode !== null) throw new Error(`it exited:\n${current.stdout()}${current.stderr()}`);
      return /^cluster ready$/m.test(current.stdout());
    },
    120_000,
    200,
  );
  const out = current.stdout();
  const nodes = [...out.matchAll(/^ {2}(node-\d+) {2}(http:\/\/127\.0\.0\.1:\d+) {2}join as \w+ +(\S+)$/gm)].map(
    (match) => ({ id: match[1] as string, url: match[2] as string, link: match[3] as string }),
  );
  const redis = /Redis redis:\/\/127\.0\.0\.1:(\d+) \(AOF on\) in (\S+)$/m.exec(out);
  return { nodes, redisPort: Number(redis?.[1]), dir: redis?.[2] as string };
}

/**
 * After a stop: the tool said so, every process it had started is gone, Redis's port and the
 * nodes' are closed, its directory removed, and the nodes stopped before Redis (none logged an
 * error on its way out: JSON lines, --raw; level 50 = error).
 */
async function stoppedCleanly(
  current: ClusterDevRun,
  started: ProcessInfo[],
  ready: Awaited<ReturnType<typeof untilReady>>,
  signal: string,
) {
  await eventually('the tool to say it stopped', () => /^cluster:dev: stopped/m.test(current.stdout()), 30_000);
  await eventually(
    'every process it started to be gone',
    () => {
      const left = started.filter(isAlive).map((info) => `${info.pid} ${info.command}`);
      if (left.length > 0) throw new Error(`still running:\n${left.join('\n')}\n${current.stdout().slice(-2000)}`);
      return true;
    },
    10_000,
  );
  assert.equal(await portOpen(ready.redisPort), false, 'Redis’s port is closed');
  assert.equal(existsSync(ready.dir), false, 'its temporary directory is removed');
  for (const node of ready.nodes) {
    assert.equal(await portOpen(Number(new URL(node.url).port)), false, `${node.id} closed`);
  }
  const shutdown = current.stdout().slice(current.stdout().indexOf(`cluster:dev: ${signal}`));
  assert.match(shutdown, /^\[node-1\] .*"msg":"stopping: ending sessions/m);
  assert.doesNotMatch(shutdown, /^\[node-\d\] .*"level":(50|60)/m, 'no error while stopping');
}

describe('npm run cluster:dev (Redis and relais nodes on this machine)', function () {
  this.timeout(150_000);
  let run: ReturnType<typeof runClusterDev> | undefined;
  let started: ProcessInfo[] = [];

  afterEach(async () => {
    // Whatever failed, nothing this test started outlives it: the tool is asked to stop (it
    // removes its directory), then whatever is left is killed.
    const child: ChildProcess | undefined = run?.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      started = [...started, ...descendants(child.pid as number)];
      child.kill('SIGTERM');
      await Promise.race([run?.exit, new Promise((resolve) => setTimeout(resolve, 25_000))]);
    }
    for (const info of started) if (isAlive(info)) process.kill(info.pid, 'SIGKILL');
    run = undefined;
    started = [];
  });

  it('starts Redis and two ready nodes that list each other, and a SIGTERM leaves nothing behind', async () => {
    run = runClusterDev(['--nodes', '2', '--raw']);
    const current = run;
    const ready = await untilReady(current);
    const { nodes, redisPort, dir } = ready;
    assert.deepEqual(
      nodes.map((node) => node.id),
      ['node-1', 'node-2'],
    );
    for (const node of nodes) assert.ok(node.link.startsWith(`${node.url}/#token=ey`), 'a join link to that node');
    assert.ok(await portOpen(redisPort), 'Redis listens');
    assert.ok(existsSync(dir), 'its temporary directory exists while it runs');
    assert.ok(existsSync(`${dir}/redis/appendonlydir`), 'Redis writes an append-only file');

    for (const node of nodes) {
      const response = await fetch(`${node.url}/readyz`);
      assert.equal(response.status, 200, `${node.id} ready`);
      assert.equal(((await response.json()) as { redis?: string }).redis, 'connected');
    }
    for (const node of nodes) {
      const listed = await eventually(`${node.id} to list both nodes as serving`, async () => {
        const response = await fetch(`${node.url}/admin/nodes`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
        assert.equal(response.status, 200);
        const body = (await response.json()) as { nodes: { id: string; state: string; publicUrl: string }[] };
        return body.nodes.length === 2 ? body.nodes : undefined;
      });
      assert.deepEqual(
        listed.map(({ id, state, publicUrl }) => ({ id, state, publicUrl })),
        nodes.map(({ id, url }) => ({ id, state: 'serving', publicUrl: url })),
      );
    }

    started = descendants(current.child.pid as number);
    const commands = started.map((info) => info.command);
    assert.equal(commands.filter((command) => command.includes('server/src/main.ts')).length, 2, commands.join('\n'));
    assert.equal(commands.filter((command) => command.includes('mediasoup-worker')).length, 2, commands.join('\n'));
    assert.equal(commands.filter((command) => command.startsWith('redis-server')).length, 1, commands.join('\n'));

    current.child.kill('SIGTERM');
    assert.ok([0, 'SIGTERM'].includes((await current.exit) ?? ''), `exit; stderr:\n${current.stderr()}`);
    await stoppedCleanly(current, started, ready, 'SIGTERM');
  });

  it('stops the nodes, then Redis, on a terminal’s Ctrl-C (SIGINT to npm and the tool alike)', async () => {
    run = runClusterDev(['--nodes', '1', '--raw'], {}, { ownGroup: true });
    const current = run;
    const ready = await untilReady(current);
    started = descendants(current.child.pid as number);
    assert.equal(started.filter((info) => info.command.includes('server/src/main.ts')).length, 1);
    process.kill(-(current.child.pid as number), 'SIGINT');
    assert.ok([0, 'SIGINT'].includes((await current.exit) ?? ''), `exit; stderr:\n${current.stderr()}`);
    await stoppedCleanly(current, started, ready, 'SIGINT');
    assert.equal(current.stdout().match(/^cluster:dev: SIGINT: stopping/gm)?.length, 1, 'one stop for both signals');
  });

  it('stops everything and exits non-zero with the node’s last lines when a node cannot start', async () => {
    run = runClusterDev(['--nodes', '1', '--raw'], { MEDIASOUP_WORKER_BIN: '/nonexistent/mediasoup-worker' });
    const current = run;
    const code = await current.exit;
    assert.notEqual(code, 0);
    assert.match(current.stderr(), /node-1 exited before it was ready/);
    assert.match(current.stderr(), /--- last lines of node-1 ---[\s\S]*mediasoup-worker/);
    assert.doesNotMatch(current.stdout(), /^cluster ready$/m);
    const announced = /^cluster:dev: Redis ready at redis:\/\/127\.0\.0\.1:(\d+), files in (\S+)$/m.exec(
      current.stdout(),
    );
    assert.ok(announced, 'Redis was started first');
    assert.equal(await portOpen(Number(announced[1])), false, 'Redis’s port is closed');
    assert.equal(existsSync(announced[2] as string), false, 'its temporary directory is removed');
  });
});
