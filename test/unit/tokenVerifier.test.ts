import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { issueToken, parseTtl } from '../../server/src/auth/tokenIssuer.js';
import { TokenVerifier } from '../../server/src/auth/tokenVerifier.js';
import { RelaisError } from '../../server/src/domain/errors.js';

const SECRET = 'unit-test-secret-0123456789abcdefghijkl';
const base = { room: 'cellule-1', name: 'Claire', role: 'speaker' as const, ttlSeconds: 600 };

function refusal(fn: () => unknown, pattern: RegExp): void {
  assert.throws(
    fn,
    (error: unknown) => error instanceof RelaisError && error.code === 'UNAUTHORIZED' && pattern.test(error.message),
  );
}

describe('token verification', () => {
  const verifier = new TokenVerifier({ algorithm: 'HS256', key: SECRET });

  it('accepts a valid token and returns its claims', () => {
    const token = issueToken({ algorithm: 'HS256', key: SECRET }, { ...base, sub: 'u-1' });
    const claims = verifier.verify(token);
    assert.equal(claims.sub, 'u-1');
    assert.equal(claims.room, 'cellule-1');
    assert.equal(claims.role, 'speaker');
    assert.equal(claims.name, 'Claire');
  });

  it('refuses an expired token', () => {
    const token = issueToken({ algorithm: 'HS256', key: SECRET }, base);
    refusal(() => verifier.verify(token, Date.now() + 601_000), /expired/);
  });

  it('refuses a token signed with another key', () => {
    const token = issueToken({ algorithm: 'HS256', key: 'another-secret-another-secret-12345' }, base);
    refusal(() => verifier.verify(token), /invalid signature/);
  });

  it('refuses alg "none"', () => {
    const unsigned = jwt.sign({ ...base, sub: 'x', exp: Math.floor(Date.now() / 1000) + 60 }, '', {
      algorithm: 'none',
    });
    refusal(() => verifier.verify(unsigned), /not valid/);
  });

  it('refuses a token without the required claims', () => {
    const exp = Math.floor(Date.now() / 1000) + 60;
    const noRole = jwt.sign({ sub: 'a', name: 'A', room: 'r', exp }, SECRET);
    refusal(() => verifier.verify(noRole), /role/);
    const badRole = jwt.sign({ sub: 'a', name: 'A', room: 'r', role: 'admin', exp }, SECRET);
    refusal(() => verifier.verify(badRole), /role/);
    const noExp = jwt.sign({ sub: 'a', name: 'A', room: 'r', role: 'listener' }, SECRET);
    refusal(() => verifier.verify(noExp), /exp/);
    const badRoom = jwt.sign({ sub: 'a', name: 'A', room: '../etc', role: 'listener', exp }, SECRET);
    refusal(() => verifier.verify(badRoom), /room/);
  });

  it('refuses a missing or oversized token', () => {
    refusal(() => verifier.verify(undefined), /required/);
    refusal(() => verifier.verify(''), /required/);
    refusal(() => verifier.verify('a'.repeat(9000)), /required/);
    refusal(() => verifier.verify('not.a.jwt'), /not valid/);
  });

  it('checks issuer and audience when configured', () => {
    const strict = new TokenVerifier({ algorithm: 'HS256', key: SECRET, issuer: 'idp.interieur', audience: 'relais' });
    const good = issueToken({ algorithm: 'HS256', key: SECRET, issuer: 'idp.interieur', audience: 'relais' }, base);
    assert.equal(strict.verify(good).room, 'cellule-1');
    const wrongAudience = issueToken(
      { algorithm: 'HS256', key: SECRET, issuer: 'idp.interieur', audience: 'other' },
      base,
    );
    refusal(() => strict.verify(wrongAudience), /audience/);
    const wrongIssuer = issueToken({ algorithm: 'HS256', key: SECRET, issuer: 'elsewhere', audience: 'relais' }, base);
    refusal(() => strict.verify(wrongIssuer), /issuer/);
  });

  it('refuses a revoked token id', () => {
    const token = issueToken({ algorithm: 'HS256', key: SECRET }, base);
    const jti = (jwt.decode(token) as { jti: string }).jti;
    const revoking = new TokenVerifier(
      { algorithm: 'HS256', key: SECRET },
      { isRevoked: (claims) => claims.jti === jti },
    );
    refusal(() => revoking.verify(token), /revoked/);
  });

  for (const algorithm of ['RS256', 'ES256'] as const) {
    it(`verifies ${algorithm} with a public key and refuses an HS256 token forged with that public key`, () => {
      const { publicKey, privateKey } =
        algorithm === 'RS256'
          ? generateKeyPairSync('rsa', { modulusLength: 2048 })
          : generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      const asymmetric = new TokenVerifier({ algorithm, key: publicPem });
      assert.equal(asymmetric.verify(issueToken({ algorithm, key: privatePem }, base)).role, 'speaker');
      // Algorithm confusion: HMAC keyed with the public key must not pass.
      const forged = jwt.sign({ ...base, sub: 'x', exp: Math.floor(Date.now() / 1000) + 60 }, publicPem, {
        algorithm: 'HS256',
      });
      refusal(() => asymmetric.verify(forged), /not valid/);
    });
  }
});

describe('token lifetimes', () => {
  it('parses operator durations and refuses nonsense', () => {
    assert.equal(parseTtl('90s'), 90);
    assert.equal(parseTtl('30m'), 1800);
    assert.equal(parseTtl('2h'), 7200);
    assert.equal(parseTtl('1d'), 86400);
    assert.equal(parseTtl('45'), 45);
    assert.throws(() => parseTtl('2 weeks'), /invalid duration/);
    assert.throws(() => parseTtl('0s'), /between/);
    assert.throws(() => parseTtl('31d'), /between/);
  });
});
