/**
 * The Socket.IO handshake through a running server configured with an issuer and an audience
 * (RELAIS_JWT_ISSUER / RELAIS_JWT_AUDIENCE): every bad token is refused before any handler runs,
 * with code UNAUTHORIZED and the stable reason a client branches on; a good token joins.
 * Bad tokens are signed here with jsonwebtoken, as a careless or hostile issuer would.
 */
import assert from 'node:assert/strict';
import jwt from 'jsonwebtoken';
import type { RefusalReason } from '../../server/src/domain/sessionEnd.js';
import type { HandshakeRefusal } from '../../server/src/signalling/catalog.js';
import { startTestServer, TEST_SECRET, type TestServer } from '../support/server.js';
import { HandshakeRefused, SignallingClient } from '../support/signallingClient.js';

const ISSUER = 'https://idp.interieur.example';
const AUDIENCE = 'relais';
const ADMIN_KEY = 'relais-admin-key-for-tests-0123456789abcdef';
const HOUR = 3600;

const now = (): number => Math.floor(Date.now() / 1000);

/** The claims of a good token; each case below spoils one thing. */
function claims(sub: string): Record<string, unknown> {
  return { sub, name: `Préfecture ${sub}`, room: 'handshake', role: 'speaker', iss: ISSUER, aud: AUDIENCE };
}

function sign(payload: Record<string, unknown>, options: jwt.SignOptions = {}): string {
  const iat = now();
  return jwt.sign({ iat, exp: iat + HOUR, ...payload }, TEST_SECRET, { algorithm: 'HS256', ...options });
}

function without(payload: Record<string, unknown>, key: string): Record<string, unknown> {
  const { [key]: _removed, ...rest } = payload;
  return rest;
}

describe('handshake: token checks through a running server (issuer and audience configured)', function () {
  this.timeout(30_000);
  let t: TestServer;
  const tokens: string[] = [];
  const clients: SignallingClient[] = [];

  /** The refusal the server answers this token with (fails the test if it connects). */
  async function refusal(token: unknown): Promise<HandshakeRefusal> {
    if (typeof token === 'string' && token.length > 20) tokens.push(token);
    let client: SignallingClient;
    try {
      client = await SignallingClient.connect(t.url, token);
    } catch (error) {
      assert.ok(error instanceof HandshakeRefused, `a typed refusal, not ${String(error)}`);
      return error.error;
    }
    client.close();
    assert.fail('the connection was accepted');
  }

  async function assertRefused(token: unknown, reason: RefusalReason, message: RegExp): Promise<void> {
    const answer = await refusal(token);
    assert.equal(answer.code, 'UNAUTHORIZED');
    assert.equal(answer.reason, reason, answer.message);
    assert.match(answer.message, message);
  }

  async function joinWith(token: string): Promise<SignallingClient> {
    tokens.push(token);
    const { client } = await SignallingClient.join(t.url, token);
    clients.push(client);
    return client;
  }

  before(async () => {
    t = await startTestServer({
      RELAIS_JWT_ISSUER: ISSUER,
      RELAIS_JWT_AUDIENCE: AUDIENCE,
      RELAIS_ADMIN_KEY: ADMIN_KEY,
    });
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });
  after(async () => {
    await t?.stop();
  });

  it('accepts a good token with the right issuer and audience, which can join', async () => {
    const client = await joinWith(sign(claims('good')));
    assert.equal(
      t.server.signalling
        .room('handshake')
        ?.members.all()
        .some((p) => p.id === 'good'),
      true,
    );
    // The test support's own tokens carry the configured iss/aud too.
    await joinWith(t.token({ room: 'handshake', role: 'listener', sub: 'cli-minted' }));
    client.close();
  });

  it('refuses an unsigned token (alg none)', async () => {
    const unsigned = jwt.sign({ ...claims('none'), iat: now(), exp: now() + HOUR }, '', { algorithm: 'none' });
    await assertRefused(unsigned, 'token-invalid', /not valid/);
  });

  it('refuses a token signed with another key', async () => {
    const forged = jwt.sign({ ...claims('forged'), exp: now() + HOUR }, 'another-secret-0123456789-abcdefghijklmn');
    await assertRefused(forged, 'token-invalid', /signature/);
  });

  it('refuses a wrong or missing audience', async () => {
    await assertRefused(sign({ ...claims('aud'), aud: 'another-service' }), 'token-invalid', /audience/);
    await assertRefused(sign(without(claims('aud'), 'aud')), 'token-invalid', /audience/);
  });

  it('refuses a wrong or missing issuer', async () => {
    await assertRefused(sign({ ...claims('iss'), iss: 'https://idp.elsewhere.example' }), 'token-invalid', /issuer/);
    await assertRefused(sign(without(claims('iss'), 'iss')), 'token-invalid', /issuer/);
  });

  it('refuses a token without sub or without name', async () => {
    await assertRefused(sign(without(claims('x'), 'sub')), 'token-invalid', /lacks valid claims: sub/);
    await assertRefused(sign(without(claims('no-name'), 'name')), 'token-invalid', /lacks valid claims: name/);
  });

  it('refuses an expired token', async () => {
    const expired = sign({ ...claims('late'), iat: now() - 2 * HOUR, exp: now() - 60 });
    await assertRefused(expired, 'expired', /expired/);
  });

  it('refuses a token valid for longer than the maximum lifetime (24 h by default)', async () => {
    await assertRefused(
      sign({ ...claims('long'), exp: now() + 25 * HOUR }),
      'lifetime-too-long',
      /valid for 25 h.*at most 24 h.*RELAIS_MAX_TOKEN_LIFETIME/,
    );
    await assertRefused(sign({ ...claims('decade'), exp: now() + 3650 * 24 * HOUR }), 'lifetime-too-long', /3650 days/);
    // Exactly the maximum is fine.
    await joinWith(sign({ ...claims('day'), exp: now() + 24 * HOUR }));
  });

  it('refuses a token revoked through the admin API', async () => {
    const token = sign({ ...claims('stolen'), jti: 'laptop-token-1' });
    await joinWith(token);
    const response = await fetch(`${t.url}/admin/revocations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ jti: 'laptop-token-1', reason: 'laptop reported stolen' }),
    });
    assert.equal(response.status, 201, await response.text());
    await assertRefused(token, 'revoked', /revoked/);
  });

  it('refuses a connection without a token, or with something that is not a JWT', async () => {
    await assertRefused(undefined, 'token-missing', /required/);
    await assertRefused('', 'token-missing', /required/);
    await assertRefused('garbage', 'token-missing', /not a JWT/);
    await assertRefused('eyJhbGciOi.not-base64!.x', 'token-missing', /not a JWT/);
  });

  it('writes an auth.failed audit line per refusal with its reason, and never a token', () => {
    const refusals = t.logs.filter((line) => line.audit === true && line.event === 'auth.failed');
    const reasons = new Set(refusals.map((line) => line.refusal));
    for (const reason of ['token-invalid', 'expired', 'lifetime-too-long', 'revoked', 'token-missing']) {
      assert.ok(reasons.has(reason), `an auth.failed line with refusal ${reason}`);
    }
    assert.ok(refusals.every((line) => typeof line.reason === 'string' && line.reason.length > 0));
    const written = JSON.stringify(t.logs);
    for (const token of tokens) assert.equal(written.includes(token), false, 'a token was logged');
    assert.ok(tokens.length >= 12);
  });
});

describe('handshake: an operator bounds token lifetimes tighter (RELAIS_MAX_TOKEN_LIFETIME=2h)', function () {
  this.timeout(30_000);
  let t: TestServer;

  before(async () => {
    t = await startTestServer({
      RELAIS_JWT_ISSUER: ISSUER,
      RELAIS_JWT_AUDIENCE: AUDIENCE,
      RELAIS_MAX_TOKEN_LIFETIME: '2h',
    });
  });
  after(async () => {
    await t?.stop();
  });

  it('refuses a 3-hour token that the default would accept, and lets a 2-hour one join', async () => {
    const long = sign({ ...claims('three-hours'), exp: now() + 3 * HOUR });
    const refused = await SignallingClient.connect(t.url, long).then(
      (client) => {
        client.close();
        return undefined;
      },
      (error: unknown) => (error instanceof HandshakeRefused ? error.error : undefined),
    );
    assert.equal(refused?.reason, 'lifetime-too-long');
    assert.match(refused?.message ?? '', /at most 2 h/);

    const { client, joined } = await SignallingClient.join(
      t.url,
      sign({ ...claims('two-hours'), exp: now() + 2 * HOUR }),
    );
    client.close();
    assert.equal(joined.self.id, 'two-hours');
  });
});
