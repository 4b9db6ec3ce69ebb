/** Composition root: configuration → logger → server; prints demo links on a first run. */
import { issueToken } from './auth/tokenIssuer.js';
import { ConfigError, loadConfig } from './config/config.js';
import { ROLES } from './domain/roles.js';
import { createLogger } from './observability/logger.js';
import { RelaisServer } from './RelaisServer.js';

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`relais: ${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
  const logger = createLogger({ level: config.log.level, pretty: config.log.pretty });
  // A bug in one request must not take every meeting down with it: log loudly, keep serving.
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection'));
  // A drained node stops (`stop` is defined below; a drain only starts once it is).
  const server = new RelaisServer({ config, logger, onDrained: () => stop('drained') });
  await server.start();

  const issuerKey = server.issuerKey;
  if (server.usesThrowawayKey && issuerKey) {
    logger.warn('No RELAIS_JWT_SECRET configured: using a throw-away key for this run (development only).');
    const links = ROLES.map((role) => {
      const token = issueToken(issuerKey, {
        room: config.rooms.demoRoom,
        name: `Demo ${role}`,
        role,
        // Four hours, or less when the operator bounds token lifetimes tighter.
        ttlSeconds: Math.min(4 * 3600, config.jwt.maxTokenLifetimeSeconds),
      });
      return `  ${role.padEnd(9)} ${server.url}/#token=${token}`;
    });
    process.stdout.write(
      `\nrelais demo room "${config.rooms.demoRoom}" — open one link per browser window:\n${links.join('\n')}\n\n`,
    );
  }

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: ending sessions and closing workers');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    server.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  // SIGTERM (an orchestrator, systemd) on a clustered node: drain first — participants move to
  // other nodes, or are told the service restarts when there is none — then stop. Alone, or
  // on Ctrl-C, it stops at once.
  process.on('SIGTERM', () => {
    if (stopping) return;
    // Alone (no cluster), there is nowhere to move anyone: stop at once.
    if (!config.redis) {
      stop('SIGTERM');
      return;
    }
    logger.info({ signal: 'SIGTERM' }, 'draining before stopping');
    setTimeout(() => stop('drain timeout'), (config.cluster.drain.timeoutSeconds + 5) * 1000).unref();
    void server.drain();
  });
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`relais: failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
