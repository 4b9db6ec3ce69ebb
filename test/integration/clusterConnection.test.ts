/**
 * A clustered node and its Redis connections, in this process against a private redis-server:
 * it owns what it opens (stopping closes every connection and removes its registry entry),
 * authenticates with a password from a file or from the URL without ever logging it, and
 * refuses to start, saying why, when Redis cannot be reached.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClient } from 'redis';
import { freePortRange } from '../../tools/freePorts.js';
import { type PrivateRedis, startPrivateRedis } from '../../tools/redisServer.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { SignallingClient } from '../support/signallingClient.js';
import { eventually } from '../support/wait.js';

const PASSWORD = 'redis-password-for-tests-7f3a9c';

describe('a clustered node and its Redis connections (in-process, private Redis)', function () {
  this.timeout(60_000);
  let redis: PrivateRedis | undefined;
  let inspector: ReturnType<typeof createClient> | undefined;
  const servers: TestServer[] = [];
  let dir: string | undefined;

  async function clientCount(): Promise<number> {
    if (!inspector) throw new Error('no inspector');
    const list = await inspector.clientList();
    return list.length;
  }

  afterEach(async () => {
    for (const server of servers.splice(0)) await server.stop();
    if (inspector?.isOpen) inspector.destroy();
    inspector = undefined;
    await redis?.stop();
    redis = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('closes every Redis connection it opened and removes its entry when it stops', async () => {
    redis = await startPrivateRedis();
    inspector = createClient({ url: redis.url });
    await inspector.connect();
    const server = await startTestServer({ RELAIS_REDIS_URL: redis.url, RELAIS_NODE_ID: 'node-x' });
    servers.push(server);
    const { client } = await SignallingClient.join(server.url, server.token({ room: 'cell', role: 'speaker' }));
    await eventually('the Socket.IO adapter connected', async () => (await clientCount()) === 6);
    // The inspector; the node's commands and pub/sub; the Socket.IO adapter's publisher, its stream reader and its pub/sub.
    assert.equal(await clientCount(), 6);
    assert.deepEqual(await inspector.zRange('relais:nodes', 0, -1), ['node-x']);
    assert.equal(await inspector.exists('relais:node:node-x'), 1);

    await server.stop();
    client.close();
    await eventually('the node’s connections closed', async () => (await clientCount()) === 1);
    assert.equal(await inspector.exists('relais:node:node-x'), 0, 'its entry removed, not left to expire');
    assert.deepEqual(await inspector.zRange('relais:nodes', 0, -1), []);
  });

  it('authenticates with a password from RELAIS_REDIS_PASSWORD_FILE (ACL user in the URL or not) or the URL, and never logs it', async () => {
    redis = await startPrivateRedis({
      args: ['--requirepass', PASSWORD, '--user', 'relais', 'on', `>${PASSWORD}`, '~*', '&*', '+@all'],
    });
    dir = mkdtempSync(path.join(os.tmpdir(), 'relais-redis-password-'));
    const passwordFile = path.join(dir, 'password');
    writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });

    const fromFile = await startTestServer({
      RELAIS_REDIS_URL: redis.url,
      RELAIS_REDIS_PASSWORD_FILE: passwordFile,
    });
    servers.push(fromFile);
    const fromUrl = await startTestServer({
      RELAIS_REDIS_URL: `redis://default:${PASSWORD}@127.0.0.1:${redis.port}`,
    });
    servers.push(fromUrl);
    // The documented form: the ACL user in the URL, its password in a file.
    const userAndFile = await startTestServer({
      RELAIS_REDIS_URL: `redis://relais@127.0.0.1:${redis.port}`,
      RELAIS_REDIS_PASSWORD_FILE: passwordFile,
    });
    servers.push(userAndFile);
    for (const server of [fromFile, fromUrl, userAndFile]) {
      const ready = await fetch(`${server.url}/readyz`);
      assert.equal(ready.status, 200);
      assert.equal(((await ready.json()) as { redis?: string }).redis, 'connected');
    }
    const logged = [...fromFile.rawLogs, ...fromUrl.rawLogs].join('\n');
    assert.match(logged, /connected to Redis/);
    assert.match(logged, /redis:\/\/\*\*\*:\*\*\*@127\.0\.0\.1/, 'the URL is logged with its credentials masked');
    assert.ok(!logged.includes(PASSWORD), 'the password is never logged');
  });

  it('refuses to start, naming Redis but not its password, when Redis cannot be reached', async () => {
    const deadPort = await freePortRange(1);
    await assert.rejects(
      startTestServer({ RELAIS_REDIS_URL: `redis://default:${PASSWORD}@127.0.0.1:${deadPort}` }),
      (error: Error) =>
        /Redis at redis:\/\/\*\*\*:\*\*\*@127\.0\.0\.1:\d+ did not answer/.test(error.message) &&
        !error.message.includes(PASSWORD),
    );
  });

  it('a node cut off from Redis while a revocation was made ends the session once it is back', async () => {
    const user = (name: string, password: string) => ['--user', name, 'on', `>${password}`, '~*', '&*', '+@all'];
    // No default user: a connection whose password is refused is let in as nobody.
    redis = await startPrivateRedis({
      args: [
        '--user',
        'default',
        'off',
        ...user('test', 'password-t'),
        ...user('node-a', 'password-a'),
        ...user('node-b', 'password-b'),
      ],
    });
    inspector = createClient({ url: `redis://test:password-t@127.0.0.1:${redis.port}` });
    await inspector.connect();
    const nodeUrl = (name: string) => `redis://${name}:password-${name.slice(-1)}@127.0.0.1:${redis?.port}`;
    const adminKey = 'relais-admin-key-for-cluster-tests-0123456789';
    const a = await startTestServer({ RELAIS_REDIS_URL: nodeUrl('node-a'), RELAIS_ADMIN_KEY: adminKey });
    servers.push(a);
    const b = await startTestServer({ RELAIS_REDIS_URL: nodeUrl('node-b') });
    servers.push(b);
    const { client } = await SignallingClient.join(
      b.url,
      b.token({ room: 'cell', role: 'speaker', sub: 'lost-laptop' }),
    );

    // Node b loses Redis and cannot get back (its user is disabled): it misses the publication.
    await inspector.sendCommand(['ACL', 'SETUSER', 'node-b', 'off']);
    await inspector.sendCommand(['CLIENT', 'KILL', 'USER', 'node-b']);
    await eventually('node b not ready', async () => (await fetch(`${b.url}/readyz`)).status === 503);
    const posted = await fetch(`${a.url}/admin/revocations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sub: 'lost-laptop' }),
    });
    assert.equal(posted.status, 201);
    assert.equal(client.socket.connected, true, 'node b cannot know yet');

    await inspector.sendCommand(['ACL', 'SETUSER', 'node-b', 'on']);
    assert.deepEqual(await client.next('sessionEnded', () => true, 30_000), { reason: 'revoked' });
    assert.equal(b.server.revocations.mirror.isRevoked({ sub: 'lost-laptop', iat: 0 }), true);
    assert.ok(
      b.logs.some(
        (l) =>
          l.audit === true && l.event === 'token.revoked.elsewhere' && l.sub === 'lost-laptop' && l.sessionsEnded === 1,
      ),
      'node b says in its audit log what it ended and why',
    );
  });
});
