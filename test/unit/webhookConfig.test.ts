import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../server/src/config/config.js';
import { DEFAULT_WEBHOOK_QUEUE, loadWebhookConfig } from '../../server/src/config/webhookConfig.js';

const SECRET = 's'.repeat(40);
const WHSEC = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

function refused(env: Record<string, string>, message: RegExp): void {
  assert.throws(
    () => loadWebhookConfig(env),
    (error: unknown) => error instanceof ConfigError && message.test(error.message),
  );
}

describe('configuration: webhooks', () => {
  it('is off when nothing is set', () => {
    assert.equal(loadWebhookConfig({}), undefined);
    assert.equal(loadWebhookConfig({ RELAIS_WEBHOOK_URLS: ' , ', RELAIS_WEBHOOK_QUEUE: '10' }), undefined);
  });

  it('reads the URLs (loopback and private ones too), the secret and the queue (1000 by default)', () => {
    const settings = loadWebhookConfig({
      RELAIS_WEBHOOK_URLS: 'https://hooks.prefecture.gouv.fr/relais , http://127.0.0.1:8080/in,http://10.0.0.5/x',
      RELAIS_WEBHOOK_SECRET: SECRET,
    });
    assert.deepEqual(settings, {
      urls: ['https://hooks.prefecture.gouv.fr/relais', 'http://127.0.0.1:8080/in', 'http://10.0.0.5/x'],
      secret: SECRET,
      maxQueue: DEFAULT_WEBHOOK_QUEUE,
    });
    assert.equal(DEFAULT_WEBHOOK_QUEUE, 1000);
    const whsec = loadWebhookConfig({
      RELAIS_WEBHOOK_URLS: 'http://[::1]:9000/',
      RELAIS_WEBHOOK_SECRET: WHSEC,
      RELAIS_WEBHOOK_QUEUE: '50',
    });
    assert.equal(whsec?.secret, WHSEC);
    assert.equal(whsec?.maxQueue, 50);
  });

  it('reads the secret from a file (trailing newline dropped)', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'relais-webhook-config-'));
    try {
      const file = path.join(dir, 'webhook-secret');
      writeFileSync(file, `${WHSEC}\n`);
      const env = { RELAIS_WEBHOOK_URLS: 'http://127.0.0.1:9/', RELAIS_WEBHOOK_SECRET_FILE: file };
      assert.equal(loadWebhookConfig(env)?.secret, WHSEC);
      writeFileSync(file, 'short\n');
      refused(env, /RELAIS_WEBHOOK_SECRET_FILE: .*32 characters/);
      refused(
        { ...env, RELAIS_WEBHOOK_SECRET_FILE: path.join(dir, 'missing') },
        /RELAIS_WEBHOOK_SECRET_FILE: cannot read .*ENOENT/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses URLs without a secret, and a secret without URLs', () => {
    refused({ RELAIS_WEBHOOK_URLS: 'http://127.0.0.1:9/' }, /RELAIS_WEBHOOK_URLS needs RELAIS_WEBHOOK_SECRET/);
    refused({ RELAIS_WEBHOOK_SECRET: SECRET }, /RELAIS_WEBHOOK_SECRET needs RELAIS_WEBHOOK_URLS/);
    refused(
      { RELAIS_WEBHOOK_URLS: 'http://127.0.0.1:9/', RELAIS_WEBHOOK_SECRET: SECRET, RELAIS_WEBHOOK_SECRET_FILE: '/x' },
      /set one, not both/,
    );
  });

  it('refuses bad URLs by position, without repeating them', () => {
    const base = { RELAIS_WEBHOOK_SECRET: SECRET };
    const cases: [string, RegExp][] = [
      ['http://127.0.0.1:9/,not a url', /RELAIS_WEBHOOK_URLS \(entry 2\): is not a URL/],
      ['ftp://files.example/x', /RELAIS_WEBHOOK_URLS \(entry 1\): must start with http/],
      ['https://user:hunter2secret@hooks.example/x', /RELAIS_WEBHOOK_URLS \(entry 1\): must not hold a user name/],
      ['http://a.example/x,http://a.example/x', /RELAIS_WEBHOOK_URLS: lists a URL twice/],
    ];
    for (const [urls, message] of cases) {
      refused({ ...base, RELAIS_WEBHOOK_URLS: urls }, message);
      assert.throws(
        () => loadWebhookConfig({ ...base, RELAIS_WEBHOOK_URLS: urls }),
        (error: unknown) =>
          !(error as Error).message.includes('hunter2') && !(error as Error).message.includes('not a url'),
      );
    }
    const many = Array.from({ length: 17 }, (_, i) => `http://127.0.0.1:${9000 + i}/`).join(',');
    refused({ ...base, RELAIS_WEBHOOK_URLS: many }, /at most 16 URLs/);
  });

  it('refuses a weak or malformed secret and a bad queue size, never repeating the secret', () => {
    const urls = { RELAIS_WEBHOOK_URLS: 'http://127.0.0.1:9/' };
    refused({ ...urls, RELAIS_WEBHOOK_SECRET: 'tooshort-secret' }, /RELAIS_WEBHOOK_SECRET: .*at least 32/);
    refused({ ...urls, RELAIS_WEBHOOK_SECRET: 'whsec_not*base64!' }, /RELAIS_WEBHOOK_SECRET: .*base64/);
    refused({ ...urls, RELAIS_WEBHOOK_SECRET: `whsec_${Buffer.alloc(8).toString('base64')}` }, /24-64 bytes/);
    assert.throws(
      () => loadWebhookConfig({ ...urls, RELAIS_WEBHOOK_SECRET: 'whsec_not*base64!' }),
      (error: unknown) => !(error as Error).message.includes('not*base64'),
    );
    for (const queue of ['0', '-5', '1.5', 'many', '2000000']) {
      refused({ ...urls, RELAIS_WEBHOOK_SECRET: SECRET, RELAIS_WEBHOOK_QUEUE: queue }, /RELAIS_WEBHOOK_QUEUE: /);
    }
  });
});
