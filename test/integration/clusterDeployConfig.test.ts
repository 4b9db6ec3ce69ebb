/**
 * The cluster example operators are given (deploy/cluster), checked against the code it runs:
 * compose.yaml's nodes set only variables the server knows, each valid for loadConfig and in step
 * with the Dockerfile, with distinct ids, addresses and ports; HAProxy passes Socket.IO's
 * WebSocket upgrade to both nodes without stickiness; Valkey keeps an append-only file and
 * requires a password. Then the secrets make-secrets.sh writes are used as compose uses them, with
 * the shipped valkey.conf under Debian's redis-server and a real node: it logs in with the password
 * file and stores a revocation; without the password, or outside relais's keys, Redis refuses.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createClient } from 'redis';
import { z } from 'zod';
import { type PrivateRedis, startPrivateRedis } from '../../tools/redisServer.js';
import { CONFIG_KEYS, loadConfig } from '../../server/src/config/config.js';
import { startTestServer, type TestServer } from '../support/server.js';

const DIR = path.resolve(import.meta.dirname, '../../deploy/cluster');
const read = (name: string): string => readFileSync(path.join(DIR, name), 'utf8');
const run = promisify(execFile);

// mocha's own YAML parser (js-yaml, a dependency of mocha): no parser of our own for one test.
const yaml = createRequire(import.meta.url)('js-yaml') as { load(text: string): unknown };

const environment = z.record(z.string(), z.union([z.string(), z.number()]).transform(String));
const service = z.object({
  image: z.string().optional(),
  build: z.object({ context: z.string(), dockerfile: z.string() }).optional(),
  user: z.string().optional(),
  command: z.array(z.string()).optional(),
  environment: environment.optional(),
  ports: z.array(z.string()).optional(),
  volumes: z.array(z.string()).optional(),
  secrets: z.array(z.string()).optional(),
  networks: z
    .union([z.array(z.string()), z.record(z.string(), z.object({ ipv4_address: z.string().optional() }).nullable())])
    .optional(),
});
const composeSchema = z.object({
  services: z.record(z.string(), service),
  networks: z.record(
    z.string(),
    z.object({
      internal: z.boolean().optional(),
      ipam: z.object({ config: z.array(z.object({ subnet: z.string() })) }).optional(),
    }),
  ),
  secrets: z.record(z.string(), z.object({ file: z.string() })),
});
type Service = z.infer<typeof service>;

/** Values for compose's `${VAR:?…}` interpolations, from env.example as an operator fills it in. */
function exampleEnv(): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of read('env.example').split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match) values[match[1] as string] = match[2] as string;
  }
  return values;
}

function interpolate(text: string, values: Record<string, string>): string {
  return text.replace(/\$\{([A-Z0-9_]+)(?::\?[^}]*)?\}/g, (_whole, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`compose.yaml uses \${${name}}, which env.example does not set`);
    return value;
  });
}

/** The Dockerfile's runtime stage: its ENV, USER, EXPOSE lines. */
function dockerfile() {
  const text = readFileSync(path.resolve(DIR, '../../Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const runtime = text.slice(text.lastIndexOf('\nFROM '));
  const env: Record<string, string> = {};
  for (const line of runtime.split('\n').filter((l) => l.startsWith('ENV '))) {
    for (const match of line.matchAll(/([A-Z_]+)=(\S+)/g)) env[match[1] as string] = match[2] as string;
  }
  const user = /^USER (\S+)$/m.exec(runtime)?.[1];
  const expose = /^EXPOSE .*?(\d+)-(\d+)\/udp/m.exec(runtime);
  return { env, user, exposeMin: Number(expose?.[1]), exposeMax: Number(expose?.[2]) };
}

/** `a-b:a-b/proto` or `a:a/proto` → the host range, the container range, the protocol. */
function published(mapping: string) {
  const match = /^(\d+)(?:-(\d+))?:(\d+)(?:-(\d+))?\/(udp|tcp)$/.exec(mapping);
  assert.ok(match, `port mapping ${mapping}`);
  const [, hostFrom, hostTo, from, to, protocol] = match;
  return {
    host: [Number(hostFrom), Number(hostTo ?? hostFrom)],
    container: [Number(from), Number(to ?? from)],
    protocol: protocol as string,
  };
}

const overlaps = (a: number[], b: number[]): boolean =>
  (a[0] as number) <= (b[1] as number) && (b[0] as number) <= (a[1] as number);

function ipInSubnet(ip: string, subnet: string): boolean {
  const [base, bits] = subnet.split('/');
  const toNumber = (text: string): number => text.split('.').reduce((sum, part) => sum * 256 + Number(part), 0);
  const mask = 2 ** 32 - 2 ** (32 - Number(bits));
  return (toNumber(ip) & mask) >>> 0 === (toNumber(base as string) & mask) >>> 0;
}

/** haproxy.cfg as sections: `backend relais` → its lines, trimmed, comments dropped. */
function haproxySections(text: string): Map<string, string[]> {
  const sections = new Map<string, string[]>();
  let current: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trimEnd();
    if (!line.trim()) continue;
    if (/^\S/.test(line)) {
      current = [];
      sections.set(line.trim(), current);
    } else current.push(line.trim());
  }
  return sections;
}

/** A make-secrets.sh run in a temporary directory: the files compose mounts as secrets. */
async function makeSecrets() {
  const parent = mkdtempSync(path.join(os.tmpdir(), 'relais-cluster-secrets-'));
  const dir = path.join(parent, 'secrets');
  await run('sh', [path.join(DIR, 'make-secrets.sh'), dir]);
  return {
    parent,
    dir,
    shared: JSON.parse(readFileSync(path.join(dir, 'relais.json'), 'utf8')) as Record<string, string>,
    password: readFileSync(path.join(dir, 'redis-password'), 'utf8').trim(),
    acl: readFileSync(path.join(dir, 'valkey-users.acl'), 'utf8'),
  };
}

describe('the cluster example (deploy/cluster)', function () {
  this.timeout(60_000);
  const compose = composeSchema.parse(yaml.load(read('compose.yaml')));
  const image = dockerfile();
  const nodes = Object.entries(compose.services).filter(([, s]) => s.build?.dockerfile === 'Dockerfile') as [
    string,
    Service & { environment: Record<string, string> },
  ][];
  const valkey = compose.services.valkey as Service;
  const proxy = compose.services.proxy as Service;
  const haproxyText = read('haproxy.cfg');
  const haproxy = haproxySections(haproxyText);
  const cleanups: (() => Promise<void> | void)[] = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('has two relais nodes built from the Dockerfile, setting only variables the server knows', () => {
    assert.deepEqual(
      nodes.map(([name]) => name),
      ['relais-1', 'relais-2'],
    );
    const configSource = readFileSync(path.resolve(DIR, '../../server/src/config/config.ts'), 'utf8');
    assert.match(configSource, /env\.RELAIS_CONFIG_FILE/, 'RELAIS_CONFIG_FILE is read by loadConfig');
    const known = new Set<string>([...CONFIG_KEYS, 'RELAIS_CONFIG_FILE']);
    for (const [name, node] of nodes) {
      assert.ok(node.environment, `${name} has an environment`);
      for (const variable of Object.keys(node.environment)) {
        assert.ok(known.has(variable), `${name}: ${variable} is not a variable of server/src/config/config.ts`);
      }
      assert.equal(node.user, image.user, `${name} runs as the image's user`);
      assert.equal(node.build?.context, '../..', 'built from the repository');
    }
    for (const variable of Object.keys(image.env).filter((v) => v.startsWith('RELAIS_'))) {
      assert.ok(known.has(variable), `Dockerfile: ${variable} is unknown to config.ts`);
    }
  });

  it('gives each node its own id, URL, cluster address, media and pipe ports, each valid for loadConfig', async () => {
    const secrets = await makeSecrets();
    cleanups.push(() => rmSync(secrets.parent, { recursive: true, force: true }));
    const values = exampleEnv();
    const clusterNetwork = compose.networks.cluster;
    assert.equal(clusterNetwork?.internal, true, 'the cluster network has no route out');
    const subnet = clusterNetwork?.ipam?.config[0]?.subnet as string;
    const configs = nodes.map(([name, node]) => {
      const env: Record<string, string> = { ...image.env };
      for (const [key, value] of Object.entries(node.environment)) env[key] = interpolate(value, values);
      // The secrets as compose mounts them.
      env.RELAIS_CONFIG_FILE = path.join(secrets.dir, 'relais.json');
      env.RELAIS_REDIS_PASSWORD_FILE = path.join(secrets.dir, 'redis-password');
      const config = loadConfig(env);
      assert.equal(config.env, 'production', `${name} runs in production`);
      assert.ok(config.jwt.secret && config.admin.key && config.cluster.secret, `${name} has the shared keys`);
      assert.equal(config.http.port, Number(image.env.RELAIS_HTTP_PORT), `${name}: the Dockerfile's HTTP port`);
      assert.equal(config.media.listenIp, '0.0.0.0');
      assert.equal(config.media.announcedAddress, values.PUBLIC_IP);
      assert.equal(config.redis?.url, 'redis://valkey:6379');
      assert.equal(config.redis?.password, secrets.password);
      const networks = node.networks as Record<string, { ipv4_address?: string } | null>;
      assert.equal(networks.cluster?.ipv4_address, config.cluster.address, `${name} pipes on its cluster address`);
      assert.ok(ipInSubnet(config.cluster.address, subnet), `${name}: ${config.cluster.address} in ${subnet}`);
      const rtc = [config.media.portBase, config.media.portBase + config.media.workers - 1];
      assert.ok(
        (rtc[0] as number) >= image.exposeMin && (rtc[1] as number) <= image.exposeMax,
        `${name}: RTC ports ${rtc.join('-')} within the image's EXPOSE ${image.exposeMin}-${image.exposeMax}`,
      );
      const mappings = (node.ports ?? []).map(published);
      for (const protocol of ['udp', 'tcp']) {
        const mapping = mappings.find((m) => m.protocol === protocol);
        assert.deepEqual(mapping?.container, rtc, `${name} publishes its RTC ports over ${protocol}`);
        assert.deepEqual(mapping?.host, rtc, `${name}: published on the port it announces (${protocol})`);
      }
      assert.equal(mappings.length, 2, `${name} publishes its media ports only`);
      return { name, config, rtc, pipes: [config.cluster.pipePorts.min, config.cluster.pipePorts.max] };
    });
    const [a, b] = configs as [(typeof configs)[0], (typeof configs)[0]];
    assert.notEqual(a.config.nodeId, b.config.nodeId);
    assert.notEqual(a.config.http.publicUrl, b.config.http.publicUrl);
    assert.notEqual(a.config.cluster.address, b.config.cluster.address);
    assert.ok(!overlaps(a.rtc, b.rtc), `RTC ports ${a.rtc.join('-')} and ${b.rtc.join('-')} overlap`);
    assert.ok(!overlaps(a.pipes, b.pipes), 'pipe port ranges overlap');
    assert.equal(a.config.jwt.secret, b.config.jwt.secret, 'one signing key');
    assert.equal(a.config.cluster.secret, b.config.cluster.secret, 'one cluster secret');
  });

  it('puts HAProxy in front: Socket.IO upgrades reach both nodes, no stickiness, /internal not served', () => {
    assert.ok(
      proxy.volumes?.some((v) => v.startsWith('./haproxy.cfg:')),
      'the proxy runs haproxy.cfg',
    );
    const defaults = haproxy.get('defaults') ?? [];
    assert.ok(defaults.includes('mode http'), 'HTTP mode: HAProxy forwards the Upgrade handshake');
    assert.ok(
      defaults.some((l) => /^timeout tunnel \d+[smh]$/.test(l)),
      'a tunnel timeout for upgraded WebSockets',
    );
    assert.ok(defaults.includes('option redispatch'), 'a killed node’s clients are sent to another at once');
    const frontend = [...haproxy.entries()].find(([name]) => name.startsWith('frontend'))?.[1] ?? [];
    assert.ok(frontend.includes('acl socket_io path_beg /socket.io/'));
    assert.ok(frontend.includes('acl websocket_upgrade hdr(upgrade) -i websocket'));
    assert.ok(
      frontend.includes('http-request deny deny_status 400 if socket_io !websocket_upgrade'),
      'a Socket.IO request without a WebSocket upgrade is refused (long polling would need stickiness)',
    );
    assert.ok(frontend.some((l) => /^http-request deny .* if \{ path_beg \/internal \}$/.test(l)));
    assert.ok(frontend.some((l) => /^bind :443 ssl crt \/run\/secrets\/tls_pem/.test(l)));
    assert.ok(proxy.secrets?.includes('tls_pem'));
    const defaultBackend = /^default_backend (\S+)$/m.exec(frontend.join('\n'))?.[1];
    const balanced = haproxy.get(`backend ${defaultBackend}`) ?? [];
    const httpPort = image.env.RELAIS_HTTP_PORT;
    assert.deepEqual(
      balanced.filter((l) => l.startsWith('server ')),
      nodes.map(([name]) => `server ${name} ${name}:${httpPort}`),
      'every node, on its HTTP port',
    );
    assert.ok(balanced.includes('option httpchk GET /readyz'), 'a node that is not ready gets no new clients');
    assert.doesNotMatch(haproxyText, /^\s*(stick|cookie|balance source|hash-type)\b/m, 'no sticky sessions');
    for (const [name] of nodes) {
      assert.ok(
        frontend.some((l) => l.startsWith('use_backend ') && l.includes(name)),
        `${name} has its own name`,
      );
    }
  });

  it('keeps Valkey private, with an append-only file and a password', () => {
    assert.equal(valkey.image, 'valkey/valkey:8');
    assert.equal(valkey.ports, undefined, 'Valkey is not published');
    assert.deepEqual(Object.keys(valkey.networks ?? {}), ['cluster'], 'reachable from the cluster network only');
    const conf = read('valkey.conf');
    const mount = valkey.volumes?.find((v) => v.startsWith('./valkey.conf:'));
    assert.ok(mount, 'valkey.conf is mounted');
    assert.equal(valkey.command?.[1], mount.split(':')[1], 'and is the file valkey-server reads');
    assert.match(conf, /^appendonly yes$/m);
    assert.ok(valkey.volumes?.some((v) => /^valkey-data:\/data$/.test(v)) && /^dir \/data$/m.test(conf), 'AOF kept');
    const aclfile = /^aclfile \/run\/secrets\/(\S+)$/m.exec(conf)?.[1];
    assert.ok(aclfile && valkey.secrets?.includes(aclfile), 'users from an ACL file mounted as a secret');
    assert.equal(compose.secrets[aclfile]?.file, './secrets/valkey-users.acl');
    for (const [name, node] of nodes) {
      assert.ok(node.secrets?.includes('redis_password'), `${name} has the password`);
      assert.equal(node.environment.RELAIS_REDIS_PASSWORD_FILE, '/run/secrets/redis_password');
    }
  });

  it('works with the secrets make-secrets.sh writes: Redis 7.0 with valkey.conf and a node logging in with the password', async () => {
    const secrets = await makeSecrets();
    cleanups.push(() => rmSync(secrets.parent, { recursive: true, force: true }));
    await assert.rejects(run('sh', [path.join(DIR, 'make-secrets.sh'), secrets.dir]), 'it never overwrites');
    assert.match(secrets.acl, /^user default on resetpass #[0-9a-f]{64} /m, 'one user, with a password');
    assert.doesNotMatch(secrets.acl, new RegExp(secrets.password), 'the ACL file holds no password');
    for (const key of ['RELAIS_JWT_SECRET', 'RELAIS_ADMIN_KEY', 'RELAIS_CLUSTER_SECRET']) {
      assert.ok((secrets.shared[key] ?? '').length >= 32, key);
    }
    // valkey.conf's directives as arguments (paths and address replaced), to Debian's redis-server.
    const args: string[] = [];
    for (const line of read('valkey.conf').split('\n')) {
      const match = /^([a-z-]+) (.*)$/.exec(line.trim());
      if (!match || ['dir', 'bind', 'port', 'aclfile'].includes(match[1] as string)) continue;
      args.push(`--${match[1]}`, ...(match[2] as string).split(' ').map((v) => v.replace(/^"(.*)"$/, '$1')));
    }
    const redis: PrivateRedis = await startPrivateRedis({
      args: [...args, '--aclfile', path.join(secrets.dir, 'valkey-users.acl')],
    });
    cleanups.push(() => redis.stop());

    const node: TestServer = await startTestServer({
      RELAIS_CONFIG_FILE: path.join(secrets.dir, 'relais.json'),
      RELAIS_JWT_SECRET: secrets.shared.RELAIS_JWT_SECRET as string,
      RELAIS_REDIS_URL: redis.url,
      RELAIS_REDIS_PASSWORD_FILE: path.join(secrets.dir, 'redis-password'),
      RELAIS_NODE_ID: 'relais-1',
    });
    cleanups.push(() => node.stop());
    const ready = await fetch(`${node.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal(((await ready.json()) as { redis?: string }).redis, 'connected');
    const authorization = { authorization: `Bearer ${secrets.shared.RELAIS_ADMIN_KEY}` };
    const revoked = await fetch(`${node.url}/admin/revocations`, {
      method: 'POST',
      headers: { ...authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ jti: 'leaked-link', reason: 'deploy example' }),
    });
    assert.equal(revoked.status, 201, 'a revocation is stored, within the ACL user’s rights');
    const listed = (await (await fetch(`${node.url}/admin/nodes`, { headers: authorization })).json()) as {
      nodes: { id: string }[];
    };
    assert.deepEqual(
      listed.nodes.map((n) => n.id),
      ['relais-1'],
    );

    const asRelais = createClient({ url: redis.url, password: secrets.password });
    await asRelais.connect();
    cleanups.push(() => asRelais.destroy());
    const refusal = (error: Error): string => error.message.split(' ')[0] as string;
    assert.equal(await asRelais.get('unrelated-key').catch(refusal), 'NOPERM', 'only relais’s keys');
    assert.equal(await asRelais.flushAll().catch(refusal), 'NOPERM', 'no @dangerous command');
    const anonymous = createClient({ url: redis.url, socket: { reconnectStrategy: false } });
    anonymous.on('error', () => undefined);
    await anonymous.connect();
    cleanups.push(() => anonymous.destroy());
    await assert.rejects(anonymous.ping(), /NOAUTH/, 'nothing without the password');
  });
});
