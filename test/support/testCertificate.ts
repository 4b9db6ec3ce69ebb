import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface TestCertificate {
  cert: string;
  key: string;
  /** base64 SHA-256 of the public key: Chromium's `--ignore-certificate-errors-spki-list` trusts this one only. */
  spki: string;
}

/**
 * A self-signed P-256 certificate made with openssl at test time, valid one day, in `dir`
 * (which the caller removes), for `address` (an IP) and, on loopback, `localhost`.
 */
export function makeTestCertificate(dir: string, address = '127.0.0.1'): TestCertificate {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  const names = address === '127.0.0.1' ? `IP:${address},DNS:localhost` : `IP:${address}`;
  const subject = address === '127.0.0.1' ? 'localhost' : address;
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      `/CN=${subject}`,
      '-addext',
      `subjectAltName=${names}`,
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'pipe' },
  );
  const der = new X509Certificate(readFileSync(cert)).publicKey.export({ type: 'spki', format: 'der' });
  return { cert, key, spki: createHash('sha256').update(der).digest('base64') };
}
