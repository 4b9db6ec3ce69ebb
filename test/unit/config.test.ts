import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig, redactRedisUrl } from '../../server/src/config/config.js';

const SECRET = 'x'.repeat(32);

describe('configuration', () => {
  it('starts with documented defaults on an empty environment (development)', () => {
    const config = loadConfig({});
    assert.equal(config.env, 'development');
    assert.equal(config.http.host, '127.0.0.1');
    assert.equal(config.http.port, 3000);
    assert.equal(config.http.publicUrl, 'http://127.0.0.1:3000');
    assert.equal(config.media.portBase, 40000);
    assert.ok(config.media.workers >= 1);
    assert.equal(config.jwt.algorithm, 'HS256');
    assert.equal(config.jwt.secret, undefined);
  });

  it('reads the room policy (open by default) and the grace period of a locked room (2 minutes)', () => {
    assert.deepEqual([loadConfig({}).rooms.policy, loadConfig({}).rooms.graceSeconds], ['open', 120]);
    const config = loadConfig({ RELAIS_ROOM_POLICY: 'lobby', RELAIS_ROOM_GRACE: '5m' });
    assert.equal(config.rooms.policy, 'lobby');
    assert.equal(config.rooms.graceSeconds, 300);
    assert.throws(() => loadConfig({ RELAIS_ROOM_POLICY: 'closed' }), /RELAIS_ROOM_POLICY/);
    assert.throws(() => loadConfig({ RELAIS_ROOM_GRACE: 'soon' }), /RELAIS_ROOM_GRACE/);
  });

  it('merges keyframe requests to a sender over 1 s unless RELAIS_KEYFRAME_REQUEST_DELAY_MS says otherwise', () => {
    assert.equal(loadConfig({}).media.keyFrameRequestDelayMs, 1000);
    assert.equal(loadConfig({ RELAIS_KEYFRAME_REQUEST_DELAY_MS: '0' }).media.keyFrameRequestDelayMs, 0);
    for (const bad of ['-1', 'soon', '1.5', '20000'])
      assert.throws(() => loadConfig({ RELAIS_KEYFRAME_REQUEST_DELAY_MS: bad }), /RELAIS_KEYFRAME_REQUEST_DELAY_MS/);
  });

  it('sizes the workers’ UDP buffers at 4 MiB unless RELAIS_UDP_BUFFER_BYTES says otherwise (0: the kernel’s)', () => {
    assert.equal(loadConfig({}).media.udpBufferBytes, 4 * 2 ** 20);
    assert.equal(loadConfig({ RELAIS_UDP_BUFFER_BYTES: '0' }).media.udpBufferBytes, 0);
    for (const bad of ['-1', 'big', '1.5', String(65 * 2 ** 20)])
      assert.throws(() => loadConfig({ RELAIS_UDP_BUFFER_BYTES: bad }), /RELAIS_UDP_BUFFER_BYTES/);
  });

  it('names the variable when a value is bad', () => {
    assert.throws(
      () => loadConfig({ RELAIS_HTTP_PORT: 'eighty' }),
      (e: Error) => e instanceof ConfigError && /RELAIS_HTTP_PORT/.test(e.message),
    );
    assert.throws(() => loadConfig({ RELAIS_WORKERS: '0' }), /RELAIS_WORKERS/);
    assert.throws(() => loadConfig({ RELAIS_LOG_LEVEL: 'loud' }), /RELAIS_LOG_LEVEL/);
    assert.throws(() => loadConfig({ RELAIS_JWT_SECRET: 'short' }), /RELAIS_JWT_SECRET.*32/);
    assert.throws(() => loadConfig({ RELAIS_PUBLIC_URL: 'not a url' }), /RELAIS_PUBLIC_URL/);
  });

  it('bounds token lifetimes at 24 h unless RELAIS_MAX_TOKEN_LIFETIME says otherwise', () => {
    assert.equal(loadConfig({}).jwt.maxTokenLifetimeSeconds, 86_400);
    assert.equal(loadConfig({ RELAIS_MAX_TOKEN_LIFETIME: '12h' }).jwt.maxTokenLifetimeSeconds, 43_200);
    assert.equal(loadConfig({ RELAIS_MAX_TOKEN_LIFETIME: ' ' }).jwt.maxTokenLifetimeSeconds, 86_400, 'empty = default');
    assert.equal(loadConfig({ RELAIS_MAX_TOKEN_LIFETIME: '7d' }).jwt.maxTokenLifetimeSeconds, 7 * 86_400);
    assert.equal(loadConfig({ RELAIS_MAX_TOKEN_LIFETIME: '3600' }).jwt.maxTokenLifetimeSeconds, 3600);
    assert.throws(
      () => loadConfig({ RELAIS_MAX_TOKEN_LIFETIME: 'forever' }),
      (e: Error) => e instanceof ConfigError && /RELAIS_MAX_TOKEN_LIFETIME: invalid duration "forever"/.test(e.message),
    );
    assert.throws(() => loadConfig({ RELAIS_MAX_TOKEN_LIFETIME: '31d' }), /RELAIS_MAX_TOKEN_LIFETIME: must be between/);
    assert.throws(() => loadConfig({ RELAIS_MAX_TOKEN_LIFETIME: '30s' }), /RELAIS_MAX_TOKEN_LIFETIME: must be between/);
  });

  it('refuses to start in production without a token key', () => {
    assert.throws(() => loadConfig({ RELAIS_ENV: 'production' }), /RELAIS_JWT_SECRET.*required/);
    assert.equal(loadConfig({ RELAIS_ENV: 'production', RELAIS_JWT_SECRET: SECRET }).env, 'production');
  });

  it('refuses half a TLS configuration and mismatched key settings', () => {
    assert.throws(
      () => loadConfig({ RELAIS_TLS_CERT_FILE: '/tmp/cert.pem' }),
      /RELAIS_TLS_CERT_FILE and RELAIS_TLS_KEY_FILE/,
    );
    assert.throws(
      () => loadConfig({ RELAIS_JWT_ALGORITHM: 'RS256', RELAIS_JWT_SECRET: SECRET }),
      /RELAIS_JWT_SECRET is for HS256/,
    );
    assert.throws(() => loadConfig({ RELAIS_JWT_PUBLIC_KEY_FILE: '/tmp/k.pem' }), /RS256 or ES256/);
  });

  it('uses https in the public URL when TLS is configured', () => {
    const config = loadConfig({
      RELAIS_TLS_CERT_FILE: '/c.pem',
      RELAIS_TLS_KEY_FILE: '/k.pem',
      RELAIS_HTTP_HOST: '0.0.0.0',
      RELAIS_HTTP_PORT: '8443',
    });
    assert.equal(config.http.publicUrl, 'https://localhost:8443');
    assert.deepEqual(config.http.tls, { certFile: '/c.pem', keyFile: '/k.pem' });
  });

  it('reads an optional JSON file, with the environment winning', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'relais-config-'));
    const file = path.join(dir, 'relais.json');
    writeFileSync(
      file,
      JSON.stringify({ RELAIS_HTTP_PORT: 4000, RELAIS_DEMO_ROOM: 'cellule', RELAIS_MAX_TOKEN_LIFETIME: 7200 }),
    );
    const config = loadConfig({ RELAIS_CONFIG_FILE: file, RELAIS_HTTP_PORT: '5000' });
    assert.equal(config.http.port, 5000);
    assert.equal(config.rooms.demoRoom, 'cellule');
    assert.equal(config.jwt.maxTokenLifetimeSeconds, 7200);
    writeFileSync(file, JSON.stringify({ RELAIS_NOPE: 1 }));
    assert.throws(() => loadConfig({ RELAIS_CONFIG_FILE: file }), /unknown key RELAIS_NOPE/);
    assert.throws(() => loadConfig({ RELAIS_CONFIG_FILE: path.join(dir, 'missing.json') }), /cannot read/);
  });

  describe('cluster settings', () => {
    it('runs alone without RELAIS_REDIS_URL, with a node id of its own', () => {
      const config = loadConfig({});
      assert.equal(config.redis, undefined);
      assert.equal(config.cluster.address, '127.0.0.1', 'loopback: a cluster on one machine');
      assert.match(config.nodeId, /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/);
      assert.notEqual(loadConfig({}).nodeId, config.nodeId, 'two nodes on one host differ');
      assert.equal(loadConfig({ RELAIS_NODE_ID: 'paris-1' }).nodeId, 'paris-1');
    });

    it('takes redis:// and rediss:// URLs, and keeps a display form without credentials', () => {
      const config = loadConfig({
        RELAIS_REDIS_URL: 'rediss://relais:hunter2-secret@redis.internal:6380/2',
        RELAIS_CLUSTER_ADDRESS: '10.0.0.7',
      });
      assert.equal(config.redis?.url, 'rediss://relais:hunter2-secret@redis.internal:6380/2');
      assert.equal(config.redis?.displayUrl, 'rediss://***:***@redis.internal:6380/2');
      assert.equal(config.cluster.address, '10.0.0.7');
      assert.equal(
        loadConfig({ RELAIS_REDIS_URL: 'redis://127.0.0.1:6379' }).redis?.displayUrl,
        'redis://127.0.0.1:6379',
      );
      assert.equal(redactRedisUrl('redis://:only-password@h:1'), 'redis://:***@h:1');
    });

    it('names the variable of a bad cluster setting, never echoing the URL', () => {
      for (const bad of ['http://user:hunter2-secret@redis:6379', 'not a url hunter2-secret', 'redis://']) {
        assert.throws(
          () => loadConfig({ RELAIS_REDIS_URL: bad }),
          (e: Error) =>
            e instanceof ConfigError && /RELAIS_REDIS_URL/.test(e.message) && !e.message.includes('hunter2'),
          bad,
        );
      }
      assert.throws(() => loadConfig({ RELAIS_NODE_ID: 'has space' }), /RELAIS_NODE_ID/);
      assert.throws(() => loadConfig({ RELAIS_NODE_ID: 'x'.repeat(65) }), /RELAIS_NODE_ID/);
      assert.throws(() => loadConfig({ RELAIS_CLUSTER_ADDRESS: 'http://10.0.0.7/' }), /RELAIS_CLUSTER_ADDRESS/);
      assert.throws(() => loadConfig({ RELAIS_CLUSTER_ADDRESS: 'node-a.local' }), /RELAIS_CLUSTER_ADDRESS/, 'an IP');
      assert.equal(loadConfig({ RELAIS_CLUSTER_ADDRESS: 'fd00::7' }).cluster.address, 'fd00::7');
    });

    it('reads the password from RELAIS_REDIS_PASSWORD_FILE, refusing an unusable file', () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'relais-config-'));
      const file = path.join(dir, 'redis-password');
      writeFileSync(file, 'from-the-file\n');
      const config = loadConfig({
        RELAIS_REDIS_URL: 'redis://relais@127.0.0.1:6379',
        RELAIS_REDIS_PASSWORD_FILE: file,
      });
      assert.equal(config.redis?.password, 'from-the-file');
      assert.throws(
        () => loadConfig({ RELAIS_REDIS_PASSWORD_FILE: file }),
        /RELAIS_REDIS_PASSWORD_FILE needs RELAIS_REDIS_URL/,
      );
      assert.throws(
        () => loadConfig({ RELAIS_REDIS_URL: 'redis://u:p@h:1', RELAIS_REDIS_PASSWORD_FILE: file }),
        /RELAIS_REDIS_PASSWORD_FILE: the password is already in RELAIS_REDIS_URL/,
      );
      assert.throws(
        () => loadConfig({ RELAIS_REDIS_URL: 'redis://h:1', RELAIS_REDIS_PASSWORD_FILE: path.join(dir, 'missing') }),
        /RELAIS_REDIS_PASSWORD_FILE: cannot read/,
      );
      writeFileSync(file, '\n');
      assert.throws(
        () => loadConfig({ RELAIS_REDIS_URL: 'redis://h:1', RELAIS_REDIS_PASSWORD_FILE: file }),
        /RELAIS_REDIS_PASSWORD_FILE: .* is empty/,
      );
    });
  });
});
