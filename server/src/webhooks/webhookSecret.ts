/**
 * The webhook signing key. Two spellings: `whsec_<base64>` as the Standard Webhooks libraries
 * take it (the key is the decoded bytes, 24 to 64 of them), or any other text of at least 32
 * characters, whose UTF-8 bytes are the key (what `openssl rand -hex 32` prints).
 */
import { invalid } from '../domain/errors.js';

export const WHSEC_PREFIX = 'whsec_';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The key bytes, or an `INVALID_REQUEST` error that never repeats the secret. */
export function webhookKey(secret: string): Buffer {
  if (secret.startsWith(WHSEC_PREFIX)) {
    const encoded = secret.slice(WHSEC_PREFIX.length);
    const key = Buffer.from(encoded, 'base64');
    // Node's decoder skips what is not base64: check it read back to the same text.
    if (!BASE64.test(encoded) || key.toString('base64') !== encoded) {
      throw invalid('a whsec_ secret must be followed by standard base64 (with its = padding)');
    }
    if (key.length < 24 || key.length > 64) {
      throw invalid(`a whsec_ secret must decode to 24-64 bytes, not ${key.length}`);
    }
    return key;
  }
  if (secret.length < 32) throw invalid('the webhook secret must be at least 32 characters (or whsec_<base64>)');
  return Buffer.from(secret, 'utf8');
}
