/** Revocation rules, as pure logic: which tokens a revocation refuses, and for how long. */
import assert from 'node:assert/strict';
import { InMemoryRevocations, MAX_REVOCATIONS, MAX_TOKEN_LIFETIME_MS } from '../../server/src/auth/revocations.js';
import { RelaisError } from '../../server/src/domain/errors.js';

const T0 = Date.UTC(2026, 10, 29, 8, 0, 0);
const seconds = (ms: number): number => Math.floor(ms / 1000);

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
