import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { issueToken, parseTtl } from '../../server/src/auth/tokenIssuer.js';
import { InMemoryRevocations } from '../../server/src/auth/revocations.js';
import { DEFAULT_MAX_TOKEN_LIFETIME_SECONDS } from '../../server/src/auth/tokenLifetime.js';
import { TokenRefused } from '../../server/src/auth/tokenRefused.js';
import { TokenVerifier } from '../../server/src/auth/tokenVerifier.js';
import { RelaisError } from '../../server/src/domain/errors.js';
import type { RefusalReason } from '../../server/src/domain/sessionEnd.js';

const SECRET = 'unit-test-secret-0123456789abcdefghijkl';
const base = { room: 'cellule-1', name: 'Claire', role: 'speaker' as const, ttlSeconds: 600 };

/** The token is refused as UNAUTHORIZED, with this stable reason and a message matching `pattern`. */
function refusal(fn: () => unknown, reason: RefusalReason, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof TokenRefused, `a TokenRefused, not ${String(error)}`);
    assert.ok(error instanceof RelaisError);
    assert.equal(error.code, 'UNAUTHORIZED');
    assert.equal(error.reason, reason);
    assert.match(error.message, pattern);
    return true;
  });
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
    refusal(() => verifier.verify(token, Date.now() + 601_000), 'expired', /expired/);
  });

  it('refuses a token signed with another key', () => {
    const token = issueToken({ algorithm: 'HS256', key: 'another-secret-another-secret-12345' }, base);
    refusal(() => verifier.verify(token), 'token-invalid', /invalid signature/);
  });

  it('refuses alg "none"', () => {
    const unsigned = jwt.sign({ ...base, sub: 'x', exp: Math.floor(Date.now() / 1000) + 60 }, '', {
      algorithm: 'none',
    });
    refusal(() => verifier.verify(unsigned), 'token-invalid', /not valid/);
  });

  it('refuses a token without the required claims', () => {
    const exp = Math.floor(Date.now() / 1000) + 60;
    const noRole = jwt.sign({ sub: 'a', name: 'A', room: 'r', exp }, SECRET);
    refusal(() => verifier.verify(noRole), 'token-invalid', /role/);
    const badRole = jwt.sign({ sub: 'a', name: 'A', room: 'r', role: 'admin', exp }, SECRET);
    refusal(() => verifier.verify(badRole), 'token-invalid', /role/);
    const noExp = jwt.sign({ sub: 'a', name: 'A', room: 'r', role: 'listener' }, SECRET);
    refusal(() => verifier.verify(noExp), 'token-invalid', /exp/);
    const badRoom = jwt.sign({ sub: 'a', name: 'A', room: '../etc', role: 'listener', exp }, SECRET);
    refusal(() => verifier.verify(badRoom), 'token-invalid', /room/);
  });

  it('refuses a missing or oversized token', () => {
    refusal(() => verifier.verify(undefined), 'token-missing', /required/);
    refusal(() => verifier.verify(''), 'token-missing', /required/);
    refusal(() => verifier.verify({ token: 'x' }), 'token-missing', /required/);
    refusal(() => verifier.verify('a'.repeat(9000)), 'token-missing', /not a JWT/);
    refusal(() => verifier.verify('not.a.jwt'), 'token-missing', /not a JWT/);
    refusal(() => verifier.verify('garbage'), 'token-missing', /not a JWT/);
  });

  it('checks issuer and audience when configured', () => {
    const strict = new TokenVerifier({ algorithm: 'HS256', key: SECRET, issuer: 'idp.interieur', audience: 'relais' });
    const good = issueToken({ algorithm: 'HS256', key: SECRET, issuer: 'idp.interieur', audience: 'relais' }, base);
    assert.equal(strict.verify(good).room, 'cellule-1');
    const wrongAudience = issueToken(
      { algorithm: 'HS256', key: SECRET, issuer: 'idp.interieur', audience: 'other' },
      base,
    );
    refusal(() => strict.verify(wrongAudience), 'token-invalid', /audience/);
    const wrongIssuer = issueToken({ algorithm: 'HS256', key: SECRET, issuer: 'elsewhere', audience: 'relais' }, base);
    refusal(() => strict.verify(wrongIssuer), 'token-invalid', /issuer/);
    const neither = issueToken({ algorithm: 'HS256', key: SECRET }, base);
    refusal(() => strict.verify(neither), 'token-invalid', /audience|issuer/);
  });

  it('refuses a revoked token id', () => {
    const token = issueToken({ algorithm: 'HS256', key: SECRET }, base);
    const jti = (jwt.decode(token) as { jti: string }).jti;
    const revoking = new TokenVerifier(
      { algorithm: 'HS256', key: SECRET },
      { isRevoked: (claims) => claims.jti === jti, retentionMs: Number.POSITIVE_INFINITY },
    );
    refusal(() => revoking.verify(token), 'revoked', /revoked/);
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
      refusal(() => asymmetric.verify(forged), 'token-invalid', /not valid/);
    });
  }
});

describe('token lifetimes', () => {
  const HOUR = 3600;
  const now = Date.UTC(2026, 10, 29, 8, 0, 0);
  const nowSeconds = now / 1000;
  const claims = { sub: 'u', name: 'U', room: 'r', role: 'listener' };
  const verifier = new TokenVerifier({ algorithm: 'HS256', key: SECRET });

  it('accepts up to 24 h by default, measured from iat', () => {
    assert.equal(verifier.maxLifetimeSeconds, 24 * HOUR);
    const day = jwt.sign({ ...claims, iat: nowSeconds, exp: nowSeconds + 24 * HOUR }, SECRET);
    assert.equal(verifier.verify(day, now).sub, 'u');
    // Issued yesterday for 25 h: only one hour is left, but its lifetime is still too long.
    const old = jwt.sign({ ...claims, iat: nowSeconds - 24 * HOUR, exp: nowSeconds + HOUR }, SECRET);
    refusal(
      () => verifier.verify(old, now),
      'lifetime-too-long',
      /valid for 25 h.*at most 24 h.*RELAIS_MAX_TOKEN_LIFETIME/,
    );
  });

  it('refuses a token valid for ten years, with or without iat', () => {
    const tenYears = 3650 * 24 * HOUR;
    const withIat = jwt.sign({ ...claims, iat: nowSeconds, exp: nowSeconds + tenYears }, SECRET);
    refusal(() => verifier.verify(withIat, now), 'lifetime-too-long', /3650 days/);
    const withoutIat = jwt.sign({ ...claims, exp: nowSeconds + tenYears }, SECRET, { noTimestamp: true });
    refusal(() => verifier.verify(withoutIat, now), 'lifetime-too-long', /at most 24 h/);
    // Without iat, what is left counts: the same token a day before it expires is accepted.
    const shortly = jwt.sign({ ...claims, exp: nowSeconds + 23 * HOUR }, SECRET, { noTimestamp: true });
    assert.equal(verifier.verify(shortly, now).iat, undefined);
  });

  it('gives no extra time to an iat dated in the future', () => {
    const future = jwt.sign({ ...claims, iat: nowSeconds + 48 * HOUR, exp: nowSeconds + 60 * HOUR }, SECRET);
    refusal(() => verifier.verify(future, now), 'lifetime-too-long', /60 h/);
  });

  it('follows the configured maximum', () => {
    const short = new TokenVerifier({ algorithm: 'HS256', key: SECRET, maxLifetimeSeconds: HOUR });
    const twoHours = jwt.sign({ ...claims, iat: nowSeconds, exp: nowSeconds + 2 * HOUR }, SECRET);
    refusal(() => short.verify(twoHours, now), 'lifetime-too-long', /valid for 2 h.*at most 1 h/);
    const week = new TokenVerifier(
      { algorithm: 'HS256', key: SECRET, maxLifetimeSeconds: 7 * 24 * HOUR },
      new InMemoryRevocations({ maxTokenLifetimeSeconds: 7 * 24 * HOUR }),
    );
    assert.equal(week.verify(twoHours, now).sub, 'u');
  });

  it('will not accept tokens that outlive the revocations it consults', () => {
    assert.throws(
      () =>
        new TokenVerifier(
          { algorithm: 'HS256', key: SECRET, maxLifetimeSeconds: 7 * 24 * HOUR },
          new InMemoryRevocations({ maxTokenLifetimeSeconds: 24 * HOUR }),
        ),
      /revocations are kept 24 h, less than the maximum token lifetime \(7 days\)/,
    );
  });

  it('an expired token is "expired", whatever its lifetime', () => {
    const long = jwt.sign({ ...claims, iat: nowSeconds - 400 * HOUR, exp: nowSeconds - HOUR }, SECRET);
    refusal(() => verifier.verify(long, now), 'expired', /expired/);
  });

  it('safeVerify answers the reason instead of throwing', () => {
    assert.deepEqual(verifier.safeVerify(undefined), {
      ok: false,
      reason: 'token-missing',
      message: 'An access token is required.',
    });
    const good = issueToken({ algorithm: 'HS256', key: SECRET }, base);
    const result = verifier.safeVerify(good);
    assert.equal(result.ok && result.claims.role, 'speaker');
  });

  it('parses operator durations and refuses nonsense or more than the maximum', () => {
    assert.equal(parseTtl('90s'), 90);
    assert.equal(parseTtl('30m'), 1800);
    assert.equal(parseTtl('2h'), 7200);
    assert.equal(parseTtl('1d'), 86400);
    assert.equal(parseTtl('45'), 45);
    assert.equal(parseTtl('24h'), DEFAULT_MAX_TOKEN_LIFETIME_SECONDS);
    assert.throws(() => parseTtl('2 weeks'), /invalid duration/);
    assert.throws(() => parseTtl('0s'), /at least 1s/);
    assert.throws(() => parseTtl('25h'), /longer than the 24 h the server accepts \(RELAIS_MAX_TOKEN_LIFETIME\)/);
    assert.equal(parseTtl('3d', 7 * 86400), 3 * 86400);
    assert.throws(() => parseTtl('8d', 7 * 86400), /longer than the 7 days/);
  });
});
