import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { TokenVerifier } from '../../server/src/auth/tokenVerifier.js';

const SECRET = 'cli-test-secret-0123456789-abcdefghijklmnop';

function runCli(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'server/src/cli/token.ts', ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', ...env },
    timeout: 30_000,
  });
}

describe('token CLI (npm run token)', function () {
  this.timeout(60_000);

  it('prints a token the server accepts and a join link carrying it in the fragment', () => {
    const result = runCli(
      ['--room', 'cellule-crise', '--name', 'Préfète Martin', '--role', 'moderator', '--ttl', '30m'],
      {
        RELAIS_JWT_SECRET: SECRET,
        RELAIS_PUBLIC_URL: 'https://relais.example.gouv.fr',
      },
    );
    assert.equal(result.status, 0, result.stderr);
    const token = /^token: (\S+)$/m.exec(result.stdout)?.[1];
    assert.ok(token);
    assert.match(
      result.stdout,
      new RegExp(`^join:  https://relais\\.example\\.gouv\\.fr/#token=${token.replace(/\./g, '\\.')}$`, 'm'),
    );
    const claims = new TokenVerifier({ algorithm: 'HS256', key: SECRET }).verify(token);
    assert.equal(claims.name, 'Préfète Martin');
    assert.equal(claims.role, 'moderator');
    assert.ok(claims.exp - Math.floor(Date.now() / 1000) <= 1800);
    // What an operator pastes into the admin API to revoke this token or this person.
    assert.match(result.stdout, new RegExp(`^id:    jti=${claims.jti} sub=${claims.sub}$`, 'm'));
  });

  it('refuses a TTL above the maximum token lifetime the server accepts, and follows its configuration', () => {
    const tooLong = runCli(['--room', 'r', '--name', 'n', '--role', 'listener', '--ttl', '30d'], {
      RELAIS_JWT_SECRET: SECRET,
    });
    assert.equal(tooLong.status, 2);
    assert.equal(tooLong.stdout, '', 'no token is printed');
    assert.match(tooLong.stderr, /"30d" is longer than the 24 h the server accepts \(RELAIS_MAX_TOKEN_LIFETIME\)/);

    const week = runCli(['--room', 'r', '--name', 'n', '--role', 'listener', '--ttl', '2d'], {
      RELAIS_JWT_SECRET: SECRET,
      RELAIS_MAX_TOKEN_LIFETIME: '7d',
    });
    assert.equal(week.status, 0, week.stderr);
    const token = /^token: (\S+)$/m.exec(week.stdout)?.[1];
    assert.ok(token);
    const claims = new TokenVerifier({ algorithm: 'HS256', key: SECRET, maxLifetimeSeconds: 7 * 86_400 }).verify(token);
    assert.equal(claims.exp - (claims.iat ?? 0), 2 * 86_400);
  });

  it('names the room policy in a moderator’s token and marks a guest pre-admitted', () => {
    const verifier = new TokenVerifier({ algorithm: 'HS256', key: SECRET });
    const tokenOf = (stdout: string) => /^token: (\S+)$/m.exec(stdout)?.[1] ?? '';
    const chief = runCli(['--room', 'r', '--name', 'Chef', '--role', 'moderator', '--policy', 'lobby'], {
      RELAIS_JWT_SECRET: SECRET,
    });
    assert.equal(chief.status, 0, chief.stderr);
    assert.equal(verifier.verify(tokenOf(chief.stdout)).policy, 'lobby');
    const guest = runCli(['--room', 'r', '--name', 'Invité', '--role', 'speaker', '--preadmitted'], {
      RELAIS_JWT_SECRET: SECRET,
    });
    assert.equal(verifier.verify(tokenOf(guest.stdout)).preadmitted, true);
    const badPolicy = runCli(['--room', 'r', '--name', 'n', '--role', 'moderator', '--policy', 'closed'], {
      RELAIS_JWT_SECRET: SECRET,
    });
    assert.equal(badPolicy.status, 2);
    assert.match(badPolicy.stderr, /--policy must be one of open, lobby, locked/);
    const notModerator = runCli(['--room', 'r', '--name', 'n', '--role', 'speaker', '--policy', 'locked'], {
      RELAIS_JWT_SECRET: SECRET,
    });
    assert.equal(notModerator.status, 2);
    assert.match(notModerator.stderr, /--policy is for a moderator/);
  });

  it('explains what is wrong instead of minting a bad token', () => {
    const badRole = runCli(['--room', 'r', '--name', 'n', '--role', 'admin'], { RELAIS_JWT_SECRET: SECRET });
    assert.equal(badRole.status, 2);
    assert.match(badRole.stderr, /--role must be one of moderator, speaker, listener/);
    const noKey = runCli(['--room', 'r', '--name', 'n', '--role', 'listener']);
    assert.equal(noKey.status, 2);
    assert.match(noKey.stderr, /RELAIS_JWT_SECRET/);
    const badRoom = runCli(['--room', 'a room', '--name', 'n', '--role', 'listener'], { RELAIS_JWT_SECRET: SECRET });
    assert.equal(badRoom.status, 2);
    assert.match(badRoom.stderr, /--room/);
  });
});
