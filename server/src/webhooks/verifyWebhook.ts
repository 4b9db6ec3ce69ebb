/**
 * What a receiver does with each request (relais's tests do it too): check the Standard
 * Webhooks signature over the raw body, in constant time, and refuse a timestamp more than
 * 5 minutes away (a replayed or delayed request). Works with `node:http`'s headers or fetch's.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { SIGNATURE_VERSION } from './webhookSignature.js';
import { webhookKey } from './webhookSecret.js';

export const WEBHOOK_TOLERANCE_SECONDS = 300;

export const WEBHOOK_REFUSALS = [
  'missing-header',
  'bad-timestamp',
  'timestamp-too-old',
  'timestamp-too-new',
  'bad-signature',
  'bad-body',
] as const;
export type WebhookRefusal = (typeof WEBHOOK_REFUSALS)[number];

/** A request that did not come from relais as it was sent; the receiver answers 401 and ignores it. */
export class WebhookVerificationError extends Error {
  override name = 'WebhookVerificationError';
  readonly code = 'UNAUTHORIZED';
  readonly reason: WebhookRefusal;

  constructor(reason: WebhookRefusal, message: string) {
    super(message);
    this.reason = reason;
  }
}

export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

export interface VerifiedWebhook {
  /** `webhook-id`: the same for every attempt of one event, to drop duplicates. */
  id: string;
  /** `webhook-timestamp`: seconds since the epoch, when this attempt was sent. */
  timestamp: number;
  /** The parsed body: `{ type, timestamp, data }`. */
  payload: unknown;
}

export interface VerifyWebhookInput {
  /** As configured in relais (`whsec_…` or the raw text), or the key bytes. */
  secret: string | Buffer;
  headers: WebhookHeaders;
  /** The body exactly as received: parse it only after checking. */
  body: string | Buffer;
  nowSeconds?: number;
  toleranceSeconds?: number;
}

function header(headers: WebhookHeaders, name: string): string {
  const value = headers instanceof Headers ? headers.get(name) : headers[name];
  if (typeof value !== 'string' || value === '') {
    throw new WebhookVerificationError('missing-header', `${name}: missing, empty or repeated`);
  }
  return value;
}

export function verifyWebhook(input: VerifyWebhookInput): VerifiedWebhook {
  const id = header(input.headers, 'webhook-id');
  const timestampText = header(input.headers, 'webhook-timestamp');
  const signatures = header(input.headers, 'webhook-signature');
  if (!/^\d{1,12}$/.test(timestampText)) {
    throw new WebhookVerificationError('bad-timestamp', 'webhook-timestamp must be whole seconds since the epoch');
  }
  const timestamp = Number(timestampText);
  const now = input.nowSeconds ?? Math.floor(Date.now() / 1000);
  const tolerance = input.toleranceSeconds ?? WEBHOOK_TOLERANCE_SECONDS;
  if (timestamp < now - tolerance) throw new WebhookVerificationError('timestamp-too-old', 'webhook-timestamp too old');
  if (timestamp > now + tolerance) {
    throw new WebhookVerificationError('timestamp-too-new', 'webhook-timestamp in the future');
  }

  const key = typeof input.secret === 'string' ? webhookKey(input.secret) : input.secret;
  const body = typeof input.body === 'string' ? Buffer.from(input.body, 'utf8') : input.body;
  const expected = createHmac('sha256', key).update(`${id}.${timestampText}.`).update(body).digest();
  // Several signatures, space-separated, while a secret is being rotated: one match is enough.
  const matches = signatures.split(' ').some((entry) => {
    const [version, encoded] = entry.split(',', 2);
    if (version !== SIGNATURE_VERSION || !encoded) return false;
    const given = Buffer.from(encoded, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matches) throw new WebhookVerificationError('bad-signature', 'webhook-signature does not match');

  let payload: unknown;
  try {
    payload = JSON.parse(body.toString('utf8'));
  } catch {
    throw new WebhookVerificationError('bad-body', 'the body is not JSON');
  }
  return { id, timestamp, payload };
}
