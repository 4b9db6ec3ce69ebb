/**
 * Standard Webhooks signature (https://www.standardwebhooks.com): base64 of
 * HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<body>"), sent as `v1,<signature>`.
 */
import { createHmac } from 'node:crypto';

export const SIGNATURE_VERSION = 'v1';

export function webhookSignature(key: Buffer, id: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  return `${SIGNATURE_VERSION},${mac}`;
}
