import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, DEFAULT_TURN_TTL_SECONDS, loadConfig } from '../../server/src/config/config.js';

const TURN_SECRET = 't'.repeat(40);
const URLS = 'turns:turn.example.gouv.fr:443?transport=tcp, turn:turn.example.gouv.fr:3478?transport=udp';

describe('configuration: TURN', () => {
  it('gives no TURN at all when nothing is configured (today’s behaviour)', () => {
    assert.equal(loadConfig({}).turn, undefined);
    assert.equal(loadConfig({ RELAIS_TURN_URLS: ' ' }).turn, undefined);
  });

  it('reads the URLs, the secret and the lifetime (1 h by default)', () => {
    const { turn } = loadConfig({ RELAIS_TURN_URLS: URLS, RELAIS_TURN_SECRET: TURN_SECRET });
    assert.deepEqual(turn, {
      urls: ['turns:turn.example.gouv.fr:443?transport=tcp', 'turn:turn.example.gouv.fr:3478?transport=udp'],
      secret: TURN_SECRET,
      ttlSeconds: DEFAULT_TURN_TTL_SECONDS,
    });
    assert.equal(DEFAULT_TURN_TTL_SECONDS, 3600);
    const short = loadConfig({
      RELAIS_TURN_URLS: 'turn:[::1]:3478',
      RELAIS_TURN_SECRET: TURN_SECRET,
      RELAIS_TURN_TTL: '10m',
    });
    assert.equal(short.turn?.ttlSeconds, 600);
  });

  it('reads the secret from a file (trailing newline dropped)', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'relais-turn-config-'));
    try {
      const file = path.join(dir, 'turn-secret');
      writeFileSync(file, `${TURN_SECRET}\n`);
      assert.equal(loadConfig({ RELAIS_TURN_URLS: URLS, RELAIS_TURN_SECRET_FILE: file }).turn?.secret, TURN_SECRET);
      writeFileSync(file, 'short\n');
      assert.throws(
        () => loadConfig({ RELAIS_TURN_URLS: URLS, RELAIS_TURN_SECRET_FILE: file }),
        /RELAIS_TURN_SECRET_FILE.*32/,
      );
      assert.throws(
        () => loadConfig({ RELAIS_TURN_URLS: URLS, RELAIS_TURN_SECRET_FILE: path.join(dir, 'missing') }),
        /RELAIS_TURN_SECRET_FILE: cannot read/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a half or wrong TURN configuration with a message naming the variable', () => {
    const refused = (env: Record<string, string>, pattern: RegExp) =>
      assert.throws(
        () => loadConfig(env),
        (e: Error) => e instanceof ConfigError && pattern.test(e.message),
      );
    refused({ RELAIS_TURN_URLS: URLS }, /RELAIS_TURN_URLS needs RELAIS_TURN_SECRET/);
    refused({ RELAIS_TURN_SECRET: TURN_SECRET }, /RELAIS_TURN_SECRET needs RELAIS_TURN_URLS/);
    refused({ RELAIS_TURN_URLS: URLS, RELAIS_TURN_SECRET: 'short' }, /RELAIS_TURN_SECRET.*32/);
    refused(
      { RELAIS_TURN_URLS: URLS, RELAIS_TURN_SECRET: TURN_SECRET, RELAIS_TURN_SECRET_FILE: '/x' },
      /set one, not both/,
    );
    refused(
      { RELAIS_TURN_URLS: 'stun:stun.l.google.com:19302', RELAIS_TURN_SECRET: TURN_SECRET },
      /never hands out STUN/,
    );
    refused({ RELAIS_TURN_URLS: 'https://turn.example', RELAIS_TURN_SECRET: TURN_SECRET }, /not a TURN URL/);
    refused({ RELAIS_TURN_URLS: 'turn:turn.example:99999', RELAIS_TURN_SECRET: TURN_SECRET }, /outside 1-65535/);
    refused(
      { RELAIS_TURN_URLS: 'turns:turn.example:443?transport=udp', RELAIS_TURN_SECRET: TURN_SECRET },
      /runs over TCP/,
    );
    refused({ RELAIS_TURN_URLS: URLS, RELAIS_TURN_SECRET: TURN_SECRET, RELAIS_TURN_TTL: '10s' }, /RELAIS_TURN_TTL/);
  });
});
