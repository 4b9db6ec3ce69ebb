/** Revocation rules, as pure logic: which tokens a revocation refuses, and for how long. */
import assert from 'node:assert/strict';
import jwt from 'jsonwebtoken';
import { InMemoryRevocations, MAX_REVOCATIONS } from '../../server/src/auth/revocations.js';
import { DEFAULT_MAX_TOKEN_LIFETIME_SECONDS } from '../../server/src/auth/tokenLifetime.js';
import { TokenRefused } from '../../server/src/auth/tokenRefused.js';
import { TokenVerifier } from '../../server/src/auth/tokenVerifier.js';
import type { RelaisError } from '../../server/src/domain/errors.js';

const T0 = Date.UTC(2026, 10, 29, 8, 0, 0);
const seconds = (ms: number): number => Math.floor(ms / 1000);
const MAX_TOKEN_LIFETIME_MS = DEFAULT_MAX_TOKEN_LIFETIME_SECONDS * 1000;
const SECRET = 'unit-test-secret-0123456789abcdefghijkl';

/** Why the verifier refuses this token at `now`, or 'accepted'. */
function outcome(verifier: TokenVerifier, token: string, now: number): string {
  try {
    verifier.verify(token, now);
    return 'accepted';
  } catch (error) {
    return error instanceof TokenRefused ? error.reason : String(error);
  }
}

describe('revocations', () => {
  it('refuses exactly the revoked token id', () => {
    const list = new InMemoryRevocations();
    list.revoke({ jti: 'token-a' }, { now: T0 });
    assert.equal(list.isRevoked({ sub: 'alice', jti: 'token-a', iat: seconds(T0) - 60 }, T0 + 1), true);
    assert.equal(list.isRevoked({ sub: 'alice', jti: 'token-b', iat: seconds(T0) - 60 }, T0 + 1), false);
    assert.equal(list.isRevoked({ sub: 'alice' }, T0 + 1), false, 'a token without jti is not hit by a jti revocation');
  });

  it('refuses every token of a revoked person issued up to the revocation, and accepts a later one', () => {
    const list = new InMemoryRevocations();
    list.revoke({ sub: 'laptop-3' }, { now: T0 + 500 });
    assert.equal(list.isRevoked({ sub: 'laptop-3', jti: 'old', iat: seconds(T0) - 3600 }, T0 + 600), true);
    assert.equal(list.isRevoked({ sub: 'laptop-3', jti: 'same-second', iat: seconds(T0) }, T0 + 600), true);
    assert.equal(list.isRevoked({ sub: 'laptop-3' }, T0 + 600), true, 'no iat: cannot prove it is newer');
    assert.equal(list.isRevoked({ sub: 'laptop-3', jti: 'new', iat: seconds(T0) + 1 }, T0 + 2000), false);
    assert.equal(list.isRevoked({ sub: 'someone-else', iat: seconds(T0) - 3600 }, T0 + 600), false);
  });

  it('forgets a revocation once no token it could match is still valid', () => {
    const list = new InMemoryRevocations();
    list.revoke({ jti: 'token-a' }, { now: T0 });
    list.revoke({ sub: 'bob' }, { now: T0 + 1000 });
    assert.equal(list.list(T0 + MAX_TOKEN_LIFETIME_MS - 1).length, 2);
    assert.deepEqual(
      list.list(T0 + MAX_TOKEN_LIFETIME_MS).map((r) => r.target),
      [{ sub: 'bob' }],
    );
    assert.equal(list.isRevoked({ sub: 'x', jti: 'token-a' }, T0 + MAX_TOKEN_LIFETIME_MS), false);
    assert.equal(list.size, 1);
  });

  it('keeps every revocation at least as long as the longest token it could match (24 h by default)', () => {
    const list = new InMemoryRevocations();
    assert.equal(list.retentionMs, MAX_TOKEN_LIFETIME_MS);
    assert.equal(list.revoke({ jti: 'x' }, { now: T0 }).forgetAt, T0 + MAX_TOKEN_LIFETIME_MS);
  });

  for (const lifetimeSeconds of [DEFAULT_MAX_TOKEN_LIFETIME_SECONDS, 7 * 86_400]) {
    it(`a revoked token never comes back to life (max lifetime ${lifetimeSeconds / 3600} h)`, () => {
      const list = new InMemoryRevocations({ maxTokenLifetimeSeconds: lifetimeSeconds });
      const verifier = new TokenVerifier(
        { algorithm: 'HS256', key: SECRET, maxLifetimeSeconds: lifetimeSeconds },
        list,
      );
      // The longest-lived tokens the verifier accepts, issued just before the revocations.
      const iat = seconds(T0);
      const person = { name: 'Lost laptop', room: 'r', role: 'listener', exp: iat + lifetimeSeconds };
      const claims = { ...person, iat };
      const byId = jwt.sign({ ...claims, sub: 'a', jti: 'stolen' }, SECRET);
      const byPerson = jwt.sign({ ...claims, sub: 'laptop-3' }, SECRET);
      const byPersonNoIat = jwt.sign({ ...person, sub: 'laptop-3' }, SECRET, { noTimestamp: true });
      assert.equal(outcome(verifier, byId, T0), 'accepted');
      list.revoke({ jti: 'stolen' }, { now: T0 + 400 });
      list.revoke({ sub: 'laptop-3' }, { now: T0 + 400 });
      const end = (iat + lifetimeSeconds) * 1000;
      for (const now of [T0 + 500, T0 + 3_600_000, end - 60_000, end - 1]) {
        assert.equal(outcome(verifier, byId, now), 'revoked', `by id at +${now - T0} ms`);
        assert.equal(outcome(verifier, byPerson, now), 'revoked', `by person at +${now - T0} ms`);
        assert.equal(outcome(verifier, byPersonNoIat, now), 'revoked', `by person, no iat, at +${now - T0} ms`);
      }
      // The revocations are forgotten only once the tokens are dead anyway.
      for (const now of [end, end + 1000, end + 30 * 86_400_000]) {
        assert.equal(outcome(verifier, byId, now), 'expired');
        assert.equal(outcome(verifier, byPerson, now), 'expired');
      }
      assert.equal(list.list(end + 400).length, 0);
    });
  }

  it('revoking again renews the entry instead of adding one', () => {
    const list = new InMemoryRevocations();
    list.revoke({ jti: 'token-a' }, { now: T0 });
    list.revoke({ jti: 'token-b' }, { now: T0 + 10 });
    const renewed = list.revoke({ jti: 'token-a' }, { now: T0 + 20, reason: 'again' });
    assert.equal(list.size, 2);
    assert.equal(renewed.reason, 'again');
    // Renewed entries move to the end, so expiry still walks them in order.
    assert.deepEqual(
      list.list(T0 + MAX_TOKEN_LIFETIME_MS + 15).map((r) => r.target),
      [{ jti: 'token-a' }],
    );
  });

  it('refuses a revocation beyond its bound with a typed error and keeps the others', () => {
    const list = new InMemoryRevocations();
    for (let i = 0; i < MAX_REVOCATIONS; i += 1) list.revoke({ jti: `t${i}` }, { now: T0 });
    assert.throws(
      () => list.revoke({ sub: 'one-too-many' }, { now: T0 }),
      (e: RelaisError) => e.code === 'CONFLICT',
    );
    assert.equal(list.size, MAX_REVOCATIONS);
    assert.equal(list.isRevoked({ sub: 'one-too-many' }, T0), false);
    list.revoke({ jti: 't0' }, { now: T0 + 1 });
    assert.equal(list.size, MAX_REVOCATIONS, 'renewing an existing entry is still allowed');
  });
});
