/**
 * Webhook settings (config/README.md, "Webhooks"): RELAIS_WEBHOOK_URLS, RELAIS_WEBHOOK_SECRET
 * or RELAIS_WEBHOOK_SECRET_FILE, RELAIS_WEBHOOK_QUEUE. Loopback and private addresses are
 * allowed: an air-gapped site's receiver sits on its own network. Messages never repeat a URL
 * (its path may hold a key) or the secret.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { RelaisError } from '../domain/errors.js';
import { webhookKey } from '../webhooks/webhookSecret.js';
import { ConfigError } from './ConfigError.js';

export const WEBHOOK_CONFIG_KEYS = [
  'RELAIS_WEBHOOK_URLS',
  'RELAIS_WEBHOOK_SECRET',
  'RELAIS_WEBHOOK_SECRET_FILE',
  'RELAIS_WEBHOOK_QUEUE',
] as const;

export const DEFAULT_WEBHOOK_QUEUE = 1000;
export const MAX_WEBHOOK_URLS = 16;

export interface WebhookSettings {
  urls: string[];
  /** As configured: `whsec_<base64>` or the raw text. Never logged. */
  secret: string;
  /** Events waiting per URL before the oldest is dropped. */
  maxQueue: number;
}

const blankIsUnset = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

const webhookUrl = z.string().superRefine((text, context) => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    context.addIssue({ code: 'custom', message: 'is not a URL (use http(s)://host[:port]/path)' });
    return;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    context.addIssue({ code: 'custom', message: 'must start with http:// or https://' });
  } else if (url.username || url.password) {
    context.addIssue({ code: 'custom', message: 'must not hold a user name or password (put a key in the path)' });
  }
});

const schema = z.object({
  RELAIS_WEBHOOK_URLS: z.preprocess(
    blankIsUnset,
    z
      .string()
      .transform((text) =>
        text
          .split(',')
          .map((url) => url.trim())
          .filter((url) => url !== ''),
      )
      .pipe(
        z
          .array(webhookUrl)
          .max(MAX_WEBHOOK_URLS, `at most ${MAX_WEBHOOK_URLS} URLs`)
          .refine((urls) => new Set(urls).size === urls.length, 'lists a URL twice'),
      )
      .optional(),
  ),
  RELAIS_WEBHOOK_SECRET: z.preprocess(blankIsUnset, z.string().optional()),
  RELAIS_WEBHOOK_SECRET_FILE: z.preprocess(blankIsUnset, z.string().optional()),
  RELAIS_WEBHOOK_QUEUE: z.preprocess(
    blankIsUnset,
    z.coerce
      .number()
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(1_000_000, 'must be at most 1000000')
      .default(DEFAULT_WEBHOOK_QUEUE),
  ),
});

/** The settings, `undefined` when webhooks are not configured, or a `ConfigError` naming the variable. */
export function loadWebhookConfig(env: Record<string, string | undefined>): WebhookSettings | undefined {
  const result = schema.safeParse(Object.fromEntries(WEBHOOK_CONFIG_KEYS.map((key) => [key, env[key]])));
  if (!result.success) {
    // An entry's position, never its text: a URL may hold a key.
    const lines = result.error.issues.map((issue) => {
      const [key, index] = issue.path;
      return `${String(key)}${typeof index === 'number' ? ` (entry ${index + 1})` : ''}: ${issue.message}`;
    });
    throw new ConfigError(`Invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const raw = result.data;
  const urls = raw.RELAIS_WEBHOOK_URLS ?? [];
  if (raw.RELAIS_WEBHOOK_SECRET && raw.RELAIS_WEBHOOK_SECRET_FILE) {
    throw new ConfigError('RELAIS_WEBHOOK_SECRET and RELAIS_WEBHOOK_SECRET_FILE: set one, not both');
  }
  const secretVariable = raw.RELAIS_WEBHOOK_SECRET_FILE ? 'RELAIS_WEBHOOK_SECRET_FILE' : 'RELAIS_WEBHOOK_SECRET';
  const hasSecret = Boolean(raw.RELAIS_WEBHOOK_SECRET || raw.RELAIS_WEBHOOK_SECRET_FILE);
  if (urls.length === 0) {
    if (hasSecret) throw new ConfigError(`${secretVariable} needs RELAIS_WEBHOOK_URLS (where to send the events)`);
    return undefined;
  }
  if (!hasSecret) {
    throw new ConfigError(
      'RELAIS_WEBHOOK_URLS needs RELAIS_WEBHOOK_SECRET or RELAIS_WEBHOOK_SECRET_FILE: every webhook is signed',
    );
  }
  let secret = raw.RELAIS_WEBHOOK_SECRET ?? '';
  if (raw.RELAIS_WEBHOOK_SECRET_FILE) {
    try {
      secret = readFileSync(raw.RELAIS_WEBHOOK_SECRET_FILE, 'utf8').trim();
    } catch (error) {
      throw new ConfigError(
        `RELAIS_WEBHOOK_SECRET_FILE: cannot read ${raw.RELAIS_WEBHOOK_SECRET_FILE}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
      );
    }
  }
  try {
    webhookKey(secret);
  } catch (error) {
    if (error instanceof RelaisError) throw new ConfigError(`${secretVariable}: ${error.message}`);
    throw error;
  }
  return { urls, secret, maxQueue: raw.RELAIS_WEBHOOK_QUEUE };
}
