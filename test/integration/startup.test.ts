import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { freePortRange } from '../../tools/freePorts.js';
import { eventually } from '../support/wait.js';

describe('starting relais (npm start)', function () {
  this.timeout(60_000);
  let child: ChildProcess | undefined;

  afterEach(() => {
    child?.kill('SIGKILL');
    child = undefined;
  });

  it('on a first run in development: makes a throw-away key, prints a join link per role, serves /readyz', async () => {
    const [httpPort, rtcPort] = [await freePortRange(1), await freePortRange(1)];
    const relais = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], {
      env: {
        PATH: process.env.PATH ?? '',
        RELAIS_HTTP_PORT: String(httpPort),
        RELAIS_RTC_PORT_BASE: String(rtcPort),
        RELAIS_WORKERS: '1',
        RELAIS_LOG_PRETTY: 'false',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = relais;
    let out = '';
    relais.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    // The warning (a pino line) and the links (a plain write) reach stdout through different streams, in either order.
    await eventually(
      'the demo links and the throw-away key warning printed',
      () => {
        if (!/listener\s+http/.test(out) || !/throw-away key/.test(out)) throw new Error(`output so far:\n${out}`);
        return true;
      },
      30_000,
    );
    for (const role of ['moderator', 'speaker', 'listener']) {
      assert.match(out, new RegExp(`${role}\\s+http://127\\.0\\.0\\.1:${httpPort}/#token=ey`));
    }
    assert.match(out, /throw-away key/);
    const ready = await fetch(`http://127.0.0.1:${httpPort}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ready', workers: 1, rooms: 0 });
    assert.equal((await fetch(`http://127.0.0.1:${httpPort}/healthz`)).status, 200);

    // Graceful stop on SIGTERM.
    const exited = new Promise<number | null>((resolve) => relais.once('exit', (code) => resolve(code)));
    relais.kill('SIGTERM');
    assert.equal(await exited, 0);
  });

  it('in production without a key: stops at once and says which variable to set', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], {
      env: { PATH: process.env.PATH ?? '', RELAIS_ENV: 'production' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(result.status, 78);
    assert.match(result.stderr, /RELAIS_JWT_SECRET .* is required when RELAIS_ENV=production/);
  });

  it('names a bad variable and stops', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], {
      env: { PATH: process.env.PATH ?? '', RELAIS_RTC_PORT_BASE: 'many' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(result.status, 78);
    assert.match(result.stderr, /RELAIS_RTC_PORT_BASE/);
  });
});
