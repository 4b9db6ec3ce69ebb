import { Writable } from 'node:stream';
import { loadConfig } from '../server/src/config/config.js';
import { createLogger } from '../server/src/observability/logger.js';
import { RelaisServer } from '../server/src/RelaisServer.js';
import { freePortRange } from './freePorts.js';
import { mintTestToken, type TestTokenRequest } from './testTokens.js';

/** The development signing key of a local relais: tests and the load generator mint with it. */
export const LOCAL_SECRET = 'relais-test-secret-0123456789-abcdefghijklmnop';

export interface LocalRelais {
  server: RelaisServer;
  url: string;
  /** Every JSON log line the server wrote, parsed (empty when the logs go to stderr). */
  logs: Record<string, unknown>[];
  /** The same lines as written, for checks JSON.parse would hide (a key written twice). */
  rawLogs: string[];
  token(request: TestTokenRequest): string;
  stop(): Promise<void>;
}

/**
 * The real server (real mediasoup workers) in this process, on free loopback ports, signing
 * with LOCAL_SECRET. Logs are captured in `logs` (tests read them), or written to stderr.
 */
export async function startLocalRelais(
  env: Record<string, string> = {},
  options: { logs: 'capture' | 'stderr' } = { logs: 'capture' },
): Promise<LocalRelais> {
  const workers = Number(env.RELAIS_WORKERS ?? '1');
  const portBase = await freePortRange(workers);
  const config = loadConfig({
    RELAIS_ENV: 'development',
    RELAIS_HTTP_PORT: '0',
    RELAIS_RTC_PORT_BASE: String(portBase),
    RELAIS_WORKERS: String(workers),
    RELAIS_JWT_SECRET: LOCAL_SECRET,
    RELAIS_LOG_LEVEL: 'info',
    ...env,
  });
  const logs: Record<string, unknown>[] = [];
  const rawLogs: string[] = [];
  const destination =
    options.logs === 'capture'
      ? new Writable({
          write(chunk: Buffer, _encoding, callback) {
            for (const line of chunk.toString('utf8').split('\n')) {
              if (!line.trim()) continue;
              rawLogs.push(line);
              logs.push(JSON.parse(line) as Record<string, unknown>);
            }
            callback();
          },
        })
      : process.stderr;
  const logger = createLogger({ level: config.log.level, pretty: false, destination });
  const server = new RelaisServer({ config, logger });
  await server.start();
  const key = server.issuerKey;
  if (!key) {
    await server.stop();
    throw new Error('a local relais signs with HS256: it should have an issuer key');
  }
  let stopped = false;
  return {
    server,
    url: server.url,
    logs,
    rawLogs,
    token: (request) => mintTestToken(key, request),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await server.stop();
    },
  };
}
