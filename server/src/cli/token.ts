/**
 * Operator CLI: mint an access token and a join link.
 *   npm run token -- --room R --name N --role speaker [--ttl 2h] [--sub ID]
 * The TTL may not exceed RELAIS_MAX_TOKEN_LIFETIME (default 24h): the server would refuse the token.
 * Signs with the server's configuration: RELAIS_JWT_SECRET (HS256), or
 * RELAIS_JWT_PRIVATE_KEY_FILE for RS256/ES256. Real deployments use their own IdP.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import jsonwebtoken from 'jsonwebtoken';
import { claimsSchema } from '../auth/claims.js';
import { issueToken, parseTtl } from '../auth/tokenIssuer.js';
import { ConfigError, loadConfig, type RelaisConfig } from '../config/config.js';
import { isRole, ROLES } from '../domain/roles.js';
import { ROOM_POLICIES, type RoomPolicy } from '../domain/roomPolicy.js';

const isPolicy = (text: string): text is RoomPolicy => (ROOM_POLICIES as readonly string[]).includes(text);

const USAGE = `usage: npm run token -- --room ROOM --name "NAME" --role ${ROLES.join('|')} [--ttl 2h] [--sub USER_ID] [--no-video] [--no-chat] [--policy ${ROOM_POLICIES.join('|')}] [--preadmitted]`;

function fail(message: string): never {
  process.stderr.write(`relais token: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function parseOptions() {
  try {
    return parseArgs({
      options: {
        room: { type: 'string' },
        name: { type: 'string' },
        role: { type: 'string' },
        ttl: { type: 'string', default: '2h' },
        sub: { type: 'string' },
        'no-video': { type: 'boolean', default: false },
        'no-chat': { type: 'boolean', default: false },
        policy: { type: 'string' },
        preadmitted: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }).values;
  } catch (error) {
    fail((error as Error).message);
  }
}

function main(): void {
  const values = parseOptions();
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (!values.room || !values.name || !values.role) fail('--room, --name and --role are required');
  if (!isRole(values.role)) fail(`--role must be one of ${ROLES.join(', ')}`);
  const policy = values.policy;
  if (policy !== undefined && !isPolicy(policy)) fail(`--policy must be one of ${ROOM_POLICIES.join(', ')}`);
  if (policy !== undefined && values.role !== 'moderator')
    fail("--policy is for a moderator (the room's first sets it)");

  let config: RelaisConfig;
  try {
    config = loadConfig();
  } catch (error) {
    fail(error instanceof ConfigError ? error.message : String(error));
  }
  const { jwt } = config;
  let key: string;
  if (jwt.algorithm === 'HS256') {
    if (!jwt.secret) fail('set RELAIS_JWT_SECRET (the same value the server uses) to sign tokens');
    key = jwt.secret;
  } else {
    const file = process.env.RELAIS_JWT_PRIVATE_KEY_FILE;
    if (!file) fail(`set RELAIS_JWT_PRIVATE_KEY_FILE to sign ${jwt.algorithm} tokens`);
    key = readFileSync(file, 'utf8');
  }
  let ttlSeconds: number;
  try {
    ttlSeconds = parseTtl(values.ttl, jwt.maxTokenLifetimeSeconds);
  } catch (error) {
    fail((error as Error).message);
  }
  const grants = {
    ...(values['no-video'] ? { publishVideo: false } : {}),
    ...(values['no-chat'] ? { chat: false } : {}),
  };
  const check = claimsSchema.pick({ room: true, name: true }).safeParse({ room: values.room, name: values.name });
  if (!check.success) fail(check.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; '));

  const token = issueToken(
    {
      algorithm: jwt.algorithm,
      key,
      ...(jwt.issuer ? { issuer: jwt.issuer } : {}),
      ...(jwt.audience ? { audience: jwt.audience } : {}),
    },
    {
      room: values.room,
      name: values.name,
      role: values.role,
      ttlSeconds,
      ...(values.sub ? { sub: values.sub } : {}),
      ...(Object.keys(grants).length ? { grants } : {}),
      ...(policy ? { policy } : {}),
      ...(values.preadmitted ? { preadmitted: true } : {}),
    },
  );
  // The ids an operator needs to revoke this token (jti) or everything of this person (sub).
  const { jti, sub } = jsonwebtoken.decode(token) as { jti: string; sub: string };
  process.stdout.write(
    `token: ${token}\njoin:  ${config.http.publicUrl}/#token=${token}\nid:    jti=${jti} sub=${sub}\n`,
  );
}

main();
